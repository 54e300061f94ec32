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
/// Borrowing form of [`project_owned`]: copies the document once.
pub fn project(
    reg: &Registry,
    rt: &ResourceTypeDef,
    doc: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let doc = doc.as_object().cloned().unwrap_or_default();
    project_owned(reg, rt, doc, attributes, excluded)
}

/// [`project`], moving the kept values out of `doc` rather than copying
/// them: a list page renders every resource on it, and copying each value
/// twice (into the full representation, then into the projected one) was
/// most of a 100-user page's CPU time.
pub fn project_owned(
    reg: &Registry,
    rt: &ResourceTypeDef,
    mut doc: Map<String, Value>,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let sel = Selection::new(reg, rt, attributes, excluded);
    // The extensions and `schemas` leave first, so that after the core pass
    // anything left in `doc` is a name not spelt as defined.
    let mut extensions = Vec::new();
    for ext in &rt.extensions {
        if let Some(v) = take_ci(&mut doc, ext.schema) {
            extensions.push((ext.schema, v));
        }
    }
    doc.remove(SCHEMAS_ATTR);

    let core_defs = reg.common_attributes().iter().chain(
        reg.schema(rt.schema)
            .into_iter()
            .flat_map(|s| &s.attributes),
    );
    let mut out = sel.project_members(rt.schema, core_defs, doc);

    let mut schemas = vec![Value::String(rt.schema.to_string())];
    for (schema, members) in extensions {
        let (Some(def), Value::Object(members)) = (reg.schema(schema), members) else {
            continue;
        };
        let projected = sel.project_members(schema, def.attributes.iter(), members);
        if !projected.is_empty() {
            out.insert(schema.to_string(), Value::Object(projected));
            schemas.push(Value::String(schema.to_string()));
        }
    }
    out.insert(SCHEMAS_ATTR.to_string(), Value::Array(schemas));
    Value::Object(out)
}

/// Removes `name` from `map`, matched as spelt or else case-insensitively
/// (attribute names are case-insensitive, RFC 7643 §2.1).
fn take_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    if let Some(v) = map.remove(name) {
        return Some(v);
    }
    let key = map.keys().find(|k| k.eq_ignore_ascii_case(name))?.clone();
    map.remove(&key)
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
        mut members: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        // Stored documents spell every name as defined, so the exact lookup
        // finds them; only what is left afterwards is matched again
        // case-insensitively.
        let mut missed = Vec::new();
        for def in defs {
            match members.remove(def.name) {
                Some(v) => self.place(schema, def, v, &mut out),
                None => missed.push(def),
            }
        }
        for def in missed {
            if members.is_empty() {
                break;
            }
            if let Some(v) = take_ci(&mut members, def.name) {
                self.place(schema, def, v, &mut out);
            }
        }
        out
    }

    /// Puts `value` of `def` into `out` if the selection keeps it.
    fn place(&self, schema: &str, def: &AttributeDef, value: Value, out: &mut Map<String, Value>) {
        if value.is_null() || !self.includes(schema, def) {
            return;
        }
        let projected = if def.is_complex() {
            self.project_complex(schema, def, value)
        } else {
            Some(value)
        };
        if let Some(v) = projected {
            out.insert(def.name.to_string(), v);
        }
    }

    /// Filters the sub-attributes of an included complex attribute; `None`
    /// when nothing is left.
    fn project_complex(&self, schema: &str, def: &AttributeDef, value: Value) -> Option<Value> {
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
        let filter = |element: Value| -> Option<Value> {
            let Value::Object(mut members) = element else {
                return None;
            };
            let kept: Map<String, Value> = def
                .sub_attributes
                .iter()
                .filter(|sub| keep(sub))
                .filter_map(|sub| {
                    let v = take_ci(&mut members, sub.name).filter(|v| !v.is_null())?;
                    Some((sub.name.to_string(), v))
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items.into_iter().filter_map(filter).collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            single => filter(single),
        }
    }
}

#[cfg(test)]
mod tests;
