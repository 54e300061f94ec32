//! Validation of a whole resource body for POST and PUT (RFC 7644 §3.3 and
//! §3.5.1) against its resource type (RFC 7643 §3, §6): the `schemas` list,
//! which top-level keys belong to which schema, extensions, and the
//! normalized document handed to the store. Per-value rules are in
//! `values.rs`.
//!
//! Decisions (all errors are status 400):
//! - A body that is not a JSON object is `invalidSyntax`; everything else,
//!   including a missing or malformed `schemas`, is `invalidValue`, because it
//!   is a value not compatible with the resource schema (RFC 7644 §3.12).
//! - Attribute names and schema URNs are matched case-insensitively; the
//!   output uses the schema's spelling. Unknown attributes, sub-attributes and
//!   URNs are errors, never silently dropped.
//! - Under `Rule::QualifiedKeysInResource`, top-level keys may also be
//!   URN-qualified (`urn:...:User:department`), as RFC 7644 §3.10 writes
//!   attribute paths, and the core schema's URN may key an object of core
//!   attributes like an extension's does; both land in the same place as
//!   the plain form. Without the rule they are `invalidValue`.
//! - readOnly attributes in the input are ignored (RFC 7644 §3.5.1, every
//!   profile); null and `[]` mean unassigned and are omitted. The
//!   profile's rules for values are applied in `values.rs`: a single value
//!   for a multi-valued attribute read as a one-element array, a bare
//!   scalar for a complex attribute with a `value` sub-attribute read as
//!   `{"value": scalar}`, `"True"`/`"False"` read as booleans.
//! - Microsoft's legacy ADSCIM URN in `schemas` is dropped under
//!   `Rule::LegacyAdscimSchema`; without it, it is an unknown URN like any
//!   other.
//! - `canonicalValues` are not enforced (RFC 7643 §7: they are suggestions).
//! - Immutable attributes (Replace only) may not change once they hold a
//!   value, and an omitted one keeps its stored value. Inside multi-valued
//!   attributes it is not enforced: elements have no identity to compare
//!   (adding `members` must work though `members.value` is immutable).
//! - `password` (writeOnly) stays in the output: the service layer
//!   (`service::password`) takes it out and hashes it before anything is
//!   stored. A Replace without it therefore carries no password, which must
//!   be read as "unchanged", since clients can never read it back.

use std::cell::RefCell;

use serde_json::{Map, Value};

use super::common::SCHEMAS_ATTR;
use super::registry::Registry;
use super::types::ResourceTypeDef;
use super::values::{get_ci, json_kind, validate_members, Ignored, Scope};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::path::split_urn;
use crate::scim::profile::{Profile, Rule};

/// What the validated body will do to the store.
#[derive(Debug, Clone, Copy)]
pub enum WriteMode<'a> {
    /// POST: no stored resource.
    Create,
    /// PUT: `existing` is the stored document (as previously returned by
    /// [`validate`]), used for immutability.
    Replace { existing: &'a Value },
}

/// Validates `input` as a complete `rt` resource and returns the normalized
/// document to store (see the module documentation for the rules). `id` and
/// `meta` are never in it: the caller attaches them.
///
/// # Errors
///
/// `invalidSyntax` when `input` is not an object; `invalidValue` for a bad
/// `schemas`, unknown or ill-typed attributes, missing required ones, more
/// than one primary value, or what a rule `profile` lacks would have read;
/// `mutability` when a Replace changes an immutable value. All are status
/// 400; a registry whose resource type names a schema it lacks gives a 500.
pub fn validate(
    reg: &Registry,
    rt: &ResourceTypeDef,
    input: &Value,
    mode: WriteMode<'_>,
    profile: Profile,
) -> ScimResult<Value> {
    validate_collecting(reg, rt, input, mode, profile).map(|(doc, _)| doc)
}

/// [`validate`], with the attributes it left out because nobody declared
/// them, by path (`urn:…:User:shoeSize`, `name.nickname2`), when the
/// registry ignores undeclared attributes; with the default (refusing
/// them) the list is always empty. Unknown URNs in `schemas` and unknown
/// extension objects are left out the same way.
pub fn validate_collecting(
    reg: &Registry,
    rt: &ResourceTypeDef,
    input: &Value,
    mode: WriteMode<'_>,
    profile: Profile,
) -> ScimResult<(Value, Vec<String>)> {
    let cell = RefCell::new(Vec::new());
    let ignored = reg.ignores_undeclared().then_some(&cell);
    let doc = validate_in(reg, rt, input, mode, ignored, profile)?;
    Ok((doc, cell.into_inner()))
}

fn validate_in(
    reg: &Registry,
    rt: &ResourceTypeDef,
    input: &Value,
    mode: WriteMode<'_>,
    ignored: Ignored<'_>,
    profile: Profile,
) -> ScimResult<Value> {
    let body = input
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the resource must be a JSON object"))?;
    let existing = match mode {
        WriteMode::Create => None,
        WriteMode::Replace { existing } => existing.as_object(),
    };
    let declared = declared_schemas(body, rt, reg, ignored, profile)?;
    let qualified = |key: &str| {
        profile.permit(Rule::QualifiedKeysInResource, || {
            ScimError::invalid_value(format!(
                "'{key}' is not an attribute name; a resource keeps core attributes at \
                 the top level and an extension's under its schema URN"
            ))
        })
    };

    let mut core_input: Vec<(&str, &Value)> = Vec::new();
    let mut ext_input: Vec<Vec<(&str, &Value)>> = vec![Vec::new(); rt.extensions.len()];
    for (key, value) in body {
        if key.eq_ignore_ascii_case(SCHEMAS_ATTR) {
            continue;
        }
        if !has_urn_prefix(key) {
            core_input.push((key, value));
            continue;
        }
        // A schema URN key holds that schema's attributes: always so for
        // extensions, and accepted for the core schema too.
        let container = if key.eq_ignore_ascii_case(rt.schema) {
            qualified(key)?;
            Some(&mut core_input)
        } else {
            extension_index(rt, key).map(|i| &mut ext_input[i])
        };
        if let Some(dest) = container {
            match value {
                Value::Null => {}
                Value::Object(members) => {
                    dest.extend(members.iter().map(|(k, v)| (k.as_str(), v)));
                }
                other => {
                    return Err(ScimError::invalid_value(format!(
                        "'{key}' must be a JSON object of schema attributes, not {}",
                        json_kind(other)
                    )));
                }
            }
            continue;
        }
        let (urn, attr) = split_urn(key);
        let urn = urn.unwrap_or_default();
        if urn.eq_ignore_ascii_case(rt.schema) {
            qualified(key)?;
            core_input.push((attr, value));
        } else if let Some(i) = extension_index(rt, &urn) {
            qualified(key)?;
            ext_input[i].push((attr, value));
        } else if let Some(ignored) = ignored {
            ignored.borrow_mut().push(key.clone());
        } else {
            return Err(unsupported_schema(key, rt));
        }
    }

    let core = reg
        .schema(rt.schema)
        .ok_or_else(|| missing_schema(rt.schema, rt))?;
    let scope = Scope {
        schema: rt.schema,
        prefix: String::new(),
        existing,
        ignored,
        profile,
    };
    let mut out = validate_members(
        &[reg.common_attributes(), &core.attributes],
        &core_input,
        &scope,
    )?;

    let mut schemas = vec![Value::String(rt.schema.to_string())];
    for (ext, input) in rt.extensions.iter().zip(&ext_input) {
        let def = reg
            .schema(ext.schema)
            .ok_or_else(|| missing_schema(ext.schema, rt))?;
        let members = if input.is_empty() {
            Map::new()
        } else {
            let scope = Scope {
                schema: ext.schema,
                prefix: format!("{}:", ext.schema),
                existing: existing
                    .and_then(|m| get_ci(m, ext.schema))
                    .and_then(Value::as_object),
                ignored,
                profile,
            };
            validate_members(&[&def.attributes], input, &scope)?
        };
        if members.is_empty() {
            if ext.required {
                return Err(ScimError::invalid_value(format!(
                    "schema extension {} is required for resource type {}",
                    ext.schema, rt.name
                )));
            }
            continue;
        }
        if !declared.iter().any(|d| d.eq_ignore_ascii_case(ext.schema)) {
            return Err(ScimError::invalid_value(format!(
                "attributes of schema {} are present but 'schemas' does not list it",
                ext.schema
            )));
        }
        out.insert(ext.schema.to_string(), Value::Object(members));
        schemas.push(Value::String(ext.schema.to_string()));
    }
    out.insert(SCHEMAS_ATTR.to_string(), Value::Array(schemas));
    Ok(Value::Object(out))
}

fn has_urn_prefix(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

fn extension_index(rt: &ResourceTypeDef, urn: &str) -> Option<usize> {
    rt.extensions
        .iter()
        .position(|e| e.schema.eq_ignore_ascii_case(urn))
}

fn unsupported_schema(urn: &str, rt: &ResourceTypeDef) -> ScimError {
    ScimError::invalid_value(format!(
        "schema {urn} is not supported for resource type {}",
        rt.name
    ))
}

fn missing_schema(urn: &str, rt: &ResourceTypeDef) -> ScimError {
    // A registry defect, not the client's fault.
    ScimError::new(
        500,
        None,
        format!("resource type {} refers to unknown schema {urn}", rt.name),
    )
}

/// Reads and checks `schemas` (RFC 7643 §3): it must name the core schema and
/// nothing outside the resource type.
/// Microsoft's SCIM tutorial (and code built from it) lists
/// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`
/// (or `…/User`) in `schemas` beside the core URN. It names no attributes
/// scimd knows, so it is accepted and dropped; attributes keyed under it
/// are still unknown attributes.
fn is_microsoft_legacy(urn: &str, rt: &ResourceTypeDef) -> bool {
    const PREFIX: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/";
    urn.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        && urn[PREFIX.len()..].eq_ignore_ascii_case(rt.name)
}

fn declared_schemas<'b>(
    body: &'b Map<String, Value>,
    rt: &ResourceTypeDef,
    reg: &Registry,
    ignored: Ignored<'_>,
    profile: Profile,
) -> ScimResult<Vec<&'b str>> {
    let malformed = || {
        ScimError::invalid_value(format!(
            "'schemas' is required and must be an array of schema URNs including {}",
            rt.schema
        ))
    };
    let value = get_ci(body, SCHEMAS_ATTR).ok_or_else(malformed)?;
    let items = match value {
        Value::Array(items) => items.as_slice(),
        // As for any multi-valued attribute, one value stands for a list of one.
        Value::String(_) => {
            profile.permit(Rule::SingleValueForMultiValued, || {
                ScimError::invalid_value(format!(
                    "'schemas' must be an array of schema URNs including {}, not a string",
                    rt.schema
                ))
            })?;
            std::slice::from_ref(value)
        }
        _ => return Err(malformed()),
    };
    let mut declared = Vec::with_capacity(items.len());
    for item in items {
        let urn = item.as_str().ok_or_else(malformed)?;
        if is_microsoft_legacy(urn, rt) {
            match profile.permit(Rule::LegacyAdscimSchema, || unsupported_schema(urn, rt)) {
                Ok(()) => continue,
                Err(refused) if ignored.is_none() => return Err(refused),
                // An organization that ignores unknown URNs lists it below.
                Err(_) => {}
            }
        }
        if !rt.has_schema(urn) || reg.schema(urn).is_none() {
            if let Some(ignored) = ignored {
                ignored.borrow_mut().push(format!("schemas: {urn}"));
                continue;
            }
            return Err(unsupported_schema(urn, rt));
        }
        declared.push(urn);
    }
    if !declared.iter().any(|u| u.eq_ignore_ascii_case(rt.schema)) {
        return Err(malformed());
    }
    Ok(declared)
}

#[cfg(test)]
mod tests;

/// Fuzzing by property: validation of arbitrary JSON never panics, and what
/// it accepts is a fixed point (validating the output again gives the same
/// document). `PROPTEST_CASES=100000 cargo test schema::fuzz` for a longer run.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::super::{validate, Registry, WriteMode};
    use crate::scim::profile::Profile;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "[a-zA-Z0-9 @.:_$-]{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("userName"),
                Just("emails"),
                Just("value"),
                Just("primary"),
                Just("type"),
                Just("name"),
                Just("members"),
                Just("active"),
                Just("True"),
                Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                Just("urn:ietf:params:scim:schemas:core:2.0:User"),
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("schemas".to_string()),
                            Just("userName".to_string()),
                            Just("emails".to_string()),
                            Just("name".to_string()),
                            Just("members".to_string()),
                            Just("displayName".to_string()),
                            Just("value".to_string()),
                            Just("primary".to_string()),
                            Just("active".to_string()),
                            Just(
                                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                                    .to_string()
                            ),
                            Just("manager".to_string()),
                            "[a-zA-Z]{1,8}",
                        ],
                        inner,
                    ),
                    0..6,
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_json_never_panics_and_accepted_output_is_stable(body in arb_json(), rt_name in prop_oneof![Just("User"), Just("Group")]) {
            let reg = Registry::new();
            let rt = reg.resource_type(rt_name).unwrap();
            if let Ok(doc) = validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient) {
                let again = validate(&reg, rt, &doc, WriteMode::Create, Profile::Lenient);
                prop_assert_eq!(again.as_ref().ok(), Some(&doc));
            }
        }

        /// A profile only takes leniencies away, and what any profile
        /// stores is read back by the strict one unchanged.
        #[test]
        fn profiles_refuse_or_agree_with_lenient(body in arb_json(), rt_name in prop_oneof![Just("User"), Just("Group")]) {
            let reg = Registry::new();
            let rt = reg.resource_type(rt_name).unwrap();
            let lenient = validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient);
            for profile in [Profile::Okta, Profile::Entra, Profile::Strict] {
                if let Ok(doc) = validate(&reg, rt, &body, WriteMode::Create, profile) {
                    prop_assert_eq!(Some(&doc), lenient.as_ref().ok());
                }
            }
            if let Ok(doc) = lenient {
                let again = validate(&reg, rt, &doc, WriteMode::Create, Profile::Strict);
                prop_assert_eq!(again, Ok(doc));
            }
        }

        #[test]
        fn user_shaped_json_never_panics(extra in arb_json()) {
            let reg = Registry::new();
            let rt = reg.resource_type("User").unwrap();
            let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "f"});
            if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                b.extend(e);
            }
            let _ = validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient);
        }
    }
}
