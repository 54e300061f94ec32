//! Restricting a filter to one resource type, for `POST /.search` at the
//! root (RFC 7644 §3.4.3), which searches several types with one filter.
//!
//! RFC 7644 answers a filter on an attribute the type does not define with
//! `invalidFilter`; across types that would make `userName eq "x" or
//! displayName eq "y"` fail for Groups and hide the groups it names. Here an
//! undefined attribute is instead taken to be absent on every resource of
//! the type, so each comparison on it is the constant a comparison against a
//! missing value gives under `eval::matches`:
//! - `pr`, `eq v`, `co`, `sw`, `ew`, `gt`, `ge`, `lt`, `le`: false;
//! - `ne v`: true (`ne` is `not eq`);
//! - `eq null`: true ("has no non-null value"), `ne null`: false;
//! - `attr[…]` over an undefined `attr`: false (no element to test), and a
//!   sub-attribute `attr` does not define, inside or outside `[…]`, is
//!   absent in each element.
//!
//! The constants are then folded away with boolean algebra, so what is left
//! names only attributes the type defines and can be searched as usual.

use super::eval::qualify;
use super::parse::snippet;
use super::{CompValue, CompareOp, Filter};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::path::AttrPath;

/// A filter as one resource type sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Restricted {
    /// No resource of the type can match: the type need not be searched.
    Nothing,
    /// Every resource matches: search with no filter.
    Everything,
    /// The equivalent filter over defined attributes only.
    Filter(Filter),
}

/// `filter` with every attribute path `defined` refuses replaced by its
/// absent-value constant, then simplified. `defined` gets fully-qualified
/// paths, as `check`'s lookup does: `emails.type` for `type` in
/// `emails[type eq "work"]`. A filter that names only defined attributes
/// comes back unchanged.
pub fn restrict(filter: &Filter, defined: &dyn Fn(&AttrPath) -> bool) -> Restricted {
    restrict_in(filter, None, defined)
}

/// Refuses a filter naming a path (qualified as for [`restrict`]) that
/// `defined` refuses, with the `invalidFilter` error `check` gives. Across
/// several types, a path that none of them defines is a client's mistake,
/// not an absent value.
pub fn check_defined(filter: &Filter, defined: &dyn Fn(&AttrPath) -> bool) -> ScimResult<()> {
    match first_undefined(filter, None, defined) {
        None => Ok(()),
        Some(path) => Err(ScimError::invalid_filter(format!(
            "unknown attribute '{}' in filter",
            snippet(&path.to_string())
        ))),
    }
}

fn restrict_in(
    filter: &Filter,
    outer: Option<&AttrPath>,
    defined: &dyn Fn(&AttrPath) -> bool,
) -> Restricted {
    match filter {
        Filter::And(l, r) => restrict_in(l, outer, defined).and(restrict_in(r, outer, defined)),
        Filter::Or(l, r) => restrict_in(l, outer, defined).or(restrict_in(r, outer, defined)),
        Filter::Not(inner) => !restrict_in(inner, outer, defined),
        Filter::Present(path) | Filter::Compare(path, ..) => {
            if defined(&full_path(path, outer)) {
                Restricted::Filter(filter.clone())
            } else {
                Restricted::constant(absent_value(filter))
            }
        }
        // A value path inside another cannot be parsed; `eval` lets the inner
        // one's scope replace the outer, and so does this.
        Filter::ValuePath(path, inner) => {
            if !defined(path) {
                return Restricted::Nothing;
            }
            match restrict_in(inner, Some(path), defined) {
                Restricted::Nothing => Restricted::Nothing,
                // Only whether there is an element left to test: `pr`, which
                // differs only for a `{}` or `null` element, and those are
                // not kept in validated documents.
                Restricted::Everything => Restricted::Filter(Filter::Present(path.clone())),
                Restricted::Filter(f) => {
                    Restricted::Filter(Filter::ValuePath(path.clone(), Box::new(f)))
                }
            }
        }
    }
}

fn first_undefined(
    filter: &Filter,
    outer: Option<&AttrPath>,
    defined: &dyn Fn(&AttrPath) -> bool,
) -> Option<AttrPath> {
    match filter {
        Filter::And(l, r) | Filter::Or(l, r) => {
            first_undefined(l, outer, defined).or_else(|| first_undefined(r, outer, defined))
        }
        Filter::Not(inner) => first_undefined(inner, outer, defined),
        Filter::Present(path) | Filter::Compare(path, ..) => {
            Some(full_path(path, outer)).filter(|p| !defined(p))
        }
        Filter::ValuePath(path, inner) => {
            if defined(path) {
                first_undefined(inner, Some(path), defined)
            } else {
                Some(path.clone())
            }
        }
    }
}

fn full_path(path: &AttrPath, outer: Option<&AttrPath>) -> AttrPath {
    match outer {
        Some(outer) => qualify(outer, path),
        None => path.clone(),
    }
}

/// What a comparison is on a resource that lacks the attribute; mirrors
/// `eval::compare_any` over no values.
fn absent_value(leaf: &Filter) -> bool {
    match leaf {
        Filter::Compare(_, CompareOp::Eq, CompValue::Null) => true,
        Filter::Compare(_, CompareOp::Ne, CompValue::Null) => false,
        Filter::Compare(_, CompareOp::Ne, _) => true,
        _ => false,
    }
}

impl Restricted {
    fn constant(holds: bool) -> Restricted {
        if holds {
            Restricted::Everything
        } else {
            Restricted::Nothing
        }
    }

    fn and(self, other: Restricted) -> Restricted {
        match (self, other) {
            (Restricted::Nothing, _) | (_, Restricted::Nothing) => Restricted::Nothing,
            (Restricted::Everything, x) | (x, Restricted::Everything) => x,
            (Restricted::Filter(a), Restricted::Filter(b)) => Restricted::Filter(a.and(b)),
        }
    }

    fn or(self, other: Restricted) -> Restricted {
        match (self, other) {
            (Restricted::Everything, _) | (_, Restricted::Everything) => Restricted::Everything,
            (Restricted::Nothing, x) | (x, Restricted::Nothing) => x,
            (Restricted::Filter(a), Restricted::Filter(b)) => Restricted::Filter(a.or(b)),
        }
    }
}

impl std::ops::Not for Restricted {
    type Output = Restricted;

    fn not(self) -> Restricted {
        match self {
            Restricted::Nothing => Restricted::Everything,
            Restricted::Everything => Restricted::Nothing,
            Restricted::Filter(f) => Restricted::Filter(!f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::filter::eval_tests::user_schema;
    use crate::scim::profile::Profile;

    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn parsed(text: &str) -> Filter {
        Filter::parse(text, Profile::Lenient).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// The User slice `check`'s tests use, core and enterprise.
    fn user_defines(path: &AttrPath) -> bool {
        user_schema(path).is_some()
    }

    /// A slice of the core Group schema (RFC 7643 §4.2): no `userName`, no
    /// `emails`, no enterprise extension.
    fn group_defines(path: &AttrPath) -> bool {
        if !path.urn_is(GROUP) {
            return false;
        }
        let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
        matches!(
            (path.attr.to_ascii_lowercase().as_str(), sub.as_deref()),
            (
                "id" | "externalid" | "displayname" | "schemas" | "meta" | "members",
                None
            ) | ("meta", Some("created" | "lastmodified"))
                | ("members", Some("value" | "type" | "display"))
        )
    }

    fn for_groups(text: &str) -> Restricted {
        restrict(&parsed(text), &group_defines)
    }

    fn for_users(text: &str) -> Restricted {
        restrict(&parsed(text), &user_defines)
    }

    fn kept(text: &str) -> Restricted {
        Restricted::Filter(parsed(text))
    }

    #[test]
    fn comparisons_on_undefined_attributes_take_the_absent_value() {
        for nothing in [
            "userName eq \"x\"",
            "userName pr",
            "userName co \"x\"",
            "userName sw \"x\"",
            "userName ew \"x\"",
            "userName gt \"m\"",
            "userName ge \"m\"",
            "userName lt \"m\"",
            "userName le \"m\"",
            "userName ne null",
            "active eq true",
            "emails co \"@example.com\"",
            "name.familyName eq \"Jensen\"",
        ] {
            assert_eq!(for_groups(nothing), Restricted::Nothing, "{nothing}");
        }
        for everything in [
            "userName ne \"x\"",
            "userName eq null",
            "active ne true",
            "not (userName eq \"x\")",
            "not (userName pr)",
        ] {
            assert_eq!(
                for_groups(everything),
                Restricted::Everything,
                "{everything}"
            );
        }
    }

    #[test]
    fn and_or_not_fold_the_constants_away() {
        assert_eq!(
            for_groups("userName eq \"alice\" or displayName eq \"Admins\""),
            kept("displayName eq \"Admins\"")
        );
        assert_eq!(
            for_groups("userName eq \"alice\" and displayName eq \"Admins\""),
            Restricted::Nothing
        );
        assert_eq!(
            for_groups("userName ne \"alice\" and displayName eq \"Admins\""),
            kept("displayName eq \"Admins\"")
        );
        assert_eq!(
            for_groups("userName ne \"alice\" or displayName eq \"Admins\""),
            Restricted::Everything
        );
        assert_eq!(
            for_groups("not (userName eq \"a\" or not (displayName pr))"),
            kept("not (not (displayName pr))")
        );
        assert_eq!(
            for_groups(
                "not (userName eq \"a\" or title pr) and (meta.created pr or active eq true)"
            ),
            kept("meta.created pr")
        );
        assert_eq!(
            for_users("userName eq \"alice\" or members.value eq \"42\""),
            kept("userName eq \"alice\"")
        );
        assert_eq!(
            for_users("members pr and userName pr or not (members.value eq \"42\")"),
            Restricted::Everything
        );
    }

    #[test]
    fn value_paths() {
        assert_eq!(
            for_groups("emails[type eq \"work\" and value co \"@x\"]"),
            Restricted::Nothing
        );
        // An element test that always holds cannot rescue a missing attribute.
        assert_eq!(for_groups("emails[type ne \"work\"]"), Restricted::Nothing);
        assert_eq!(
            for_groups("not (emails[type eq \"work\"])"),
            Restricted::Everything
        );
        assert_eq!(
            for_users("members[value eq \"42\"] or userName sw \"a\""),
            kept("userName sw \"a\"")
        );
        // A sub-attribute the element does not define is absent in it.
        assert_eq!(for_users("emails[kind eq \"x\"]"), Restricted::Nothing);
        assert_eq!(
            for_users("emails[type eq \"work\" or kind pr]"),
            kept("emails[type eq \"work\"]")
        );
        assert_eq!(
            for_users("emails[type eq \"work\" and kind ne \"x\"]"),
            kept("emails[type eq \"work\"]")
        );
        assert_eq!(for_users("emails[kind ne \"x\"]"), kept("emails pr"));
        assert_eq!(
            for_users("name.nickName eq \"x\" or title pr"),
            kept("title pr")
        );
        assert_eq!(
            for_groups("members[type eq \"User\" and value eq \"42\"] or members[kind eq \"x\"]"),
            kept("members[type eq \"User\" and value eq \"42\"]")
        );
    }

    #[test]
    fn urn_qualified_and_extension_attributes() {
        let dept = format!("{ENTERPRISE}:department eq \"Ops\" or displayName eq \"Ops\"");
        assert_eq!(for_groups(&dept), kept("displayName eq \"Ops\""));
        assert_eq!(for_users(&dept), kept(&dept));
        assert_eq!(
            for_groups("department eq \"Ops\" or displayName eq \"Ops\""),
            kept("displayName eq \"Ops\"")
        );
        let shouted = format!("{}:Manager.Value eq \"7\"", ENTERPRISE.to_ascii_uppercase());
        assert_eq!(for_users(&shouted), kept(&shouted));
        assert_eq!(for_groups(&shouted), Restricted::Nothing);
        // The core User URN on a group attribute is a foreign schema there.
        let core = "urn:ietf:params:scim:schemas:core:2.0:User:displayName pr";
        assert_eq!(for_groups(core), Restricted::Nothing);
        assert_eq!(
            for_groups(&format!("not ({GROUP}:DISPLAYNAME pr)")),
            kept(&format!("not ({GROUP}:DISPLAYNAME pr)"))
        );
    }

    #[test]
    fn filters_on_defined_attributes_come_back_unchanged() {
        for text in [
            "userName eq \"bjensen\"",
            "not (title pr) or userType eq \"Employee\"",
            "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\"]",
            "name.familyName co \"O'Malley\" and active eq true and loginCount ge 3",
            "meta.lastModified gt \"2011-05-13T04:42:34Z\" and not (id eq null)",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber ne \"1\"",
        ] {
            assert_eq!(for_users(text), kept(text), "{text}");
        }
        assert_eq!(
            for_groups("members.value eq \"42\" and displayName sw \"A\""),
            kept("members.value eq \"42\" and displayName sw \"A\"")
        );
    }

    #[test]
    fn check_defined_refuses_a_path_no_type_defines() {
        let either = |p: &AttrPath| user_defines(p) || group_defines(p);
        let refused = |text: &str| {
            let e = check_defined(&parsed(text), &either).expect_err(text);
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
            e.detail
        };
        for ok in [
            "userName eq \"a\" or members.value eq \"1\"",
            "userName eq \"a\" and members pr",
            "emails[type eq \"work\"] or members[type eq \"User\"]",
        ] {
            assert_eq!(check_defined(&parsed(ok), &either), Ok(()), "{ok}");
        }
        assert!(refused("userName eq \"a\" or bogus pr").contains("unknown attribute 'bogus'"));
        assert!(refused("not (emails[bogus eq \"x\"])").contains("'emails.bogus'"));
        assert!(refused("widgets[value eq \"x\"]").contains("'widgets'"));
        assert!(refused("name.nope pr").contains("'name.nope'"));
    }
}
