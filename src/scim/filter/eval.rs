//! Evaluating a filter against a SCIM JSON resource (RFC 7644 §3.4.2.2
//! semantics), plus the schema vocabulary the callers provide
//! ([`AttrKind`]) and the attribute resolution shared with `check`.
//!
//! Semantics implemented here:
//! - a multi-valued attribute (or a sub-attribute reached through one)
//!   matches if ANY of its values matches;
//! - `ne` is `not eq`, so it is true for a missing attribute;
//! - `pr` means present and not null, `""`, `[]` or `{}`;
//! - `eq null` means "has no non-null value", `ne null` the opposite;
//! - strings compare case-insensitively unless the attribute is caseExact,
//!   and `gt`/`ge`/`lt`/`le` on strings are lexicographic;
//! - dateTimes compare as instants, numbers numerically;
//! - a comparison whose JSON types do not fit (say a string against a
//!   number) is false rather than an error: `check` is where types are
//!   enforced, and a stored document is not the client's fault.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Number, Value};

use super::{CompValue, CompareOp, Filter};
use crate::scim::path::AttrPath;
use crate::scim::schema::AttrType;

/// What the filter code needs to know about one attribute's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrKind {
    pub ty: AttrType,
    pub case_exact: bool,
    pub multi_valued: bool,
}

/// The schema callback: fully-qualified path → kind, None if unknown.
pub(super) type Lookup<'a> = dyn Fn(&AttrPath) -> Option<AttrKind> + 'a;

/// The attribute a top-level comparison really targets, and its kind.
///
/// RFC 7644 §3.4.2.2 compares a multi-valued complex attribute written
/// without a sub-attribute (`emails co "example.com"`) through its `value`
/// sub-attribute. We apply that shorthand whenever the schema says the
/// attribute is multi-valued, complex, and has a `value` sub-attribute, both
/// when checking and when evaluating, so the two always agree. `pr` is not a
/// comparison and never goes through here.
pub(super) fn comparison_target<'p>(
    path: &'p AttrPath,
    lookup: &Lookup<'_>,
) -> Option<(Cow<'p, AttrPath>, AttrKind)> {
    let kind = lookup(path)?;
    if kind.ty == AttrType::Complex && kind.multi_valued && path.sub.is_none() {
        let value_path = AttrPath {
            sub: Some("value".to_string()),
            ..path.clone()
        };
        if let Some(value_kind) = lookup(&value_path) {
            return Some((Cow::Owned(value_path), value_kind));
        }
    }
    Some((Cow::Borrowed(path), kind))
}

/// The schema path of `inner` inside the value filter of `outer`
/// (`type` in `emails[type eq "work"]` → `emails.type`).
pub(super) fn qualify(outer: &AttrPath, inner: &AttrPath) -> AttrPath {
    AttrPath {
        urn: outer.urn.clone(),
        attr: outer.attr.clone(),
        sub: Some(inner.attr.clone()),
    }
}

/// Whether `doc` (a SCIM resource in its JSON form) satisfies `filter`.
/// Object keys are matched case-insensitively; extension attributes are
/// looked up under their schema URN key. A URN that is not a key of the
/// document is taken to be the resource's core schema, whose attributes live
/// at the top level. Paths must be qualified for unqualified extension
/// attributes to be found: [`super::matches_resource`] does that.
pub fn matches(
    filter: &Filter,
    doc: &Value,
    lookup: &dyn Fn(&AttrPath) -> Option<AttrKind>,
) -> bool {
    Eval { doc, lookup }.filter(filter, None)
}

/// Whether one element of the multi-valued attribute `outer` passes the
/// value filter `filter` (the inside of `outer[…]`), as [`matches`] would
/// judge it inside a document, without building one around the element.
pub fn matches_element(
    outer: &AttrPath,
    filter: &Filter,
    elem: &Value,
    lookup: &dyn Fn(&AttrPath) -> Option<AttrKind>,
) -> bool {
    Eval {
        doc: &Value::Null,
        lookup,
    }
    .filter(filter, Some((outer, elem)))
}

struct Eval<'a, 'l> {
    doc: &'a Value,
    lookup: &'a Lookup<'l>,
}

/// Inside `attr[…]`: the outer attribute and the one element being tested.
type Scope<'s, 'a> = Option<(&'s AttrPath, &'a Value)>;

impl<'a> Eval<'a, '_> {
    fn filter(&self, filter: &Filter, scope: Scope<'_, 'a>) -> bool {
        match filter {
            Filter::And(l, r) => self.filter(l, scope) && self.filter(r, scope),
            Filter::Or(l, r) => self.filter(l, scope) || self.filter(r, scope),
            Filter::Not(inner) => !self.filter(inner, scope),
            Filter::Present(path) => {
                let values = match scope {
                    None => self.values(path),
                    Some((_, elem)) => sub_values(elem, &path.attr),
                };
                values.into_iter().any(is_present)
            }
            Filter::Compare(path, op, value) => {
                let (values, kind) = match scope {
                    None => match comparison_target(path, self.lookup) {
                        Some((target, kind)) => (self.values(&target), Some(kind)),
                        None => (self.values(path), None),
                    },
                    Some((outer, elem)) => (
                        sub_values(elem, &path.attr),
                        (self.lookup)(&qualify(outer, path)),
                    ),
                };
                compare_any(&values, *op, value, kind)
            }
            // A nested value path cannot be parsed; for one built by hand,
            // the inner scope simply replaces the outer.
            Filter::ValuePath(path, inner) => self
                .attr_value(path)
                .map(elements)
                .unwrap_or_default()
                .into_iter()
                .any(|elem| self.filter(inner, Some((path, elem)))),
        }
    }

    /// The value of the top-level attribute named by `path` (ignoring `sub`).
    fn attr_value(&self, path: &AttrPath) -> Option<&'a Value> {
        let container = path
            .urn
            .as_deref()
            .and_then(|urn| get_ci(self.doc, urn))
            .filter(|v| v.is_object())
            .unwrap_or(self.doc);
        get_ci(container, &path.attr)
    }

    /// Every leaf value `path` reaches, flattening multi-valued attributes.
    fn values(&self, path: &AttrPath) -> Vec<&'a Value> {
        let Some(top) = self.attr_value(path) else {
            return Vec::new();
        };
        match &path.sub {
            None => elements(top),
            Some(sub) => elements(top)
                .into_iter()
                .flat_map(|elem| sub_values(elem, sub))
                .collect(),
        }
    }
}

fn sub_values<'a>(elem: &'a Value, name: &str) -> Vec<&'a Value> {
    get_ci(elem, name).map(elements).unwrap_or_default()
}

/// The values of a possibly multi-valued attribute.
fn elements(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// Object member by name, ignoring ASCII case (RFC 7643 §2.1), preferring an
/// exact match.
fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_any(
    values: &[&Value],
    op: CompareOp,
    value: &CompValue,
    kind: Option<AttrKind>,
) -> bool {
    match (op, value) {
        (CompareOp::Ne, _) => !compare_any(values, CompareOp::Eq, value, kind),
        (CompareOp::Eq, CompValue::Null) => values.iter().all(|v| v.is_null()),
        (_, CompValue::Null) => false,
        _ => values.iter().any(|v| compare(v, op, value, kind)),
    }
}

/// One stored value against the filter's value, for every operator but `ne`.
fn compare(stored: &Value, op: CompareOp, value: &CompValue, kind: Option<AttrKind>) -> bool {
    match (stored, value) {
        (Value::String(a), CompValue::Str(b)) => match kind.map(|k| k.ty) {
            Some(AttrType::DateTime) => match (parse_datetime(a), parse_datetime(b)) {
                (Some(a), Some(b)) => ordering_holds(op, a.cmp(&b)),
                _ => false,
            },
            _ => compare_strings(a, op, b, kind.is_some_and(|k| k.case_exact)),
        },
        (Value::Number(a), CompValue::Number(b)) => {
            compare_numbers(a, b).is_some_and(|ord| ordering_holds(op, ord))
        }
        (Value::Bool(a), CompValue::Bool(b)) => op == CompareOp::Eq && a == b,
        _ => false,
    }
}

fn compare_strings(stored: &str, op: CompareOp, value: &str, case_exact: bool) -> bool {
    let (a, b): (Cow<str>, Cow<str>) = if case_exact {
        (stored.into(), value.into())
    } else {
        (stored.to_lowercase().into(), value.to_lowercase().into())
    };
    match op {
        CompareOp::Co => a.contains(b.as_ref()),
        CompareOp::Sw => a.starts_with(b.as_ref()),
        CompareOp::Ew => a.ends_with(b.as_ref()),
        _ => ordering_holds(op, a.cmp(&b)),
    }
}

/// Exact for integers that fit 64 bits, f64 otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// Whether an ordering satisfies an ordering-style operator; substring
/// operators do not apply to orderings.
fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord.is_eq(),
        CompareOp::Ne => ord.is_ne(),
        CompareOp::Gt => ord.is_gt(),
        CompareOp::Ge => ord.is_ge(),
        CompareOp::Lt => ord.is_lt(),
        CompareOp::Le => ord.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// RFC 7643 §2.3.5: xsd:dateTime, which in practice is RFC 3339.
pub(super) fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}
