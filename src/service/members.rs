//! A group's members as the write path hands them to the store: member
//! ids from a validated document, or from the PATCH engine's delta.

use serde_json::Value;
use uuid::Uuid;

use crate::scim::error::ScimError;
use crate::scim::patch::MemberDelta;
use crate::store::groups::MembersChange;

/// Splits a validated group document into the stored document and member
/// ids. Ids that are not UUIDs cannot be members.
pub(super) fn take_members(doc: &mut Value) -> std::result::Result<Vec<Uuid>, ScimError> {
    let Some(members) = doc.as_object_mut().and_then(|m| m.remove("members")) else {
        return Ok(Vec::new());
    };
    members
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| member_id(m.get("value").and_then(Value::as_str).unwrap_or_default()))
        .collect()
}

fn member_id(v: &str) -> std::result::Result<Uuid, ScimError> {
    Uuid::parse_str(v).map_err(|_| {
        ScimError::invalid_value(format!(
            "member {v} is not a user or group of this organization"
        ))
    })
}

/// Turns the PATCH engine's member delta into a store change. Adding an id
/// that is not a UUID is an error; removing one is a no-op.
pub(super) fn members_change(delta: MemberDelta) -> std::result::Result<MembersChange, ScimError> {
    let parse_all = |ids: &[String]| {
        ids.iter()
            .map(|v| member_id(v))
            .collect::<std::result::Result<Vec<_>, _>>()
    };
    let remove: Vec<Uuid> = delta
        .remove
        .iter()
        .filter_map(|v| Uuid::parse_str(v).ok())
        .collect();
    let add = parse_all(&delta.add)?;
    Ok(match delta.replace {
        Some(list) => {
            let mut ids = parse_all(&list)?;
            ids.extend(add);
            ids.retain(|i| !remove.contains(i));
            MembersChange::Replace(ids)
        }
        None if add.is_empty() && remove.is_empty() => MembersChange::Keep,
        None => MembersChange::Delta { add, remove },
    })
}
