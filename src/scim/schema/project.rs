//! Output projection: which attributes of a stored resource a response
//! carries, from their `returned` characteristic (RFC 7643 §7) and the
//! `attributes` / `excludedAttributes` parameters (RFC 7644 §3.4.2.5, §3.9).
//!
//! Rules, applied to top-level attributes and then to sub-attributes:
//! - `never` (password) is never output; `always` (`id`) always is, whatever
//!   the parameters say.
//! - `request` is output only when `attributes` names it (or, for a
//!   sub-attribute, its parent or the sub-attribute itself).
//! - `default` is output unless excluded, and, when `attributes` is given,
//!   only if named there. Naming `name.givenName` outputs `name` with only
//!   `givenName` (and always-returned sub-attributes); naming `emails`
//!   outputs all of emails.
//! - A bare schema URN names every attribute of that schema.
//! - Names that resolve to nothing are ignored rather than rejected: RFC 7644
//!   names no error for them, and clients (Entra ID) ask for attributes a
//!   server may not have.
//! - `schemas` is rebuilt to list the core schema and the extensions that
//!   remain; an extension left empty is omitted.

use serde_json::{Map, Value};

use super::common::SCHEMAS_ATTR;
use super::registry::Registry;
use super::types::{AttributeDef, ResourceTypeDef, Returned};
use super::values::get_ci;
use crate::scim::error::ScimResult;
use crate::scim::path::AttrPath;

/// Parses an `attributes` or `excludedAttributes` value: comma-separated
/// attribute paths, whitespace around entries ignored, empty entries skipped.
/// A malformed entry is an `invalidPath` error (RFC 7644 names no scimType
/// for these parameters; each entry is an attribute path, so a bad one is an
/// invalid path).
///
/// # Errors
///
/// `invalidPath` (400) naming the first malformed entry.
pub fn parse_attr_list(text: &str) -> ScimResult<Vec<AttrPath>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(AttrPath::parse)
        .collect()
}

/// Projects a stored document (with `id` and `meta` attached) for output.
pub fn project(
    reg: &Registry,
    rt: &ResourceTypeDef,
    doc: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let sel = Selection::new(reg, rt, attributes, excluded);
    let empty = Map::new();
    let doc = doc.as_object().unwrap_or(&empty);

    let core_defs = reg.common_attributes().iter().chain(
        reg.schema(rt.schema)
            .into_iter()
            .flat_map(|s| &s.attributes),
    );
    let mut out = sel.project_members(rt.schema, core_defs, doc);

    let mut schemas = vec![Value::String(rt.schema.to_string())];
    for ext in &rt.extensions {
        let (Some(def), Some(Value::Object(members))) =
            (reg.schema(ext.schema), get_ci(doc, ext.schema))
        else {
            continue;
        };
        let projected = sel.project_members(ext.schema, def.attributes.iter(), members);
        if !projected.is_empty() {
            out.insert(ext.schema.to_string(), Value::Object(projected));
            schemas.push(Value::String(ext.schema.to_string()));
        }
    }
    out.insert(SCHEMAS_ATTR.to_string(), Value::Array(schemas));
    Value::Object(out)
}

/// Whether the top-level attribute `top_level_name` (optionally
/// URN-qualified) would appear in the output of [`project`] with these
/// parameters, so the store can skip loading `members` or `groups`. Names
/// that do not resolve for `rt` are never needed.
pub fn needs_attribute(
    reg: &Registry,
    rt: &ResourceTypeDef,
    top_level_name: &str,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> bool {
    let Ok(path) = AttrPath::parse(top_level_name) else {
        return false;
    };
    let Some(resolved) = reg.resolve(rt, &path) else {
        return false;
    };
    Selection::new(reg, rt, attributes, excluded).includes(resolved.schema, resolved.attr)
}

/// One entry of `attributes` or `excludedAttributes`, resolved to canonical
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target<'r> {
    Schema(&'r str),
    Attr {
        schema: &'r str,
        attr: &'r str,
        sub: Option<&'r str>,
    },
}

struct Selection<'r> {
    requested: Vec<Target<'r>>,
    excluded: Vec<Target<'r>>,
    /// `attributes` was given, even if none of it resolved: then only what
    /// it names (plus `always`) is output.
    restricted: bool,
}

fn resolve_targets<'r>(
    reg: &'r Registry,
    rt: &'r ResourceTypeDef,
    paths: &[AttrPath],
) -> Vec<Target<'r>> {
    paths
        .iter()
        .filter_map(|p| {
            if let Some(schema) = reg.whole_schema(rt, p) {
                return Some(Target::Schema(schema));
            }
            let r = reg.resolve(rt, p)?;
            Some(Target::Attr {
                schema: r.schema,
                attr: r.attr.name,
                sub: r.sub.map(|s| s.name),
            })
        })
        .collect()
}

/// How a list mentions one attribute.
#[derive(Debug, Default)]
struct Mention<'r> {
    /// The attribute itself or its whole schema.
    whole: bool,
    /// Sub-attributes named individually.
    subs: Vec<&'r str>,
}

impl<'r> Mention<'r> {
    fn any(&self) -> bool {
        self.whole || !self.subs.is_empty()
    }

    fn names_sub(&self, sub: &str) -> bool {
        self.whole || self.subs.contains(&sub)
    }
}

fn mention<'r>(targets: &[Target<'r>], schema: &str, attr: &str) -> Mention<'r> {
    let mut m = Mention::default();
    for t in targets {
        match *t {
            Target::Schema(s) if s == schema => m.whole = true,
            Target::Attr {
                schema: s,
                attr: a,
                sub,
            } if s == schema && a == attr => match sub {
                None => m.whole = true,
                Some(sub) => m.subs.push(sub),
            },
            _ => {}
        }
    }
    m
}

impl<'r> Selection<'r> {
    fn new(
        reg: &'r Registry,
        rt: &'r ResourceTypeDef,
        attributes: &[AttrPath],
        excluded: &[AttrPath],
    ) -> Self {
        Selection {
            requested: resolve_targets(reg, rt, attributes),
            excluded: resolve_targets(reg, rt, excluded),
            restricted: !attributes.is_empty(),
        }
    }

    fn includes(&self, schema: &str, def: &AttributeDef) -> bool {
        let requested = mention(&self.requested, schema, def.name);
        let excluded = mention(&self.excluded, schema, def.name);
        match def.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Request => requested.any() && !excluded.whole,
            Returned::Default => (!self.restricted || requested.any()) && !excluded.whole,
        }
    }

    fn project_members<'d>(
        &self,
        schema: &str,
        defs: impl Iterator<Item = &'d AttributeDef>,
        members: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for def in defs {
            let Some(value) = get_ci(members, def.name).filter(|v| !v.is_null()) else {
                continue;
            };
            if !self.includes(schema, def) {
                continue;
            }
            let projected = if def.is_complex() {
                self.project_complex(schema, def, value)
            } else {
                Some(value.clone())
            };
            if let Some(v) = projected {
                out.insert(def.name.to_string(), v);
            }
        }
        out
    }

    /// Filters the sub-attributes of an included complex attribute; `None`
    /// when nothing is left.
    fn project_complex(&self, schema: &str, def: &AttributeDef, value: &Value) -> Option<Value> {
        let requested = mention(&self.requested, schema, def.name);
        let excluded = mention(&self.excluded, schema, def.name);
        // Only listed sub-attributes when the parent was named solely through them.
        let narrowed = !requested.whole && requested.any();
        let keep = |sub: &AttributeDef| match sub.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Request => requested.names_sub(sub.name),
            Returned::Default => {
                (!narrowed || requested.names_sub(sub.name)) && !excluded.subs.contains(&sub.name)
            }
        };
        let filter = |element: &Value| -> Option<Value> {
            let members = element.as_object()?;
            let kept: Map<String, Value> = def
                .sub_attributes
                .iter()
                .filter(|sub| keep(sub))
                .filter_map(|sub| {
                    let v = get_ci(members, sub.name).filter(|v| !v.is_null())?;
                    Some((sub.name.to_string(), v.clone()))
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items.iter().filter_map(filter).collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            single => filter(single),
        }
    }
}

#[cfg(test)]
mod tests;
