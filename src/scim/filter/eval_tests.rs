//! Tests of filter evaluation (RFC 7644 §3.4.2.2 semantics) against a User
//! document shaped like RFC 7643 §8.2, and the test schema shared with the
//! `check` tests.

use serde_json::{json, Value};

use super::{matches, AttrKind, Filter};
use crate::scim::path::AttrPath;
use crate::scim::profile::Profile;
use crate::scim::schema::AttrType;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A slice of the core User schema (RFC 7643 §4.1) and the enterprise
/// extension (§4.3), plus an integer `loginCount` so numbers get exercised.
pub(super) fn user_schema(path: &AttrPath) -> Option<AttrKind> {
    use AttrType::*;
    let kind = |ty, case_exact, multi_valued| {
        Some(AttrKind {
            ty,
            case_exact,
            multi_valued,
        })
    };
    let attr = path.attr.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    let is_enterprise = path
        .urn
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(ENTERPRISE));
    if is_enterprise {
        return match (attr.as_str(), sub.as_deref()) {
            ("employeenumber" | "department", None) => kind(String, false, false),
            ("manager", None) => kind(Complex, false, false),
            ("manager", Some("value" | "displayname")) => kind(String, false, false),
            _ => None,
        };
    }
    if !path.urn_is(CORE) {
        return None;
    }
    match (attr.as_str(), sub.as_deref()) {
        ("id" | "externalid", None) => kind(String, true, false),
        ("username" | "title" | "usertype" | "nickname" | "displayname", None) => {
            kind(String, false, false)
        }
        ("active", None) => kind(Boolean, false, false),
        ("logincount", None) => kind(Integer, false, false),
        ("schemas", None) => kind(Reference, true, true),
        ("name" | "meta", None) => kind(Complex, false, false),
        ("name", Some("givenname" | "familyname" | "formatted")) => kind(String, false, false),
        ("meta", Some("created" | "lastmodified")) => kind(DateTime, false, false),
        ("meta", Some("resourcetype")) => kind(String, true, false),
        ("emails" | "ims" | "x509certificates", None) => kind(Complex, false, true),
        ("emails" | "ims", Some("value" | "type" | "display")) => kind(String, false, false),
        ("emails" | "ims", Some("primary")) => kind(Boolean, false, false),
        ("x509certificates", Some("value")) => kind(Binary, true, false),
        _ => None,
    }
}

fn bjensen() -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "UserName": "bjensen",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "title": "Tour Guide",
        "nickName": "",
        "userType": "Employee",
        "active": true,
        "loginCount": 5,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [],
        "displayName": null,
        "meta": {"lastModified": "2011-05-13T04:42:34.000+00:00"},
        ENTERPRISE: {"Department": "Tour Operations", "manager": {"value": "26118915"}}
    })
}

fn eval(text: &str) -> bool {
    let filter = Filter::parse(text, Profile::Lenient).unwrap_or_else(|e| panic!("{text}: {e}"));
    matches(&filter, &bjensen(), &user_schema)
}

fn assert_all(expected: bool, filters: &[&str]) {
    for text in filters {
        assert_eq!(eval(text), expected, "{text}");
    }
}

#[test]
fn string_comparisons_ignore_case_unless_case_exact() {
    assert_all(
        true,
        &[
            "userName eq \"bjensen\"",
            "USERNAME eq \"BJensen\"",
            "userName sw \"BJ\"",
            "userName ew \"SEN\"",
            "name.familyName co \"ENS\"",
            "userName gt \"a\"",
            "userName lt \"C\"",
            "userName ge \"bjensen\"",
            "id eq \"2819c223-7f76-453a-919d-413861904646\"",
            "id ne \"2819C223-7F76-453A-919D-413861904646\"",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"b\"",
        ],
    );
    assert_all(
        false,
        &[
            "userName eq \"bjensen2\"",
            "userName co \"x\"",
            "userName gt \"c\"",
            "id eq \"2819C223-7F76-453A-919D-413861904646\"",
        ],
    );
}

#[test]
fn present_means_non_empty() {
    assert_all(
        true,
        &[
            "title pr",
            "emails pr",
            "emails.primary pr",
            "name pr",
            "active pr",
        ],
    );
    // "" , [], null, absent, and a sub-attribute no element has.
    assert_all(
        false,
        &[
            "nickName pr",
            "ims pr",
            "displayName pr",
            "externalId pr",
            "emails.display pr",
        ],
    );
}

#[test]
fn ne_and_null() {
    assert_all(
        true,
        &[
            "externalId ne \"x\"",
            "not (externalId eq \"x\")",
            "userType ne \"Intern\"",
            "externalId eq null",
            "displayName eq null",
            "title ne null",
            "emails.display eq null",
        ],
    );
    assert_all(
        false,
        &[
            "userType ne \"EMPLOYEE\"",
            "title eq null",
            "externalId ne null",
            "userName gt null",
        ],
    );
}

#[test]
fn datetimes_compare_as_instants() {
    assert_all(
        true,
        &[
            "meta.lastModified eq \"2011-05-13T04:42:34Z\"",
            "meta.lastModified ge \"2011-05-13T04:42:34Z\"",
            "meta.lastModified le \"2011-05-13T04:42:34Z\"",
            "meta.lastModified eq \"2011-05-13T06:42:34+02:00\"",
            "meta.lastModified gt \"2011-05-13T04:42:33.999Z\"",
            "meta.lastModified lt \"2011-05-13T04:42:34.001Z\"",
        ],
    );
    assert_all(
        false,
        &[
            "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
            "meta.lastModified lt \"2011-05-13T04:42:34Z\"",
            "meta.lastModified ne \"2011-05-13T04:42:34Z\"",
        ],
    );
}

#[test]
fn numbers_and_booleans() {
    assert_all(
        true,
        &[
            "loginCount eq 5",
            "loginCount eq 5.0",
            "loginCount eq 5e0",
            "loginCount gt 4.5",
            "loginCount le 5",
            "loginCount gt -18446744073709551615",
            "active eq true",
            "emails[primary eq true]",
            "emails.primary eq true",
        ],
    );
    assert_all(
        false,
        &[
            "loginCount lt 5",
            "loginCount gt 18446744073709551615",
            "active eq false",
            "active ne true",
            "emails[primary eq false]",
            // JSON types that do not fit never match.
            "loginCount eq \"5\"",
            "active eq \"true\"",
            "userName eq 1",
        ],
    );
}

#[test]
fn multi_valued_attributes_match_any_value() {
    assert_all(
        true,
        &[
            "emails.type eq \"home\"",
            "emails.type eq \"work\"",
            "emails.value ew \"jensen.org\"",
            // RFC 7644 shorthand: `emails` compares through `emails.value`.
            "emails co \"example.com\"",
            "emails eq \"babs@jensen.org\"",
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
        ],
    );
    assert_all(
        false,
        &[
            "emails.type eq \"other\"",
            "emails co \"example.org\"",
            "ims.type pr",
        ],
    );
}

#[test]
fn value_path_conditions_apply_to_the_same_element() {
    assert_all(
        true,
        &[
            "emails[type eq \"work\" and value co \"@example.com\"]",
            "emails[type eq \"home\" and not (primary pr)]",
            "emails[TYPE eq \"WORK\"]",
            "emails.type eq \"work\" and emails.value co \"jensen.org\"",
        ],
    );
    assert_all(
        false,
        &[
            "emails[type eq \"work\" and value co \"jensen.org\"]",
            "emails[type eq \"home\" and primary eq true]",
            "ims[type pr]",
            "x509Certificates[value pr]",
        ],
    );
}

#[test]
fn extension_attributes_live_under_their_urn() {
    assert_all(
        true,
        &[
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"tour operations\"",
            "URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:Department sw \"Tour\"",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq null",
        ],
    );
    // An unqualified name does not reach into the extension.
    assert_all(false, &["department pr", "urn:example:other:department pr"]);
}

#[test]
fn rfc_7644_examples_evaluate() {
    let cases = [
        ("userName eq \"bjensen\"", true),
        ("name.familyName co \"O'Malley\"", false),
        ("userName sw \"J\"", false),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
            false,
        ),
        ("title pr", true),
        ("meta.lastModified gt \"2011-05-13T04:42:34Z\"", false),
        ("meta.lastModified ge \"2011-05-13T04:42:34Z\"", true),
        ("meta.lastModified lt \"2011-05-13T04:42:34Z\"", false),
        ("meta.lastModified le \"2011-05-13T04:42:34Z\"", true),
        ("title pr and userType eq \"Employee\"", true),
        ("title pr or userType eq \"Intern\"", true),
        (
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            true,
        ),
        (
            "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
            true,
        ),
        (
            "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
            false,
        ),
        (
            "userType eq \"Employee\" and (emails.type eq \"work\")",
            true,
        ),
        (
            "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
            true,
        ),
        (
            "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            true,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(eval(text), expected, "{text}");
    }
}

#[test]
fn unknown_attributes_fall_back_to_json_types() {
    let doc = json!({"Custom": "Value", "count": 3, "flag": false});
    let nothing = |_: &AttrPath| None;
    let run = |text: &str| {
        matches(
            &Filter::parse(text, Profile::Lenient).unwrap(),
            &doc,
            &nothing,
        )
    };
    assert!(run("custom eq \"value\""));
    assert!(run("count gt 2"));
    assert!(run("flag eq false"));
    assert!(!run("custom eq 3"));
    assert!(!run("missing pr"));
    // Not an object at all: nothing is present.
    assert!(!matches(
        &Filter::parse("a pr", Profile::Lenient).unwrap(),
        &json!([1, 2]),
        &nothing
    ));
}
