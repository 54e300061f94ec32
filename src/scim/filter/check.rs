//! Type checking a parsed filter against the schema (RFC 7644 §3.4.2.2 and
//! the data types of RFC 7643 §2.3), so that a filter the server cannot
//! answer meaningfully is refused with `invalidFilter` up front instead of
//! silently matching nothing.
//!
//! Rules, per comparison (after the `emails` → `emails.value` shorthand,
//! see `eval::comparison_target`):
//! - the attribute must exist (`pr` included);
//! - complex attributes cannot be compared directly;
//! - `gt ge lt le` need an ordered type (not boolean or binary);
//! - `co sw ew` need a string or reference;
//! - the value's JSON type must fit the attribute's type, and a dateTime
//!   value must be RFC 3339;
//! - `null` may only be compared with `eq` or `ne`.

use super::eval::{comparison_target, parse_datetime, qualify, AttrKind, Lookup};
use super::parse::snippet;
use super::{CompValue, CompareOp, Filter};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::path::AttrPath;
use crate::scim::schema::AttrType;

/// Checks every attribute and comparison in `filter`. `lookup` gets
/// fully-qualified paths (see [`Filter::ValuePath`]) and returns None for an
/// unknown attribute.
pub fn check(filter: &Filter, lookup: &dyn Fn(&AttrPath) -> Option<AttrKind>) -> ScimResult<()> {
    check_in(filter, None, lookup)
}

fn check_in(filter: &Filter, outer: Option<&AttrPath>, lookup: &Lookup<'_>) -> ScimResult<()> {
    match filter {
        Filter::And(l, r) | Filter::Or(l, r) => {
            check_in(l, outer, lookup)?;
            check_in(r, outer, lookup)
        }
        Filter::Not(inner) => check_in(inner, outer, lookup),
        Filter::Present(path) => {
            let full = resolve(path, outer);
            lookup(&full).map(|_| ()).ok_or_else(|| unknown(&full))
        }
        Filter::Compare(path, op, value) => {
            let (target, kind) = match outer {
                None => comparison_target(path, lookup).ok_or_else(|| unknown(path))?,
                Some(outer) => {
                    let full = qualify(outer, path);
                    let kind = lookup(&full).ok_or_else(|| unknown(&full))?;
                    (std::borrow::Cow::Owned(full), kind)
                }
            };
            check_comparison(&target, *op, value, kind)
        }
        Filter::ValuePath(path, inner) => {
            if outer.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "value filter on '{}' cannot be nested in another value filter",
                    shown(path)
                )));
            }
            let kind = lookup(path).ok_or_else(|| unknown(path))?;
            if kind.ty != AttrType::Complex || path.sub.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "a value filter needs a complex attribute, and '{}' is {}",
                    shown(path),
                    kind.ty.as_str()
                )));
            }
            check_in(inner, Some(path), lookup)
        }
    }
}

fn resolve(path: &AttrPath, outer: Option<&AttrPath>) -> AttrPath {
    match outer {
        Some(outer) => qualify(outer, path),
        None => path.clone(),
    }
}

fn check_comparison(
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
    kind: AttrKind,
) -> ScimResult<()> {
    use AttrType as T;
    let ty = kind.ty;
    let refuse = |why: &str| {
        Err(ScimError::invalid_filter(format!(
            "cannot apply '{op}' to '{}': {why}",
            shown(path)
        )))
    };
    if ty == T::Complex {
        return refuse("it is a complex attribute; compare one of its sub-attributes");
    }
    let op_fits = match op {
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            !matches!(ty, T::Boolean | T::Binary)
        }
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => matches!(ty, T::String | T::Reference),
        CompareOp::Eq | CompareOp::Ne => true,
    };
    if !op_fits {
        return refuse(&format!(
            "the operator does not apply to {} values",
            ty.as_str()
        ));
    }
    let value_fits = match value {
        CompValue::Null => {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return refuse("null can only be compared with 'eq' or 'ne'");
            }
            true
        }
        CompValue::Bool(_) => ty == T::Boolean,
        CompValue::Number(_) => matches!(ty, T::Decimal | T::Integer),
        CompValue::Str(s) if ty == T::DateTime => {
            if parse_datetime(s).is_none() {
                return refuse(&format!("\"{}\" is not an RFC 3339 date-time", snippet(s)));
            }
            true
        }
        CompValue::Str(_) => matches!(ty, T::String | T::Reference | T::Binary),
    };
    if !value_fits {
        return refuse(&format!(
            "it is {}, and the value is {}",
            ty.as_str(),
            value_kind(value)
        ));
    }
    Ok(())
}

fn value_kind(value: &CompValue) -> &'static str {
    match value {
        CompValue::Null => "null",
        CompValue::Bool(_) => "a boolean",
        CompValue::Number(_) => "a number",
        CompValue::Str(_) => "a string",
    }
}

fn unknown(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("unknown attribute '{}' in filter", shown(path)))
}

fn shown(path: &AttrPath) -> String {
    snippet(&path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::eval_tests::user_schema;
    use crate::scim::profile::Profile;

    fn checked(text: &str) -> ScimResult<()> {
        check(&Filter::parse(text, Profile::Lenient)?, &user_schema)
    }

    fn refused(text: &str) -> String {
        let e = checked(text).expect_err(text);
        assert_eq!(
            e.scim_type,
            Some(crate::scim::error::ScimType::InvalidFilter)
        );
        e.detail
    }

    #[test]
    fn accepts_well_typed_filters() {
        for ok in [
            "userName eq \"bjensen\"",
            "name.familyName co \"O'Malley\"",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
            "title pr",
            "name pr",
            "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
            "meta.lastModified le \"2011-05-13T04:42:34.5+02:00\"",
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
            "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            "emails[primary eq true]",
            "active eq false and active ne null",
            "x509Certificates.value eq \"TUlJ\"",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt \"100\"",
            "loginCount ge 3 and loginCount lt 7.5",
            "userName gt \"m\"",
        ] {
            assert_eq!(checked(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_ill_typed_filters() {
        assert!(refused("nickName2 eq \"x\"").contains("unknown attribute 'nickName2'"));
        assert!(refused("emails[kind eq \"x\"]").contains("unknown attribute 'emails.kind'"));
        assert!(refused("bogus[value eq \"x\"]").contains("unknown attribute 'bogus'"));
        assert!(refused("bogus pr").contains("'bogus'"));
        assert!(refused("emails[bogus pr]").contains("'emails.bogus'"));
        assert!(refused("active gt true").contains("'gt' to 'active'"));
        assert!(refused("x509Certificates.value lt \"a\"").contains("binary"));
        assert!(refused("active co \"t\"").contains("'co' to 'active'"));
        assert!(refused("meta.lastModified sw \"2011\"").contains("dateTime"));
        assert!(refused("loginCount ew 1").contains("'ew'"));
        assert!(refused("name eq \"x\"").contains("complex"));
        assert!(refused("meta gt \"x\"").contains("complex"));
        assert!(refused("active eq \"true\"").contains("boolean, and the value is a string"));
        assert!(refused("userName eq 1").contains("string, and the value is a number"));
        assert!(refused("loginCount eq \"1\"").contains("a string"));
        assert!(refused("emails[primary eq 1]").contains("'emails.primary'"));
        assert!(refused("meta.lastModified gt \"yesterday\"").contains("RFC 3339"));
        assert!(refused("meta.lastModified gt \"2011-05-13\"").contains("RFC 3339"));
        assert!(refused("userName gt null").contains("null"));
        assert!(refused("userName pr and name.givenName eq false").contains("'name.givenName'"));
        assert!(refused("userName[value eq \"x\"]").contains("needs a complex attribute"));
    }

    #[test]
    fn multi_valued_complex_shorthand_targets_value() {
        // `emails co "x"` is `emails.value co "x"`, so it must type as a string…
        assert_eq!(checked("emails co \"example.com\""), Ok(()));
        assert_eq!(checked("emails eq \"a@example.com\""), Ok(()));
        // …and `ims eq 3` fails as `ims.value` does.
        assert!(refused("ims eq 3").contains("'ims.value'"));
        // `name` is single-valued and `meta` has no `value`: no shorthand.
        assert!(refused("name co \"x\"").contains("'name'"));
    }

    #[test]
    fn hand_built_nested_value_path_is_refused() {
        let inner = Filter::ValuePath(
            AttrPath::new("ims"),
            Box::new(Filter::Present(AttrPath::new("value"))),
        );
        let nested = Filter::ValuePath(AttrPath::new("emails"), Box::new(inner));
        let e = check(&nested, &user_schema).expect_err("nested");
        assert!(e.detail.contains("nested"));
    }
}
