//! Reading a PATCH request body (RFC 7644 §3.5.2) into [`PatchOp`]s: the
//! message structure only. What an operation does to a resource is decided
//! by `apply`, against the schema.
//!
//! Decisions (every error is status 400):
//! - `schemas` is required and must list the PatchOp URN (compared
//!   case-insensitively; other URNs beside it are ignored). The RFC requires
//!   it and Okta and Entra ID always send it, so a body without it is more
//!   likely a misdirected PUT than a sloppy PATCH: `invalidSyntax`, under
//!   every profile. One URN instead of a list is a list of one where the
//!   profile has `Rule::SingleValueForMultiValued`.
//! - Member names (`Operations`, `op`, `path`, `value`) are matched
//!   case-insensitively, like every attribute name in SCIM (RFC 7643 §2.1);
//!   unknown members of an operation are ignored.
//! - `Operations` must be a non-empty array of at most [`MAX_OPERATIONS`]
//!   items, else `invalidSyntax`. RFC 7644 has no keyword for "too many
//!   operations" (`tooMany` is about filter results and `tooLarge` is the
//!   413 of bulk payloads), and a client that sends more is malformed for
//!   this server, so the detail states the limit.
//! - `op` is `add`, `remove` or `replace`; in another case (Entra ID sends
//!   `Add`, `Replace`, `Remove`) under `Rule::CaseInsensitiveOps`, else
//!   `invalidSyntax`.
//! - `path`: absent or null means no path; empty (or all blanks) too under
//!   `Rule::BlankPath`, else `invalidPath`. Anything else goes through
//!   `filter::parse_patch_path`, whose errors are `invalidPath`. A
//!   non-string `path` is `invalidPath` too.
//! - `value` is required for `add` and `replace` (`invalidSyntax` if the
//!   member is absent). An explicit `null` is kept: `apply` reads it as
//!   "unassigned" (RFC 7643 §2.5), which is how Entra ID clears `manager`.
//!   A `remove` takes none (RFC 7644 §3.5.2.2); one that carries a value
//!   (Entra ID removes members so) is kept under `Rule::RemoveByValue` and
//!   is `invalidSyntax` otherwise. This is the one place that rule is
//!   asked: what `apply` does with the value is in `remove.rs` and
//!   `members.rs`.

use serde_json::{Map, Value};

use super::json::get_ci;
use super::{OpKind, PatchOp, MAX_OPERATIONS, PATCH_OP_SCHEMA};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::parse_patch_path;
use crate::scim::profile::{Profile, Rule};

/// Parses a PatchOp request body
/// (`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[...]}`).
///
/// # Errors
///
/// `invalidSyntax` for a malformed message (see the module documentation),
/// `invalidPath` for an unparsable `path`, and the refusals of the rules
/// `profile` lacks. Details of per-operation errors start with
/// `Operations[i]`.
pub fn parse_request(body: &Value, profile: Profile) -> ScimResult<Vec<PatchOp>> {
    let body = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the PATCH request body must be a JSON object"))?;
    check_schemas(body, profile)?;
    let operations = match get_ci(body, "Operations") {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::invalid_syntax(
                "'Operations' must be an array of PATCH operations",
            ))
        }
        None => {
            return Err(ScimError::invalid_syntax(
                "the PATCH request has no 'Operations'",
            ))
        }
    };
    if operations.is_empty() {
        return Err(ScimError::invalid_syntax(
            "'Operations' must contain at least one operation",
        ));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "'Operations' has {} operations; at most {MAX_OPERATIONS} are accepted in one request",
            operations.len()
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op, profile).map_err(|e| super::at_operation(e, i)))
        .collect()
}

fn check_schemas(body: &Map<String, Value>, profile: Profile) -> ScimResult<()> {
    let is_patch_op = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(PATCH_OP_SCHEMA))
    };
    let missing = || {
        ScimError::invalid_syntax(format!(
            "a PATCH request must list '{PATCH_OP_SCHEMA}' in 'schemas'"
        ))
    };
    match get_ci(body, "schemas") {
        Some(Value::Array(items)) if items.iter().any(is_patch_op) => Ok(()),
        // As for any multi-valued attribute, one value stands for a list of one.
        Some(single @ Value::String(_)) if is_patch_op(single) => {
            profile.permit(Rule::SingleValueForMultiValued, || {
                ScimError::invalid_syntax(format!(
                    "'schemas' must be an array listing '{PATCH_OP_SCHEMA}', not a string"
                ))
            })
        }
        _ => Err(missing()),
    }
}

fn parse_operation(op: &Value, profile: Profile) -> ScimResult<PatchOp> {
    let op = op
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("each operation must be a JSON object"))?;
    let kind = match get_ci(op, "op") {
        Some(Value::String(name)) => op_kind(name, profile)?,
        Some(_) => return Err(ScimError::invalid_syntax("'op' must be a string")),
        None => return Err(ScimError::invalid_syntax("the operation has no 'op'")),
    };
    let path = match get_ci(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => {
            profile.permit(Rule::BlankPath, || {
                ScimError::invalid_path(
                    "'path' is empty; an operation on the resource itself has no 'path'",
                )
            })?;
            None
        }
        Some(Value::String(text)) => Some(parse_patch_path(text)?),
        Some(_) => return Err(ScimError::invalid_path("'path' must be a string")),
    };
    let value = get_ci(op, "value").cloned();
    if value.is_none() && kind != OpKind::Remove {
        return Err(ScimError::invalid_syntax(format!(
            "a '{}' operation requires a 'value'",
            kind.as_str()
        )));
    }
    if kind == OpKind::Remove && value.as_ref().is_some_and(|v| !v.is_null()) {
        profile.permit(Rule::RemoveByValue, || {
            ScimError::invalid_syntax(
                "a 'remove' operation takes no 'value'; name what to remove in 'path' \
                 (e.g. 'members[value eq \"<id>\"]')",
            )
        })?;
    }
    Ok(PatchOp {
        op: kind,
        path,
        value,
    })
}

fn op_kind(name: &str, profile: Profile) -> ScimResult<OpKind> {
    let kinds = [OpKind::Add, OpKind::Remove, OpKind::Replace];
    if let Some(kind) = kinds.into_iter().find(|k| k.as_str() == name) {
        return Ok(kind);
    }
    let kind = kinds
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "unknown operation '{}'; expected 'add', 'remove' or 'replace'",
                name.chars().take(32).collect::<String>()
            ))
        })?;
    profile.permit(Rule::CaseInsensitiveOps, || {
        ScimError::invalid_syntax(format!(
            "operation '{}' must be written '{}'",
            name.chars().take(32).collect::<String>(),
            kind.as_str()
        ))
    })?;
    Ok(kind)
}
