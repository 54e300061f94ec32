//! Checking and normalizing attribute values against their definitions: the
//! data types of RFC 7643 §2.3, multi-valued attributes (§2.4), `required`
//! and `mutability` (§2.2, §7; RFC 7644 §3.5.1). `validate.rs` applies this to
//! the core schema and each extension of a resource.
//!
//! Errors name the attribute by its path as RFC 7644 writes them
//! (`emails[1].value`, `urn:...:User:manager.value`) so clients can act on them.
//!
//! Three rules of the profile are applied here, each in one place: a single
//! value for a multi-valued attribute (`check_attribute`,
//! `Rule::SingleValueForMultiValued`), `"True"`/`"False"` for a boolean
//! (`check_single`, `Rule::StringBooleans`) and a bare value for a complex
//! attribute (`check_complex`, `Rule::ScalarForComplex`).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use std::cell::RefCell;

use serde_json::{Map, Value};

use super::types::{find_attr, AttrType, AttributeDef, Mutability};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::profile::{Profile, Rule};

/// Longest string value accepted, in bytes. Far above any real attribute
/// (an X.509 certificate is ~2 KiB of base64), far below what would let one
/// request bloat the store.
pub const MAX_STRING_BYTES: usize = 16 * 1024;

/// RFC 7643 §2.3.6 asks for RFC 4648 §4 base64; clients disagree on padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where a group of members sits, for error messages and immutability.
pub(super) struct Scope<'a> {
    /// URN of the schema the attributes belong to.
    pub schema: &'a str,
    /// Prepended to attribute names in error details: `""`, `"name."`,
    /// `"emails[0]."` or `"urn:...:User:"`.
    pub prefix: String,
    /// The stored value of the enclosing object. `None` on create, and inside
    /// multi-valued attributes, where elements have no stable identity to
    /// compare against; immutability is enforced only where this is set.
    pub existing: Option<&'a Map<String, Value>>,
    /// Where undeclared attributes are listed and left out, when the
    /// organization ignores them; `None`: they are refused.
    pub ignored: Ignored<'a>,
    /// Whose leniencies apply.
    pub profile: Profile,
}

/// The list of attributes left out because nobody declared them (see
/// `Registry::ignores_undeclared`), by path.
pub(super) type Ignored<'a> = Option<&'a RefCell<Vec<String>>>;

/// Case-insensitive member lookup: stored documents use canonical names, but
/// this must not be the place where a non-canonical one goes unnoticed.
pub(super) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Validates the members of one JSON object against the definitions in
/// `defs` and returns them under their canonical names. readOnly attributes
/// are dropped, unassigned ones (null, `[]`) omitted.
pub(super) fn validate_members(
    defs: &[&[AttributeDef]],
    input: &[(&str, &Value)],
    scope: &Scope<'_>,
) -> ScimResult<Map<String, Value>> {
    let mut out = Map::new();
    let mut seen: Vec<&str> = Vec::with_capacity(input.len());
    for &(key, value) in input {
        let Some(def) = defs.iter().find_map(|d| find_attr(d, key)) else {
            if let Some(ignored) = scope.ignored {
                ignored.borrow_mut().push(format!("{}{key}", scope.prefix));
                continue;
            }
            return Err(ScimError::invalid_value(format!(
                "attribute '{}{key}' is not defined in schema {}",
                scope.prefix, scope.schema
            )));
        };
        let path = format!("{}{}", scope.prefix, def.name);
        if seen.contains(&def.name) {
            return Err(ScimError::invalid_value(format!(
                "attribute '{path}' is given more than once (attribute names are case-insensitive)"
            )));
        }
        seen.push(def.name);
        // RFC 7644 §3.5.1: readOnly input "SHALL be ignored". Okta PUTs back
        // whole resources, groups and meta included.
        if def.mutability == Mutability::ReadOnly {
            continue;
        }
        let existing = scope
            .existing
            .and_then(|m| get_ci(m, def.name))
            .filter(|v| !is_unassigned(v));
        if let Some(v) = check_attribute(def, value, &path, scope, existing)? {
            out.insert(def.name.to_string(), v);
        }
    }
    for def in defs.iter().flat_map(|d| d.iter()) {
        apply_mutability_and_required(def, &mut out, scope)?;
    }
    Ok(out)
}

fn apply_mutability_and_required(
    def: &AttributeDef,
    out: &mut Map<String, Value>,
    scope: &Scope<'_>,
) -> ScimResult<()> {
    let path = || format!("{}{}", scope.prefix, def.name);
    if def.mutability == Mutability::Immutable {
        let existing = scope
            .existing
            .and_then(|m| get_ci(m, def.name))
            .filter(|v| !is_unassigned(v));
        match (out.get(def.name), existing) {
            (Some(new), Some(old)) if !same_value(def, new, old) => {
                return Err(ScimError::mutability(format!(
                    "attribute '{}' is immutable and already has a different value",
                    path()
                )));
            }
            // An immutable value cannot be cleared, so omitting it keeps it.
            (None, Some(old)) => {
                out.insert(def.name.to_string(), old.clone());
            }
            _ => {}
        }
    }
    // A required readOnly attribute (`id`) is the server's to supply.
    if def.required && def.mutability != Mutability::ReadOnly {
        match out.get(def.name) {
            None => {
                return Err(ScimError::invalid_value(format!(
                    "required attribute '{}' is missing",
                    path()
                )));
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(ScimError::invalid_value(format!(
                    "required attribute '{}' must not be empty",
                    path()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks one attribute's value, single- or multi-valued, in `scope` (its
/// schema, ignored-list and profile; `existing` is its own stored value).
/// `Ok(None)` means the attribute is unassigned and must not be stored.
fn check_attribute(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    scope: &Scope<'_>,
    existing: Option<&Value>,
) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if !def.multi_valued {
        if value.is_array() {
            return Err(ScimError::invalid_value(format!(
                "attribute '{path}' is single-valued but an array was given"
            )));
        }
        return check_single(def, value, path, scope, existing);
    }
    // Okta sometimes sends one object where an array belongs; the meaning is
    // unambiguous, so under the rule it is read as a one-element array.
    let items = match value {
        Value::Array(items) => items.as_slice(),
        single => {
            scope.profile.permit(Rule::SingleValueForMultiValued, || {
                wrong_type(path, "an array (it is multi-valued)", single)
            })?;
            std::slice::from_ref(single)
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.is_null() {
            continue;
        }
        if let Some(v) = check_single(def, item, &format!("{path}[{i}]"), scope, None)? {
            out.push(v);
        }
    }
    check_primary(def, &out, path)?;
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more
/// than once." Runs on normalized values, so Entra ID's `"True"` counts.
fn check_primary(def: &AttributeDef, items: &[Value], path: &str) -> ScimResult<()> {
    let Some(primary) = def.sub_attribute("primary") else {
        return Ok(());
    };
    let count = items
        .iter()
        .filter(|item| item.get(primary.name) == Some(&Value::Bool(true)))
        .count();
    if count > 1 {
        return Err(ScimError::invalid_value(format!(
            "attribute '{path}' has {count} values with primary set to true; at most one is allowed"
        )));
    }
    Ok(())
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(path: &str, expected: &str, value: &Value) -> ScimError {
    ScimError::invalid_value(format!(
        "attribute '{path}' must be {expected}, not {}",
        json_kind(value)
    ))
}

fn check_string<'v>(value: &'v Value, path: &str, expected: &str) -> ScimResult<&'v str> {
    let s = value
        .as_str()
        .ok_or_else(|| wrong_type(path, expected, value))?;
    if s.contains('\0') {
        return Err(ScimError::invalid_value(format!(
            "attribute '{path}' must not contain NUL characters"
        )));
    }
    if s.len() > MAX_STRING_BYTES {
        return Err(ScimError::invalid_value(format!(
            "attribute '{path}' is longer than the maximum of {MAX_STRING_BYTES} bytes"
        )));
    }
    Ok(s)
}

/// xsd:dateTime (RFC 7643 §2.3.5): RFC 3339, or the same without an offset,
/// which XML Schema allows.
fn is_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

fn check_single(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    scope: &Scope<'_>,
    existing: Option<&Value>,
) -> ScimResult<Option<Value>> {
    let checked = match def.attr_type {
        AttrType::String | AttrType::Reference => {
            Value::String(check_string(value, path, "a string")?.to_string())
        }
        AttrType::Binary => {
            let s = check_string(value, path, "a base64 string")?;
            if BASE64.decode(s).is_err() {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{path}' must be base64-encoded binary data"
                )));
            }
            Value::String(s.to_string())
        }
        AttrType::DateTime => {
            let s = check_string(value, path, "a dateTime string")?;
            if !is_date_time(s) {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{path}' must be an xsd:dateTime such as 2008-01-23T04:56:22Z"
                )));
            }
            Value::String(s.to_string())
        }
        AttrType::Boolean => match value {
            Value::Bool(b) => Value::Bool(*b),
            // Microsoft Entra ID sends booleans as "True" / "False".
            Value::String(s)
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                scope.profile.permit(Rule::StringBooleans, || {
                    wrong_type(path, "a boolean", value)
                })?;
                Value::Bool(s.eq_ignore_ascii_case("true"))
            }
            other => return Err(wrong_type(path, "a boolean", other)),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() => value.clone(),
            other => return Err(wrong_type(path, "an integer", other)),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => value.clone(),
            other => return Err(wrong_type(path, "a number", other)),
        },
        AttrType::Complex => return check_complex(def, value, path, scope, existing),
    };
    Ok(Some(checked))
}

fn check_complex(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    scope: &Scope<'_>,
    existing: Option<&Value>,
) -> ScimResult<Option<Value>> {
    let wrapped;
    let not_object = || wrong_type(path, "a complex value (JSON object)", value);
    let members = match value {
        Value::Object(m) => m,
        // Entra ID sends `manager` as the bare id; for a complex attribute with
        // a `value` sub-attribute (RFC 7643 §2.4) that can only mean `{value}`.
        Value::String(_) | Value::Number(_) | Value::Bool(_) => match def.sub_attribute("value") {
            Some(v) => {
                scope.profile.permit(Rule::ScalarForComplex, not_object)?;
                wrapped = Map::from_iter([(v.name.to_string(), value.clone())]);
                &wrapped
            }
            None => return Err(not_object()),
        },
        _ => return Err(not_object()),
    };
    let input: Vec<(&str, &Value)> = members.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let inner = Scope {
        schema: scope.schema,
        prefix: format!("{path}."),
        existing: existing.and_then(Value::as_object),
        ignored: scope.ignored,
        profile: scope.profile,
    };
    let out = validate_members(&[&def.sub_attributes], &input, &inner)?;
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Equality for the immutability check: strings honour `caseExact`, complex
/// values compare their writable sub-attributes, absent equals null.
fn same_value(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact => {
            x.to_lowercase() == y.to_lowercase()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(def, p, q))
        }
        (Value::Object(x), Value::Object(y)) => def
            .sub_attributes
            .iter()
            .filter(|s| s.mutability != Mutability::ReadOnly)
            .all(|s| {
                let p = get_ci(x, s.name).unwrap_or(&Value::Null);
                let q = get_ci(y, s.name).unwrap_or(&Value::Null);
                same_value(s, p, q)
            }),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
