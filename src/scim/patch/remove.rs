//! `remove` on one attribute location (RFC 7644 §3.5.2.2), also used for
//! `add` / `replace` with a null value, which RFC 7643 §2.5 makes equivalent
//! to unassigning the attribute.
//!
//! - A singular attribute, or a multi-valued one without a filter, is
//!   removed; removing an absent one is not an error.
//! - `attr[filter]` removes the matching elements and `attr[filter].sub`
//!   that sub-attribute of each; a filter matching nothing is `noTarget`
//!   (§3.5.2.2) for a real `remove`, and nothing at all for a null write.
//! - `attr.sub` on a multi-valued attribute removes the sub-attribute from
//!   every element.
//! - Removing a required attribute, or an immutable one that has a value,
//!   is `mutability` (§3.5.2: operations must respect mutability). The
//!   immutable case is checked here because `validate` restores an omitted
//!   immutable value, which would turn the removal into a silent no-op.
//! - Dialect: a `remove` of a multi-valued attribute that carries a `value`
//!   removes only the elements that value describes (every given
//!   sub-attribute equal), as Entra ID does for `members` and some clients
//!   do for `roles`; describing nothing is not an error. Such a value only
//!   gets here under `Rule::RemoveByValue`, which `request.rs` asks.
//!
//! Elements left empty, and attributes left without values, are dropped.

use serde_json::{Map, Value};

use super::json::{elements, eq_ci, get_ci, is_unassigned, normalize, put, take_ci};
use super::target::{matching, Target};
use super::write::into_items;
use super::Ctx;
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::profile::Profile;
use crate::scim::schema::{AttributeDef, Mutability};

/// Removes what `target` designates inside `container`. `strict` is true for
/// a real `remove` (a filter must match) and false for a null write.
pub(super) fn remove(
    ctx: &Ctx<'_>,
    container: &mut Map<String, Value>,
    target: &Target<'_, '_>,
    value: Option<&Value>,
    strict: bool,
) -> ScimResult<()> {
    let attr = target.attr;
    let current = take_ci(container, attr.name);
    let new = match (target.filter.is_some(), target.sub) {
        (true, _) => remove_filtered(ctx, target, current, strict)?,
        (false, Some(sub)) => {
            forbid_removal(sub, &target.shown, None)?;
            let mut items = into_items(current);
            for item in &mut items {
                remove_sub(item, sub, &target.shown)?;
            }
            items.retain(|item| !is_unassigned(item));
            if attr.multi_valued {
                Some(Value::Array(items))
            } else {
                items.pop()
            }
        }
        (false, None) => {
            let described = value.filter(|v| !v.is_null() && attr.multi_valued);
            match described {
                Some(given) => {
                    let items = remove_described(attr, current, given, &target.shown, ctx.profile)?;
                    forbid_empty(attr, &items, &target.shown)?;
                    Some(Value::Array(items))
                }
                None => {
                    forbid_removal(attr, &target.shown, current.as_ref())?;
                    None
                }
            }
        }
    };
    put(container, attr.name, new);
    Ok(())
}

/// `mutability` for removing what the schema says must stay.
fn forbid_removal(def: &AttributeDef, path: &str, current: Option<&Value>) -> ScimResult<()> {
    if def.required {
        return Err(ScimError::mutability(format!(
            "'{path}' is required and cannot be removed"
        )));
    }
    if def.mutability == Mutability::Immutable && current.is_some_and(|v| !is_unassigned(v)) {
        return Err(ScimError::mutability(format!(
            "'{path}' is immutable and cannot be removed once set"
        )));
    }
    Ok(())
}

/// A required multi-valued attribute must keep at least one value.
fn forbid_empty(attr: &AttributeDef, items: &[Value], path: &str) -> ScimResult<()> {
    if attr.required && items.is_empty() {
        return Err(ScimError::mutability(format!(
            "'{path}' is required; its last value cannot be removed"
        )));
    }
    Ok(())
}

fn remove_sub(item: &mut Value, sub: &AttributeDef, path: &str) -> ScimResult<()> {
    if let Some(element) = item.as_object_mut() {
        let old = take_ci(element, sub.name);
        if sub.mutability == Mutability::Immutable
            && old.as_ref().is_some_and(|v| !is_unassigned(v))
        {
            return Err(ScimError::mutability(format!(
                "'{path}' is immutable and cannot be removed once set"
            )));
        }
    }
    Ok(())
}

fn remove_filtered(
    ctx: &Ctx<'_>,
    target: &Target<'_, '_>,
    current: Option<Value>,
    strict: bool,
) -> ScimResult<Option<Value>> {
    let attr = target.attr;
    let mut items = into_items(current);
    let hits = matching(ctx.reg, ctx.rt, target, &items);
    if hits.is_empty() && strict {
        return Err(ScimError::no_target(format!(
            "no value of '{}' matches the filter in '{}'",
            attr.name, target.shown
        )));
    }
    match target.sub {
        Some(sub) => {
            forbid_removal(sub, &target.shown, None)?;
            for &i in &hits {
                if let Some(item) = items.get_mut(i) {
                    remove_sub(item, sub, &target.shown)?;
                }
            }
            items.retain(|item| !is_unassigned(item));
        }
        None => {
            let mut index = 0;
            items.retain(|_| {
                let keep = !hits.contains(&index);
                index += 1;
                keep
            });
        }
    }
    forbid_empty(attr, &items, &target.shown)?;
    Ok(Some(Value::Array(items)))
}

/// Removes the elements of `current` that one of the values in `given`
/// describes.
fn remove_described(
    attr: &AttributeDef,
    current: Option<Value>,
    given: &Value,
    path: &str,
    profile: Profile,
) -> ScimResult<Vec<Value>> {
    let mut described = Vec::new();
    for value in elements(given, path, profile)? {
        let value = normalize(attr, value, path, profile)?;
        if !is_unassigned(&value) {
            described.push(value);
        }
    }
    let mut items = into_items(current);
    items.retain(|item| !described.iter().any(|d| describes(d, item)));
    Ok(items)
}

/// Whether every sub-attribute given in `description` has the same value in
/// `item` (plain equality for simple elements).
fn describes(description: &Value, item: &Value) -> bool {
    match (description, item) {
        (Value::Object(wanted), Value::Object(have)) => wanted
            .iter()
            .all(|(k, v)| get_ci(have, k).is_some_and(|h| eq_ci(h, v))),
        _ => eq_ci(description, item),
    }
}
