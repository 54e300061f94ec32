//! One comparison (`attr op value`, RFC 7644 §3.4.2.2) against one SQL
//! value, with the semantics of `scim::filter::eval`:
//! - strings compare case-insensitively unless the attribute is caseExact;
//!   `gt`/`ge`/`lt`/`le` compare code points (`COLLATE "C"`, like Rust's
//!   `str` ordering), whatever the database's locale;
//! - `co`/`sw`/`ew` are `LIKE` with the value's `%`, `_` and `\` escaped;
//! - dateTimes compare as instants, numbers numerically, booleans by `eq`;
//! - a stored value of another JSON type than the filter's value is simply
//!   not a match (never a database error).
//!
//! `ne` never gets here: it is `NOT eq` (true for a missing attribute), and
//! `eq null` is handled by the callers, which know what "no value" means for
//! their source. Every predicate returned is two-valued: never NULL.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Text};
use uuid::Uuid;

use super::sql::{like_escape, Bind, Frag};
use crate::scim::filter::{AttrKind, CompValue, CompareOp};
use crate::scim::schema::fold;
use crate::scim::schema::AttrType;

/// How the stored text and the filter's value are brought to the same case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// caseExact: compared as they are.
    Exact,
    /// The stored text is already folded by scimd (`*_ci` columns).
    Folded,
    /// Both sides go through SQL `scim_fold()` (Unicode `lower()`, migration
    /// 8), the value folded by scimd first.
    Lower,
}

/// An RFC 3339 date-time with an offset, as `DateTime::parse_from_rfc3339`
/// accepts (year 0000 aside, which PostgreSQL cannot represent). Only text of
/// this shape is cast to timestamptz, so a stray stored string can never make
/// the cast, and the whole query, fail.
pub const RFC3339_SHAPE: &str = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'";

/// `expr op value` for text; `expr` must not be NULL (guard nullable
/// columns with `IS NOT NULL AND`).
pub fn text_pred(expr: &Frag<Text>, case: Case, op: CompareOp, value: &str) -> Frag {
    let (lhs, rhs_open, rhs_close) = match case {
        Case::Lower => (
            Frag::<Text>::sql("scim_fold(").append(expr).push(")"),
            "scim_fold(",
            ")",
        ),
        Case::Exact | Case::Folded => (Frag::<Text>::sql("").append(expr), "", ""),
    };
    let value = match case {
        Case::Exact => value.to_string(),
        Case::Folded | Case::Lower => fold(value),
    };
    let (op_sql, bound, collate) = match op {
        CompareOp::Eq | CompareOp::Ne => (" = ", value, ""),
        CompareOp::Co => (" LIKE ", format!("%{}%", like_escape(&value)), ""),
        CompareOp::Sw => (" LIKE ", format!("{}%", like_escape(&value)), ""),
        CompareOp::Ew => (" LIKE ", format!("%{}", like_escape(&value)), ""),
        CompareOp::Gt => (" > ", value, " COLLATE \"C\""),
        CompareOp::Ge => (" >= ", value, " COLLATE \"C\""),
        CompareOp::Lt => (" < ", value, " COLLATE \"C\""),
        CompareOp::Le => (" <= ", value, " COLLATE \"C\""),
    };
    let escape = if op_sql == " LIKE " {
        " ESCAPE '\\'"
    } else {
        ""
    };
    Frag::sql("(")
        .append(&lhs)
        .push(op_sql)
        .push(rhs_open)
        .text(bound)
        .push(rhs_close)
        .push(collate)
        .push(escape)
        .push(")")
}

/// The SQL operator for an ordering comparison; None for `co`/`sw`/`ew`.
pub fn ordering_sql(op: CompareOp) -> Option<&'static str> {
    match op {
        CompareOp::Eq | CompareOp::Ne => Some(" = "),
        CompareOp::Gt => Some(" > "),
        CompareOp::Ge => Some(" >= "),
        CompareOp::Lt => Some(" < "),
        CompareOp::Le => Some(" <= "),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
    }
}

/// A filter date-time as an instant; `check` has already refused others.
pub fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An id in its canonical hyphenated form (any case). Anything else cannot
/// equal a stored id, so `id eq "nope"` matches nothing rather than failing.
pub fn parse_id(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    Uuid::parse_str(text).ok()
}

/// `col op value` for a non-null timestamptz column.
pub fn time_pred(col: &'static str, op: CompareOp, value: &CompValue) -> Frag {
    match (value, ordering_sql(op)) {
        (CompValue::Str(s), Some(op_sql)) => match instant(s) {
            Some(t) => Frag::sql("(")
                .push(col)
                .push(op_sql)
                .bind(Bind::Time(t))
                .push(")"),
            None => Frag::truth(false),
        },
        _ => Frag::truth(false),
    }
}

/// One JSON value `v` (possibly SQL NULL when absent) against the filter's
/// value, for an attribute of kind `kind`.
pub fn json_pred(v: &Frag<Jsonb>, kind: AttrKind, op: CompareOp, value: &CompValue) -> Frag {
    let as_text = || Frag::<Text>::sql("(").append(v).push(" #>> '{}')");
    let guarded = |json_type: &'static str, test: Frag| {
        Frag::sql("(CASE WHEN jsonb_typeof(")
            .append(v)
            .push(json_type)
            .push(" THEN ")
            .append(&test)
            .push(" ELSE FALSE END)")
    };
    match value {
        CompValue::Str(s) if kind.ty == AttrType::DateTime => {
            match (instant(s), ordering_sql(op)) {
                (Some(t), Some(op_sql)) => Frag::sql("(CASE WHEN jsonb_typeof(")
                    .append(v)
                    .push(") = 'string' AND ")
                    .append(&as_text())
                    .push(" ~ ")
                    .push(RFC3339_SHAPE)
                    .push(" AND ")
                    .append(&as_text())
                    .push(" NOT LIKE '0000%' THEN CAST(")
                    .append(&as_text())
                    .push(" AS timestamptz)")
                    .push(op_sql)
                    .bind(Bind::Time(t))
                    .push(" ELSE FALSE END)"),
                _ => Frag::truth(false),
            }
        }
        CompValue::Str(s) => {
            let case = if kind.case_exact {
                Case::Exact
            } else {
                Case::Lower
            };
            guarded(") = 'string'", text_pred(&as_text(), case, op, s))
        }
        CompValue::Number(n) => match ordering_sql(op) {
            Some(op_sql) => guarded(
                ") = 'number'",
                Frag::sql("((")
                    .append(v)
                    .push(")::numeric")
                    .push(op_sql)
                    .push("CAST(")
                    .text(n.to_string())
                    .push(" AS numeric))"),
            ),
            None => Frag::truth(false),
        },
        CompValue::Bool(b) if matches!(op, CompareOp::Eq | CompareOp::Ne) => guarded(
            ") = 'boolean'",
            Frag::sql("((")
                .append(v)
                .push(")::boolean = ")
                .bind(Bind::Bool(*b))
                .push(")"),
        ),
        CompValue::Bool(_) | CompValue::Null => Frag::truth(false),
    }
}

/// `eq null` for one JSON value: absent or JSON null.
pub fn json_is_null(v: &Frag<Jsonb>) -> Frag {
    Frag::sql("(")
        .append(v)
        .push(" IS NULL OR ")
        .append(v)
        .push(" = 'null'::jsonb)")
}

/// RFC 7644 §3.4.2.2 `pr`: present and not null, `""`, `[]` or `{}`.
pub fn json_present(v: &Frag<Jsonb>) -> Frag {
    Frag::sql("COALESCE(")
        .append(v)
        .push(" NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb), FALSE)")
}

/// A comparison whose answer does not depend on the row
/// (`meta.resourceType`, a caseExact string), evaluated here.
pub fn constant(stored: &str, op: CompareOp, value: &CompValue) -> bool {
    let CompValue::Str(v) = value else {
        return false;
    };
    match op {
        CompareOp::Eq => stored == v,
        CompareOp::Ne => stored != v,
        CompareOp::Co => stored.contains(v.as_str()),
        CompareOp::Sw => stored.starts_with(v.as_str()),
        CompareOp::Ew => stored.ends_with(v.as_str()),
        CompareOp::Gt => stored > v.as_str(),
        CompareOp::Ge => stored >= v.as_str(),
        CompareOp::Lt => stored < v.as_str(),
        CompareOp::Le => stored <= v.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;
    use diesel::pg::Pg;

    fn shown(f: &Frag) -> String {
        debug_query::<Pg, _>(f).to_string()
    }

    #[test]
    fn text_predicates_bind_escaped_folded_values() {
        let col = Frag::<Text>::sql("c");
        let f = text_pred(&col, Case::Folded, CompareOp::Co, "A%b_C\\");
        let s = shown(&f);
        assert!(s.starts_with("(c LIKE $1 ESCAPE '\\')"), "{s}");
        assert!(s.contains(r#""%a\\%b\\_c\\\\%""#), "{s}");
        let s = shown(&text_pred(&col, Case::Lower, CompareOp::Gt, "Ab"));
        assert!(
            s.starts_with("(scim_fold(c) > scim_fold($1) COLLATE \"C\")"),
            "{s}"
        );
        let s = shown(&text_pred(&col, Case::Exact, CompareOp::Sw, "Ab"));
        assert!(s.contains(r#""Ab%""#), "{s}");
    }

    #[test]
    fn ids_must_be_hyphenated_uuids() {
        assert!(parse_id("0191c5a0-0000-7000-8000-000000000001").is_some());
        assert!(parse_id("0191C5A0-0000-7000-8000-000000000001").is_some());
        assert!(parse_id("0191c5a0000070008000000000000001").is_none());
        assert!(parse_id("bjensen").is_none());
    }

    #[test]
    fn constants_follow_case_exact_rules() {
        let v = CompValue::Str("User".into());
        assert!(constant("User", CompareOp::Eq, &v));
        assert!(!constant(
            "User",
            CompareOp::Eq,
            &CompValue::Str("user".into())
        ));
        assert!(constant(
            "User",
            CompareOp::Sw,
            &CompValue::Str("Us".into())
        ));
        assert!(!constant("User", CompareOp::Eq, &CompValue::Null));
    }
}
