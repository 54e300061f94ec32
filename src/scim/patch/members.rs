//! Group membership under PATCH (RFC 7644 §3.5.2, with the Group examples of
//! §3.5.2.1–3). Members are stored as rows, not in the group document, so
//! operations on `members` become a [`MemberDelta`] the store applies.
//!
//! - `add` `members` (or a no-path `members` key): add those ids.
//! - `replace` `members`: the list becomes exactly those ids.
//! - `remove` `members` without a value: remove all (§3.5.2.2); with a value
//!   (Entra ID's `[{"value": id}]`): remove those ids.
//! - `remove` `members[value eq "id"]`, also several joined by `or`: remove
//!   those ids. Other filters are `invalidFilter`: the engine does not know
//!   the current members, so it cannot evaluate them.
//! - Removing an id that is not a member is not an error (no `noTarget`):
//!   the store ignores it, and the client's intent is met.
//! - Members are named by `value`, a non-empty string; `display`, `$ref` and
//!   `type` are ignored (display is readOnly, the others follow from the id).
//!   Ids compare ASCII-case-insensitively (they are UUIDs; the store parses
//!   them), keeping the first spelling.
//! - One member object instead of an array is a list of one under
//!   `Rule::SingleValueForMultiValued`, a bare id string a `{"value": id}`
//!   under `Rule::ScalarForComplex`; a `remove` carries a value only under
//!   `Rule::RemoveByValue` (asked in `request.rs`).
//!
//! Operations compose in order, so each id ends up with the effect of the
//! last operation naming it. An `add` followed by a `remove` of the same id
//! therefore removes it (it may have been a member before the request); a
//! `remove` followed by an `add` adds it. After a `replace` the list itself
//! is edited, so `add` and `remove` stay empty.

use serde_json::Value;

use super::json::{elements, get_ci};
use super::target::Target;
use super::write::Mode;
use super::MemberDelta;
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::profile::{Profile, Rule};

impl MemberDelta {
    /// True when the operations leave membership untouched.
    pub fn is_empty(&self) -> bool {
        self.replace.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    fn add_ids(&mut self, ids: Vec<String>) {
        for id in ids {
            match &mut self.replace {
                Some(list) => push_unique(list, id),
                None => {
                    self.remove.retain(|r| !r.eq_ignore_ascii_case(&id));
                    push_unique(&mut self.add, id);
                }
            }
        }
    }

    fn remove_ids(&mut self, ids: Vec<String>) {
        for id in ids {
            match &mut self.replace {
                Some(list) => list.retain(|m| !m.eq_ignore_ascii_case(&id)),
                None => {
                    self.add.retain(|a| !a.eq_ignore_ascii_case(&id));
                    push_unique(&mut self.remove, id);
                }
            }
        }
    }

    fn replace_ids(&mut self, ids: Vec<String>) {
        let mut list = Vec::with_capacity(ids.len());
        for id in ids {
            push_unique(&mut list, id);
        }
        self.replace = Some(list);
        self.add.clear();
        self.remove.clear();
    }
}

fn push_unique(list: &mut Vec<String>, id: String) {
    if !list.iter().any(|m| m.eq_ignore_ascii_case(&id)) {
        list.push(id);
    }
}

/// `add` / `replace` on a `members` location.
pub(super) fn write(
    delta: &mut MemberDelta,
    target: &Target<'_, '_>,
    value: &Value,
    mode: Mode,
    profile: Profile,
) -> ScimResult<()> {
    if target.filter.is_some() || target.sub.is_some() {
        return Err(whole_members_only(target));
    }
    let ids = member_ids(value, &target.shown, profile)?;
    match mode {
        Mode::Add => delta.add_ids(ids),
        Mode::Replace => delta.replace_ids(ids),
    }
    Ok(())
}

/// `remove` on a `members` location.
pub(super) fn remove(
    delta: &mut MemberDelta,
    target: &Target<'_, '_>,
    value: Option<&Value>,
    profile: Profile,
) -> ScimResult<()> {
    if target.sub.is_some() {
        return Err(whole_members_only(target));
    }
    if let Some(filter) = target.filter {
        let mut ids = Vec::new();
        filter_ids(filter, &mut ids)?;
        delta.remove_ids(ids);
        return Ok(());
    }
    match value.filter(|v| !v.is_null()) {
        None => delta.replace_ids(Vec::new()),
        Some(given) => delta.remove_ids(member_ids(given, &target.shown, profile)?),
    }
    Ok(())
}

fn whole_members_only(target: &Target<'_, '_>) -> ScimError {
    ScimError::invalid_path(format!(
        "'{}': group members can only be added, replaced or removed whole \
         (by value, or with a 'value eq' filter for remove)",
        target.shown
    ))
}

/// The ids of the members in `value`: an array (or one) of
/// `{"value": id, ...}`; a bare id string is read as `{"value": id}`, as
/// `validate` reads a scalar for a complex attribute.
fn member_ids(value: &Value, path: &str, profile: Profile) -> ScimResult<Vec<String>> {
    elements(value, path, profile)?
        .into_iter()
        .enumerate()
        .map(|(i, member)| {
            let id = match member {
                Value::Object(m) => get_ci(m, "value"),
                id @ Value::String(_) => {
                    profile.permit(Rule::ScalarForComplex, || {
                        ScimError::invalid_value(format!(
                            "member {i} must be an object with a 'value' (the member's id), not a string"
                        ))
                    })?;
                    Some(id)
                }
                _ => None,
            };
            match id.and_then(Value::as_str).map(str::trim) {
                Some(id) if !id.is_empty() => Ok(id.to_string()),
                _ => Err(ScimError::invalid_value(format!(
                    "member {i} must be an object with a non-empty string 'value' (the member's id)"
                ))),
            }
        })
        .collect()
}

/// The ids of `value eq "id" [or value eq "id" ...]`.
fn filter_ids(filter: &Filter, ids: &mut Vec<String>) -> ScimResult<()> {
    match filter {
        Filter::Or(l, r) => {
            filter_ids(l, ids)?;
            filter_ids(r, ids)
        }
        Filter::Compare(path, CompareOp::Eq, CompValue::Str(id))
            if path.urn.is_none() && path.sub.is_none() && path.attr_is("value") =>
        {
            ids.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::invalid_filter(
            "only 'value eq \"<id>\"' filters, optionally joined with 'or', are supported on members",
        )),
    }
}
