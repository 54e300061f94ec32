//! `add` and `replace` on one attribute location (RFC 7644 §3.5.2.1 and
//! §3.5.2.3). The caller has resolved the path, checked mutability and
//! handled null values and Group members; everything here works on the JSON
//! object (resource root or extension) that holds the attribute.
//!
//! The two operations differ only where the RFC makes them differ:
//! - a singular attribute is set by both;
//! - a singular complex attribute is merged by both: the given
//!   sub-attributes are set (null clears one), the others are kept
//!   (§3.5.2.1 and the complex-attribute rule of §3.5.2.3);
//! - a multi-valued attribute is appended to by `add` (values equal to an
//!   existing one are skipped) and replaced whole by `replace`;
//! - with a value filter, `replace` replaces each matching element and
//!   `add` merges into it; `.sub` sets that sub-attribute in each match;
//! - `attr.sub` on a multi-valued attribute without a filter sets the
//!   sub-attribute in every element (creating one if there is none), the
//!   reading of §3.5.2 that needs no guess about which element is meant.
//!
//! Two dialect rules: a filter that matches nothing is `noTarget` (§3.5.2.3),
//! except that under `Rule::CreateOnValueFilter` `attr[type eq "X"].sub` (or
//! an `and` of `eq`s) creates the element it describes, because Entra ID
//! provisions new emails and phone numbers exactly that way; and a singular
//! complex attribute with a `value` sub-attribute (the enterprise `manager`)
//! whose `value` is written as null is removed, and as `""` too under
//! `Rule::BlankClearsReference`, which is how Entra ID clears a manager.
//!
//! Whenever an element ends up with `primary: true`, the other elements of
//! the attribute lose it (RFC 7643 §2.4: at most one primary value).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::json::{
    complex_members, dedup_key, elements, eq_ci, get_ci, is_unassigned, normalize, put, take_ci,
};
use super::target::{describe_element, matching, Target};
use super::Ctx;
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::profile::{Profile, Rule};
use crate::scim::schema::{AttrType, AttributeDef};

/// Up to this many values are merged by comparison with each element.
const FEW: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Add,
    Replace,
}

/// Writes `value` (not null) to `target` inside `container`.
pub(super) fn write(
    ctx: &Ctx<'_>,
    container: &mut Map<String, Value>,
    target: &Target<'_, '_>,
    value: &Value,
    mode: Mode,
) -> ScimResult<()> {
    let attr = target.attr;
    let profile = ctx.profile;
    let current = take_ci(container, attr.name);
    let new = match (target.filter.is_some(), target.sub) {
        (true, _) => Some(write_filtered(ctx, target, current, value, mode)?),
        (false, Some(sub)) if attr.multi_valued => Some(write_sub_everywhere(
            attr, sub, current, value, mode, target, profile,
        )?),
        (false, Some(sub)) => write_sub(attr, sub, current, value, mode, &target.shown, profile)?,
        (false, None) => write_value(attr, current, value, mode, &target.shown, profile)?,
    };
    // Checked after each operation, so a PATCH of many operations cannot
    // grow an attribute (and the work of the next one) past the limit.
    if let Some(Value::Array(items)) = &new {
        let max = ctx.reg.max_values();
        if attr.multi_valued && items.len() > max {
            return Err(crate::scim::limits::too_many(attr.name, items.len(), max));
        }
    }
    put(container, attr.name, new);
    Ok(())
}

/// The new value of attribute (or sub-attribute) `def`, given its current
/// value; `None` means unassigned.
pub(super) fn write_value(
    def: &AttributeDef,
    current: Option<Value>,
    value: &Value,
    mode: Mode,
    path: &str,
    profile: Profile,
) -> ScimResult<Option<Value>> {
    if def.multi_valued {
        let mut items = match mode {
            Mode::Add => into_items(current),
            Mode::Replace => Vec::new(),
        };
        let given = elements(value, path, profile)?;
        let mut touched = Vec::with_capacity(given.len());
        // RFC 7644 §3.5.2.1: a value already present is not added again.
        // A few values (what IdPs send) are compared with each element; more
        // are found through a key per value, so a merge is linear in the
        // values involved, never their product.
        let mut index: Option<HashMap<String, usize>> = (given.len() > FEW).then(|| {
            items
                .iter()
                .enumerate()
                .map(|(i, existing)| (dedup_key(existing), i))
                .collect()
        });
        for given in given {
            let item = normalize(def, given, path, profile)?;
            if is_unassigned(&item) {
                continue;
            }
            let (found, key) = match &index {
                Some(index) => {
                    let key = dedup_key(&item);
                    (index.get(&key).copied(), Some(key))
                }
                None => (items.iter().position(|e| eq_ci(e, &item)), None),
            };
            match found {
                Some(i) => touched.push(i),
                None => {
                    items.push(item);
                    if let (Some(index), Some(key)) = (index.as_mut(), key) {
                        index.insert(key, items.len() - 1);
                    }
                    touched.push(items.len() - 1);
                }
            }
        }
        enforce_primary(def, &mut items, &touched);
        return Ok(Some(Value::Array(items)));
    }
    if value.is_null() {
        return Ok(None);
    }
    if !def.is_complex() {
        return normalize(def, value, path, profile).map(Some);
    }
    let given = complex_members(def, value, path, profile)?;
    if clears_reference(def, &given, path, profile)? {
        return Ok(None);
    }
    let mut merged = match current {
        Some(Value::Object(existing)) => existing,
        _ => Map::new(),
    };
    for (name, v) in given {
        put(&mut merged, &name, Some(v));
    }
    Ok(Some(Value::Object(merged)))
}

/// Entra ID clears `manager` with `""`, `{"value": ""}` or null: a reference
/// attribute whose `value` is null refers to nothing and is removed, and
/// so is one whose `value` is blank under `Rule::BlankClearsReference`.
fn clears_reference(
    def: &AttributeDef,
    given: &Map<String, Value>,
    path: &str,
    profile: Profile,
) -> ScimResult<bool> {
    let Some(value) = def
        .sub_attribute("value")
        .and_then(|v| get_ci(given, v.name))
    else {
        return Ok(false);
    };
    if value.is_null() {
        return Ok(true);
    }
    if !is_blank(value) {
        return Ok(false);
    }
    permit_blank(&format!("{path}.value"), profile)?;
    Ok(true)
}

fn is_blank(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.trim().is_empty())
}

/// The one question `Rule::BlankClearsReference` asks, for both ways of
/// writing the blank value.
fn permit_blank(path: &str, profile: Profile) -> ScimResult<()> {
    profile.permit(Rule::BlankClearsReference, || {
        ScimError::invalid_value(format!(
            "'{path}' is empty; a reference is cleared by removing it or writing null"
        ))
    })
}

/// `attr.sub` on a singular complex attribute (`name.givenName`).
fn write_sub(
    attr: &AttributeDef,
    sub: &AttributeDef,
    current: Option<Value>,
    value: &Value,
    mode: Mode,
    path: &str,
    profile: Profile,
) -> ScimResult<Option<Value>> {
    // `value` is never null here: a null write is a removal (see `mod.rs`).
    if attr
        .sub_attribute("value")
        .is_some_and(|v| v.name == sub.name)
        && is_blank(value)
    {
        permit_blank(path, profile)?;
        return Ok(None);
    }
    let mut parent = match current {
        Some(Value::Object(existing)) => existing,
        _ => Map::new(),
    };
    let old = take_ci(&mut parent, sub.name);
    let new = write_value(sub, old, value, mode, path, profile)?;
    put(&mut parent, sub.name, new);
    Ok(Some(Value::Object(parent)))
}

/// `attr.sub` on a multi-valued attribute without a filter: every element.
/// With no element yet, one is created holding just `sub`.
fn write_sub_everywhere(
    attr: &AttributeDef,
    sub: &AttributeDef,
    current: Option<Value>,
    value: &Value,
    mode: Mode,
    target: &Target<'_, '_>,
    profile: Profile,
) -> ScimResult<Value> {
    let mut items = into_items(current);
    if items.is_empty() {
        items.push(Value::Object(Map::new()));
    }
    for item in &mut items {
        set_sub(item, sub, value, mode, &target.shown, profile)?;
    }
    let all: Vec<usize> = (0..items.len()).collect();
    enforce_primary(attr, &mut items, &all);
    items.retain(|item| !is_unassigned(item));
    Ok(Value::Array(items))
}

fn write_filtered(
    ctx: &Ctx<'_>,
    target: &Target<'_, '_>,
    current: Option<Value>,
    value: &Value,
    mode: Mode,
) -> ScimResult<Value> {
    let attr = target.attr;
    let profile = ctx.profile;
    let mut items = into_items(current);
    let mut hits = matching(ctx.reg, ctx.rt, target, &items);
    if hits.is_empty() {
        let no_target = || {
            ScimError::no_target(format!(
                "no value of '{}' matches the filter in '{}'",
                attr.name, target.shown
            ))
        };
        let described = target
            .filter
            .zip(target.sub)
            .and_then(|(filter, _)| describe_element(attr, filter));
        let Some(element) = described else {
            return Err(no_target());
        };
        profile.permit(Rule::CreateOnValueFilter, no_target)?;
        items.push(Value::Object(element));
        hits.push(items.len() - 1);
    }
    for &i in &hits {
        let Some(item) = items.get_mut(i) else {
            continue;
        };
        match (target.sub, mode) {
            (Some(sub), _) => set_sub(item, sub, value, mode, &target.shown, profile)?,
            // §3.5.2.3: "all matching record values will be replaced".
            (None, Mode::Replace) => *item = normalize(attr, value, &target.shown, profile)?,
            (None, Mode::Add) => {
                let mut merged = match std::mem::take(item) {
                    Value::Object(existing) => existing,
                    _ => Map::new(),
                };
                for (name, v) in complex_members(attr, value, &target.shown, profile)? {
                    put(&mut merged, &name, Some(v));
                }
                *item = Value::Object(merged);
            }
        }
    }
    enforce_primary(attr, &mut items, &hits);
    items.retain(|item| !is_unassigned(item));
    Ok(Value::Array(items))
}

/// Writes sub-attribute `sub` of one element of a multi-valued complex
/// attribute.
fn set_sub(
    item: &mut Value,
    sub: &AttributeDef,
    value: &Value,
    mode: Mode,
    path: &str,
    profile: Profile,
) -> ScimResult<()> {
    let mut element = match std::mem::take(item) {
        Value::Object(existing) => existing,
        _ => Map::new(),
    };
    let old = take_ci(&mut element, sub.name);
    let new = write_value(sub, old, value, mode, path, profile)?;
    put(&mut element, sub.name, new);
    *item = Value::Object(element);
    Ok(())
}

/// The elements of a multi-valued attribute's current value.
pub(super) fn into_items(current: Option<Value>) -> Vec<Value> {
    match current {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(single) => vec![single],
    }
}

/// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more
/// than once." When one of the elements just written is primary, the others
/// stop being primary. Two written primaries are left for `validate` to
/// refuse: which one the client meant is not ours to guess.
fn enforce_primary(def: &AttributeDef, items: &mut [Value], touched: &[usize]) {
    let Some(primary) = def
        .sub_attribute("primary")
        .filter(|p| p.attr_type == AttrType::Boolean)
    else {
        return;
    };
    // Every element here is a stored value or one just normalized, so a
    // primary is a real boolean by now (no profile question to ask).
    let is_primary = |item: &Value| {
        item.as_object()
            .and_then(|m| get_ci(m, primary.name))
            .is_some_and(|v| *v == Value::Bool(true))
    };
    let wins = touched
        .iter()
        .any(|&i| items.get(i).is_some_and(&is_primary));
    if !wins {
        return;
    }
    let mut written = vec![false; items.len()];
    for &i in touched {
        if let Some(w) = written.get_mut(i) {
            *w = true;
        }
    }
    for (item, written) in items.iter_mut().zip(written) {
        if written || !is_primary(item) {
            continue;
        }
        if let Some(element) = item.as_object_mut() {
            put(element, primary.name, Some(Value::Bool(false)));
        }
    }
}
