//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).
//!
//! This module owns the filter AST and its public entry points. The work is
//! split by concern:
//! - `parse` / `literal`: text → AST, with byte-offset error messages;
//! - `display`: AST → canonical text that parses back to the same AST;
//! - `patch_path`: the `PATH` grammar of PATCH operations;
//! - `check`: type checking of a filter against the schema (via a callback);
//! - `eval`: evaluating a filter against a SCIM JSON document;
//! - `vocabulary`: attribute kinds from the schema registry, shared by every
//!   engine;
//! - `restrict`: a filter as one resource type sees it, with the attributes
//!   it does not define taken as absent (for `/.search` at the root).
//!
//! Everything here is pure: no I/O, and no knowledge of where the schema or
//! the resources live.

mod check;
mod display;
mod eval;
mod literal;
mod parse;
mod patch_path;
mod restrict;
mod vocabulary;

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod parse_tests;

use super::error::ScimResult;
use super::path::AttrPath;
use super::profile::Profile;

pub use check::check;
pub use eval::{matches, matches_element, AttrKind};
pub use patch_path::{parse_patch_path, PatchPath};
pub use restrict::{check_defined, restrict, Restricted};
pub use vocabulary::{is_schemas, kind_of, lookup, matches_resource, qualify, SCHEMAS_KIND};

/// Longest filter (or PATCH path) text accepted, in bytes. Real clients send a
/// few hundred bytes at most; the cap bounds the work a single request can ask
/// for.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting accepted. Each `(…)`, `not (…)` and `attr[…]` is one level.
/// The parser recurses once per level, so this is also its stack bound.
pub const MAX_FILTER_DEPTH: usize = 32;

/// `compareOp` of RFC 7644 §3.4.2.2 (`pr` is not here: it takes no value and
/// is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The canonical (lower-case) keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Case-insensitive keyword lookup, as the RFC requires.
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

/// `compValue` of RFC 7644 §3.4.2.2: a JSON literal other than an array or
/// object.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`
    Compare(AttrPath, CompareOp, CompValue),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work" and value co "@x"]`: the inner filter's paths are
    /// relative to the outer attribute (their `attr` is the sub-attribute
    /// name, urn None).
    ValuePath(AttrPath, Box<Filter>),
}

impl Filter {
    /// Parses the `filter` query parameter (or `/.search` body member),
    /// with the grammar extensions `profile` allows. Every failure is `400
    /// invalidFilter` with a detail naming the byte offset and what was
    /// expected there.
    pub fn parse(text: &str, profile: Profile) -> ScimResult<Filter> {
        parse::parse_filter(text, profile)
    }

    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;

    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}
