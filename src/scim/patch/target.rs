//! Where a PATCH path points (RFC 7644 §3.5.2, `PATH = attrPath / valuePath
//! [subAttr]`, with the URN forms of §3.10): resolution against the
//! registry, selection of the elements a value filter matches, and the
//! element an Entra ID style filter describes when nothing matches.

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::{self, CompValue, CompareOp, Filter, PatchPath};
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttributeDef, Registry, ResourceTypeDef, GROUP_SCHEMA};

/// What a path (or its absence) designates.
pub(super) enum Location<'r, 'p> {
    /// No path, or the core schema URN: the resource itself.
    Resource,
    /// A bare extension URN: the whole extension object.
    Extension(&'r str),
    Attr(Target<'r, 'p>),
    /// An attribute nobody declared, in an organization that ignores them
    /// (`Registry::ignores_undeclared`): the operation does nothing.
    Undeclared,
}

/// An attribute location, resolved.
pub(super) struct Target<'r, 'p> {
    /// URN of the attribute's schema (the core one for common attributes).
    pub schema: &'r str,
    /// True when the attribute lives under `doc[schema]`.
    pub in_extension: bool,
    pub attr: &'r AttributeDef,
    pub sub: Option<&'r AttributeDef>,
    pub filter: Option<&'p Filter>,
    /// The path as the client wrote it, for error details.
    pub shown: String,
}

impl Target<'_, '_> {
    /// Group membership is stored as rows, so `members` never touches the
    /// document (see `members.rs`).
    pub fn is_group_members(&self) -> bool {
        !self.in_extension
            && self.schema.eq_ignore_ascii_case(GROUP_SCHEMA)
            && self.attr.name.eq_ignore_ascii_case("members")
    }
}

pub(super) fn resolve<'r, 'p>(
    reg: &'r Registry,
    rt: &'r ResourceTypeDef,
    path: &'p PatchPath,
) -> ScimResult<Location<'r, 'p>> {
    let attr_path = path.attr();
    if let Some(urn) = reg.whole_schema(rt, attr_path) {
        if matches!(path, PatchPath::Filtered { .. }) {
            return Err(ScimError::invalid_path(format!(
                "'{path}': a value filter needs an attribute, not a schema URN"
            )));
        }
        return Ok(if urn.eq_ignore_ascii_case(rt.schema) {
            Location::Resource
        } else {
            Location::Extension(urn)
        });
    }
    let unknown = || {
        ScimError::invalid_path(format!(
            "'{path}' is not an attribute of resource type {}",
            rt.name
        ))
    };
    let Some(resolved) = reg.resolve(rt, attr_path) else {
        if reg.ignores_undeclared() {
            return Ok(Location::Undeclared);
        }
        return Err(unknown());
    };
    let (sub, filter) = match path {
        PatchPath::Attr(_) => (resolved.sub, None),
        PatchPath::Filtered { filter, sub, .. } => {
            let sub = match sub {
                Some(name) => match resolved.attr.sub_attribute(name) {
                    Some(s) => Some(s),
                    None if reg.ignores_undeclared() => return Ok(Location::Undeclared),
                    None => return Err(unknown()),
                },
                None => None,
            };
            (sub, Some(filter))
        }
    };
    let target = Target {
        schema: resolved.schema,
        in_extension: resolved.is_extension,
        attr: resolved.attr,
        sub,
        filter,
        shown: path.to_string(),
    };
    if let Some(filter) = filter {
        if !(target.attr.multi_valued && target.attr.is_complex()) {
            return Err(ScimError::invalid_path(format!(
                "'{path}': a value filter applies only to multi-valued complex attributes"
            )));
        }
        filter::check(&value_path(&target, filter), &filter::lookup(reg, rt))?;
    }
    Ok(Location::Attr(target))
}

/// `attr[filter]` as a filter of the whole resource, fully qualified so the
/// lookup cannot confuse a core attribute with an extension one.
fn value_path(target: &Target<'_, '_>, filter: &Filter) -> Filter {
    let outer = AttrPath {
        urn: Some(target.schema.to_string()),
        attr: target.attr.name.to_string(),
        sub: None,
    };
    Filter::ValuePath(outer, Box::new(filter.clone()))
}

/// Indices of the elements of `items` that the target's filter selects (all
/// of them when there is no filter). Each element is tested on its own, as
/// the only value of the attribute in an otherwise empty resource, so that
/// `filter::matches` does the comparison with the schema's case rules.
pub(super) fn matching(
    reg: &Registry,
    rt: &ResourceTypeDef,
    target: &Target<'_, '_>,
    items: &[Value],
) -> Vec<usize> {
    let Some(filter) = target.filter else {
        return (0..items.len()).collect();
    };
    let outer = AttrPath {
        urn: Some(target.schema.to_string()),
        attr: target.attr.name.to_string(),
        sub: None,
    };
    let lookup = filter::lookup(reg, rt);
    // Each element on its own, without copying it into a document: a PATCH
    // of 1,000 filtered operations over 1,000 values is a million tests.
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| filter::matches_element(&outer, filter, item, &lookup))
        .map(|(i, _)| i)
        .collect()
}

/// The element a filter describes, when it can be read as one: `type eq "X"`,
/// or `eq` comparisons on singular simple sub-attributes joined by `and`.
/// Entra ID writes `emails[type eq "work"].value` to mean "the work email",
/// creating it when there is none (see `write.rs`).
pub(super) fn describe_element(attr: &AttributeDef, filter: &Filter) -> Option<Map<String, Value>> {
    if let Filter::Compare(path, ..) = filter {
        // A lone comparison must be on `type`: `value eq "x"` selects rather
        // than describes, and RFC 7644 wants `noTarget` when it selects nothing.
        if !path.attr_is("type") {
            return None;
        }
    }
    let mut out = Map::new();
    collect_equalities(attr, filter, &mut out).then_some(out)
}

fn collect_equalities(attr: &AttributeDef, filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::And(l, r) => collect_equalities(attr, l, out) && collect_equalities(attr, r, out),
        Filter::Compare(path, CompareOp::Eq, value) => {
            if path.urn.is_some() || path.sub.is_some() {
                return false;
            }
            let Some(sub) = attr.sub_attribute(&path.attr) else {
                return false;
            };
            if sub.multi_valued || sub.is_complex() {
                return false;
            }
            let value = match value {
                CompValue::Null => return false,
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Str(s) => Value::String(s.clone()),
            };
            // `type eq "a" and type eq "b"` describes nothing.
            match out.get(sub.name) {
                Some(existing) if *existing != value => false,
                _ => {
                    out.insert(sub.name.to_string(), value);
                    true
                }
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::USER_SCHEMA;
    use serde_json::json;

    fn described(filter: &str) -> Option<Value> {
        let reg = Registry::new();
        let emails = reg.schema(USER_SCHEMA)?.attribute("emails")?;
        let PatchPath::Filtered { filter, .. } =
            filter::parse_patch_path(&format!("emails[{filter}]")).ok()?
        else {
            return None;
        };
        describe_element(emails, &filter).map(Value::Object)
    }

    #[test]
    fn describes_type_equalities_and_conjunctions_only() {
        assert_eq!(described("TYPE eq \"work\""), Some(json!({"type": "work"})));
        assert_eq!(
            described("type eq \"work\" and primary eq true and value eq \"a@x\""),
            Some(json!({"type": "work", "primary": true, "value": "a@x"}))
        );
        for selects in [
            "value eq \"a@x\"",
            "type eq \"work\" or type eq \"home\"",
            "type eq \"work\" and type eq \"home\"",
            "type ne \"work\"",
            "type eq null",
            "type pr",
            "not (type eq \"work\")",
            "type eq \"work\" and bogus eq \"x\"",
        ] {
            assert_eq!(described(selects), None, "{selects}");
        }
        // The same equality twice is still one element.
        assert_eq!(
            described("type eq \"work\" and type eq \"work\""),
            Some(json!({"type": "work"}))
        );
    }
}
