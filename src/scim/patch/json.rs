//! JSON plumbing for the PATCH engine: case-insensitive member access
//! (RFC 7643 §2.1 makes attribute names case-insensitive), value
//! normalization against an attribute definition, and value equality as
//! RFC 7644 §3.5.2.1 needs it to skip duplicate values on `add`.
//!
//! Normalization here is deliberately shallow: it puts names in their
//! canonical spelling and turns Entra ID's `"True"` / `"False"` into booleans,
//! because the engine itself compares values (duplicates, `primary`). Type
//! checking proper is `schema::validate`'s job and is not repeated.
//!
//! Three rules of the profile are applied here, for every PATCH value: one
//! value for a multi-valued attribute ([`elements`],
//! `Rule::SingleValueForMultiValued`), a bare value for a complex one
//! ([`complex_members`], `Rule::ScalarForComplex`) and boolean strings
//! ([`coerce_scalar`], `Rule::StringBooleans`).

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimResult};
use crate::scim::profile::{Profile, Rule};
use crate::scim::schema::{AttrType, AttributeDef, Mutability};

/// Removes and returns the member named `name`, whatever its case. A stored
/// document has one spelling per name; should it hold several, all go, so the
/// canonical one written back is the only one left.
pub(super) fn take_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let exact = map.remove(name);
    let others: Vec<String> = map
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    let mut found = exact;
    for key in others {
        let value = map.remove(&key);
        found = found.or(value);
    }
    found
}

/// Member lookup ignoring case, preferring the exact spelling.
pub(super) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Writes `value` under `name`, or removes the member when there is nothing
/// to keep: unassigned (`None`, null, `[]`, `{}`) is not stored, per RFC 7643
/// §2.5.
pub(super) fn put(map: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    take_ci(map, name);
    if let Some(value) = value.filter(|v| !is_unassigned(v)) {
        map.insert(name.to_string(), value);
    }
}

pub(super) fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

/// JSON equality with object keys compared case-insensitively, so that a
/// client's `{"Value": "x"}` duplicates a stored `{"value": "x"}`.
pub(super) fn eq_ci(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| get_ci(y, k).is_some_and(|w| eq_ci(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| eq_ci(v, w))
        }
        _ => a == b,
    }
}

/// A key equal for two values exactly when [`eq_ci`] holds between them:
/// object keys ASCII-lowercased and sorted, everything else as JSON. Lets a
/// merge find duplicates with a hash lookup instead of a comparison with
/// every element.
pub(super) fn dedup_key(v: &Value) -> String {
    let mut out = String::new();
    write_key(v, &mut out);
    out
}

fn write_key(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(String, &Value)> =
                m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (k, v) in members {
                out.push_str(&Value::String(k).to_string());
                out.push(':');
                write_key(v, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for item in items {
                write_key(item, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The elements a value stands for when written to the multi-valued
/// attribute at `path`: an array's items, or, under
/// `Rule::SingleValueForMultiValued`, the value itself (Okta sends one
/// object where an array belongs). Nulls stand for nothing.
pub(super) fn elements<'v>(
    value: &'v Value,
    path: &str,
    profile: Profile,
) -> ScimResult<Vec<&'v Value>> {
    match value {
        Value::Array(items) => Ok(items.iter().filter(|v| !v.is_null()).collect()),
        Value::Null => Ok(Vec::new()),
        single => {
            profile.permit(Rule::SingleValueForMultiValued, || {
                ScimError::invalid_value(format!(
                    "'{path}' is multi-valued; its value must be an array, not {}",
                    kind_of(single)
                ))
            })?;
            Ok(vec![single])
        }
    }
}

/// Entra ID sends booleans as `"True"` / `"False"`; under
/// `Rule::StringBooleans` they become booleans here (and not only in
/// `validate`), so that `primary` and duplicate checks see real booleans.
/// Other strings for a boolean are left for `validate` to refuse.
pub(super) fn coerce_scalar(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    profile: Profile,
) -> ScimResult<Value> {
    let boolean = match (def.attr_type, value) {
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        _ => return Ok(value.clone()),
    };
    profile.permit(Rule::StringBooleans, || {
        ScimError::invalid_value(format!(
            "'{path}' is a boolean; its value must be true or false, not a string"
        ))
    })?;
    Ok(Value::Bool(boolean))
}

/// The members of a complex value under their canonical names. Under
/// `Rule::ScalarForComplex` a bare scalar for a complex attribute with a
/// `value` sub-attribute means `{"value": scalar}` (Entra ID's `manager`),
/// as `validate` reads it too.
///
/// readOnly sub-attributes are dropped under every profile: `validate`
/// ignores them in any body (RFC 7644 §3.5.1), so a PATCH value is read the
/// same way, and keeping them would let `manager.displayName` ride along
/// into the document. Nulls are kept, because in a merge they mean "clear
/// this sub-attribute"; unknown names are kept as written so that `validate`
/// reports them.
pub(super) fn complex_members(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    profile: Profile,
) -> ScimResult<Map<String, Value>> {
    let mut out = Map::new();
    match value {
        Value::Object(members) => {
            for (key, v) in members {
                match def.sub_attribute(key) {
                    Some(sub) if sub.mutability == Mutability::ReadOnly => {}
                    Some(sub) => {
                        let shown = format!("{path}.{}", sub.name);
                        put_raw(&mut out, sub.name, normalize(sub, v, &shown, profile)?);
                    }
                    None => put_raw(&mut out, key, v.clone()),
                }
            }
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let sub = def
                .sub_attribute("value")
                .ok_or_else(|| not_complex(path, value))?;
            profile.permit(Rule::ScalarForComplex, || not_complex(path, value))?;
            let shown = format!("{path}.{}", sub.name);
            out.insert(
                sub.name.to_string(),
                coerce_scalar(sub, value, &shown, profile)?,
            );
        }
        Value::Array(_) | Value::Null => return Err(not_complex(path, value)),
    }
    Ok(out)
}

/// Like [`put`] but keeps nulls (merge markers).
fn put_raw(map: &mut Map<String, Value>, name: &str, value: Value) {
    take_ci(map, name);
    map.insert(name.to_string(), value);
}

/// One value of `def` (an element, for a multi-valued one), normalized: a
/// complex value gets canonical names without nulls, a scalar its boolean
/// coerced.
pub(super) fn normalize(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    profile: Profile,
) -> ScimResult<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if !def.is_complex() {
        return coerce_scalar(def, value, path, profile);
    }
    let mut members = complex_members(def, value, path, profile)?;
    members.retain(|_, v| !v.is_null());
    Ok(Value::Object(members))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn not_complex(path: &str, value: &Value) -> ScimError {
    ScimError::invalid_value(format!(
        "'{path}' is a complex attribute; its value must be a JSON object, not {}",
        kind_of(value)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::Registry;
    use serde_json::json;

    #[test]
    fn take_ci_removes_every_spelling() {
        let mut map = json!({"userName": "a", "USERNAME": "b", "x": 1})
            .as_object()
            .cloned()
            .unwrap();
        assert!(take_ci(&mut map, "username").is_some());
        assert_eq!(Value::Object(map), json!({"x": 1}));
    }

    #[test]
    fn eq_ci_ignores_key_case_only() {
        assert!(eq_ci(
            &json!({"Value": "x", "TYPE": "work"}),
            &json!({"value": "x", "type": "work"})
        ));
        assert!(!eq_ci(&json!({"value": "X"}), &json!({"value": "x"})));
        assert!(!eq_ci(
            &json!({"value": "x"}),
            &json!({"value": "x", "a": 1})
        ));
        assert!(eq_ci(&json!([{"A": 1}]), &json!([{"a": 1}])));
    }

    #[test]
    fn dedup_key_agrees_with_eq_ci() {
        let values = [
            json!({"Value": "x", "TYPE": "work"}),
            json!({"value": "x", "type": "work"}),
            json!({"type": "work", "value": "x"}),
            json!({"value": "X", "type": "work"}),
            json!({"value": "x"}),
            json!({"value": "x", "a": 1}),
            json!([{"A": 1}]),
            json!([{"a": 1}]),
            json!("x"),
            json!(1),
            json!(1.0),
            json!({"value": {"Nested": [true, null]}}),
            json!({"value": {"nested": [true, null]}}),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(eq_ci(a, b), dedup_key(a) == dedup_key(b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn normalize_canonicalizes_and_coerces() {
        let reg = Registry::new();
        let user = reg.schema(crate::scim::schema::USER_SCHEMA).unwrap();
        let emails = user.attribute("emails").unwrap();
        let v = normalize(
            emails,
            &json!({"VALUE": "a@x", "Primary": "True", "display": null}),
            "emails",
            Profile::Lenient,
        )
        .unwrap();
        assert_eq!(v, json!({"value": "a@x", "primary": true}));
        let active = user.attribute("active").unwrap();
        assert_eq!(
            normalize(active, &json!("False"), "active", Profile::Lenient).unwrap(),
            json!(false)
        );
        assert_eq!(
            normalize(active, &json!("maybe"), "active", Profile::Lenient).unwrap(),
            json!("maybe")
        );
        let name = user.attribute("name").unwrap();
        let err = normalize(name, &json!([1]), "name", Profile::Lenient).unwrap_err();
        assert!(err.detail.contains("complex"), "{err}");
    }
}
