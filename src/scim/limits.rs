//! How much one request may ask of one resource, checked on the raw request
//! before any transaction starts, so that no row lock is held while work
//! grows with the request body. RFC 7644 leaves these to the server; they
//! are configurable and advertised in `/ServiceProviderConfig`.
//!
//! Every multi-valued attribute holds at most `max` values (`emails`,
//! `phoneNumbers`, `roles`, …), except Group `members`: members are rows,
//! and every member change costs what it touches, whatever the group's size.
//! The same bound applies to every array nested anywhere in a body, so the
//! validation after it is linear in a body that is itself bounded.

use serde_json::Value;

use super::error::{ScimError, ScimResult};
use super::patch::PatchOp;
use super::schema::{ResourceTypeDef, GROUP_SCHEMA};

/// The default of `SCIMD_MAX_VALUES_PER_ATTRIBUTE`.
pub const DEFAULT_MAX_VALUES: usize = 1000;

/// Checks a POST or PUT body of resource type `rt`.
pub fn check_resource(rt: &ResourceTypeDef, body: &Value, max: usize) -> ScimResult<()> {
    walk(body, "", max, has_members(rt))
}

/// Checks the values of PATCH operations on a resource of type `rt`.
pub fn check_ops(rt: &ResourceTypeDef, ops: &[PatchOp], max: usize) -> ScimResult<()> {
    let members = has_members(rt);
    for (i, op) in ops.iter().enumerate() {
        let Some(value) = &op.value else { continue };
        let name = op
            .path
            .as_ref()
            .map(|p| p.attr().attr.clone())
            .unwrap_or_default();
        if members && name.eq_ignore_ascii_case("members") {
            continue;
        }
        walk(value, &name, max, members).map_err(|e| ScimError {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
    }
    Ok(())
}

/// The error for `count` values given to attribute `name`.
pub fn too_many(name: &str, count: usize, max: usize) -> ScimError {
    ScimError::invalid_value(format!(
        "attribute '{name}' would have {count} values; at most {max} are accepted \
         (SCIMD_MAX_VALUES_PER_ATTRIBUTE)"
    ))
}

fn has_members(rt: &ResourceTypeDef) -> bool {
    rt.schema.eq_ignore_ascii_case(GROUP_SCHEMA)
}

/// Every array under `v` (named by the key that holds it) has at most
/// `max` items; arrays keyed `members` are exempt when `members` is set.
/// Iterative, so a deeply nested body cannot exhaust the stack.
fn walk(v: &Value, name: &str, max: usize, members: bool) -> ScimResult<()> {
    let mut stack: Vec<(&Value, &str)> = vec![(v, name)];
    while let Some((v, name)) = stack.pop() {
        match v {
            Value::Array(items) => {
                if items.len() > max {
                    return Err(too_many(name, items.len(), max));
                }
                stack.extend(items.iter().map(|i| (i, name)));
            }
            Value::Object(map) => {
                for (k, child) in map {
                    if members && k.eq_ignore_ascii_case("members") && child.is_array() {
                        continue;
                    }
                    stack.push((child, k.as_str()));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::patch::parse_request;
    use crate::scim::profile::Profile;
    use crate::scim::schema::Registry;

    fn emails(n: usize) -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({"value": format!("u{i}@example.com")}))
                .collect(),
        )
    }

    #[test]
    fn resource_arrays_are_bounded_except_group_members() {
        let reg = Registry::new();
        let (user, group) = (
            reg.resource_type("User").unwrap(),
            reg.resource_type("Group").unwrap(),
        );
        assert!(check_resource(user, &json!({"emails": emails(3)}), 3).is_ok());
        let e = check_resource(user, &json!({"emails": emails(4)}), 3).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type.map(|t| t.as_str())),
            (400, Some("invalidValue"))
        );
        assert!(
            e.detail.contains("'emails'") && e.detail.contains("at most 3"),
            "{e}"
        );
        // Nested, and under an extension URN.
        let nested = json!({"urn:x": {"roles": [1, 2, 3, 4]}});
        assert!(check_resource(user, &nested, 3)
            .unwrap_err()
            .detail
            .contains("'roles'"));
        let members = json!({"displayName": "g", "members": emails(10)});
        assert!(check_resource(group, &members, 3).is_ok());
        assert!(check_resource(user, &members, 3).is_err());
    }

    #[test]
    fn patch_values_are_bounded_except_group_members() {
        let reg = Registry::new();
        let (user, group) = (
            reg.resource_type("User").unwrap(),
            reg.resource_type("Group").unwrap(),
        );
        let body = |path: &str, value: Value| {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "add", "path": path, "value": value}]})
        };
        let ops = parse_request(&body("emails", emails(4)), Profile::Lenient).unwrap();
        let e = check_ops(user, &ops, 3).unwrap_err();
        assert!(
            e.detail.starts_with("Operations[0]: attribute 'emails'"),
            "{e}"
        );
        let ops = parse_request(&body("members", emails(10)), Profile::Lenient).unwrap();
        assert!(check_ops(group, &ops, 3).is_ok());
        let no_path = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"phoneNumbers": emails(4)}}]});
        let e =
            check_ops(user, &parse_request(&no_path, Profile::Lenient).unwrap(), 3).unwrap_err();
        assert!(e.detail.contains("'phoneNumbers'"), "{e}");
    }
}
