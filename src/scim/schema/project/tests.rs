//! Projection: `returned` characteristics, `attributes` / `excludedAttributes`,
//! sub-attribute and URN-qualified names, and `needs_attribute`.

use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::schema::testkit::{thing_registry, THING_EXT, THING_SCHEMA};
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA};

fn stored_user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENT],
        "id": "2819c223",
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "location": "https://x/Users/2819c223"},
        "userName": "bjensen",
        "password": "t1meMa$heen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org"}],
        "groups": [{"value": "g1", "display": "Tour Guides"}],
        ENT: {"department": "Tour Operations", "employeeNumber": "701984"}
    })
}

fn run(attributes: &str, excluded: &str) -> Value {
    let reg = Registry::new();
    let rt = reg.resource_type("User").expect("User");
    let attributes = parse_attr_list(attributes).expect("attributes");
    let excluded = parse_attr_list(excluded).expect("excluded");
    project(&reg, rt, &stored_user(), &attributes, &excluded)
}

#[test]
fn default_output_is_everything_but_never_returned() {
    let mut expected = stored_user();
    if let Some(obj) = expected.as_object_mut() {
        obj.remove("password");
    }
    assert_eq!(run("", ""), expected);
}

#[test]
fn never_returned_is_never_output_even_when_asked_for() {
    assert!(run("password", "").get("password").is_none());
    assert!(run("userName,password", "").get("password").is_none());
}

#[test]
fn attributes_restrict_output_but_always_returned_stays() {
    assert_eq!(
        run("userName", ""),
        json!({"schemas": [USER_SCHEMA], "id": "2819c223", "userName": "bjensen"})
    );
    // A name that resolves to nothing still restricts the output.
    assert_eq!(
        run("nickname2", ""),
        json!({"schemas": [USER_SCHEMA], "id": "2819c223"})
    );
}

#[test]
fn excluded_attributes_drop_default_but_not_always() {
    let out = run("", "id,emails,meta");
    assert_eq!(out["id"], "2819c223");
    assert!(out.get("emails").is_none() && out.get("meta").is_none());
    assert_eq!(out["userName"], "bjensen");
}

#[test]
fn sub_attribute_paths_narrow_complex_attributes() {
    let out = run("name.givenName", "");
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    let out = run("emails.value", "");
    assert_eq!(
        out["emails"],
        json!([{"value": "b@example.com"}, {"value": "babs@jensen.org"}])
    );
    let out = run("emails", "");
    assert_eq!(out["emails"], stored_user()["emails"]);
    let out = run("", "name.givenName,emails.value");
    assert_eq!(out["name"], json!({"familyName": "Jensen"}));
    assert_eq!(out["emails"], json!([{"type": "work", "primary": true}]));
}

#[test]
fn urn_qualified_names_and_bare_extension_urns() {
    let out = run(&format!("{ENT}:department"), "");
    assert_eq!(out[ENT], json!({"department": "Tour Operations"}));
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENT]));
    assert!(out.get("userName").is_none());

    let out = run(ENT, "");
    assert_eq!(out[ENT], stored_user()[ENT]);
    let out = run(&format!("{USER_SCHEMA}:userName"), "");
    assert_eq!(out["userName"], "bjensen");

    let out = run("", ENT);
    assert!(out.get(ENT).is_none());
    assert_eq!(out["schemas"], json!([USER_SCHEMA]));
    let out = run("", &format!("{ENT}:department,{ENT}:employeeNumber"));
    assert!(out.get(ENT).is_none(), "an emptied extension is omitted");
}

#[test]
fn names_match_case_insensitively() {
    let out = run(
        &format!("USERNAME,Name.GIVENNAME,{}:DEPARTMENT", ENT.to_uppercase()),
        "",
    );
    assert_eq!(out["userName"], "bjensen");
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    assert_eq!(out[ENT], json!({"department": "Tour Operations"}));
}

#[test]
fn request_returned_attributes_need_to_be_named() {
    let reg = thing_registry();
    let rt = reg.resource_type("Thing").expect("Thing");
    let doc = json!({
        "schemas": [THING_SCHEMA, THING_EXT], "id": "t1", "label": "x", "secret": "s",
        "spec": {"color": "red", "hint": "h"}, THING_EXT: {"level": 1}
    });
    let go = |a: &str| {
        let a = parse_attr_list(a).expect("attributes");
        project(&reg, rt, &doc, &a, &[])
    };
    let out = go("");
    assert!(out.get("secret").is_none());
    assert_eq!(out["spec"], json!({"color": "red"}));
    assert_eq!(go("secret")["secret"], "s");
    assert_eq!(go("spec")["spec"], json!({"color": "red", "hint": "h"}));
    assert_eq!(go("spec.hint")["spec"], json!({"hint": "h"}));
}

#[test]
fn parse_attr_list_is_whitespace_tolerant_and_rejects_bad_paths() {
    let list = parse_attr_list(" userName , name.givenName,,emails ").expect("valid");
    let names: Vec<String> = list.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["userName", "name.givenName", "emails"]);
    assert!(parse_attr_list("").expect("empty").is_empty());
    for bad in ["user name", "a.b.c", "emails[type eq \"work\"]"] {
        let err = parse_attr_list(bad).expect_err(bad);
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidPath))
        );
        assert!(err.detail.contains(bad.trim()), "{}", err.detail);
    }
}

#[test]
fn needs_attribute_tells_the_store_what_to_load() {
    let reg = Registry::new();
    let group = reg.resource_type("Group").expect("Group");
    let user = reg.resource_type("User").expect("User");
    let list = |s: &str| parse_attr_list(s).expect("list");
    assert!(needs_attribute(&reg, group, "members", &[], &[]));
    assert!(!needs_attribute(
        &reg,
        group,
        "members",
        &list("displayName"),
        &[]
    ));
    assert!(!needs_attribute(
        &reg,
        group,
        "members",
        &[],
        &list("members")
    ));
    assert!(needs_attribute(
        &reg,
        group,
        "members",
        &list("members.value"),
        &[]
    ));
    assert!(needs_attribute(
        &reg,
        group,
        &format!("{GROUP_SCHEMA}:members"),
        &[],
        &[]
    ));
    assert!(needs_attribute(&reg, user, "groups", &list("GROUPS"), &[]));
    assert!(!needs_attribute(&reg, user, "members", &[], &[]));
    assert!(!needs_attribute(&reg, user, "password", &[], &[]));
    assert!(needs_attribute(
        &reg,
        user,
        "id",
        &list("userName"),
        &list("id")
    ));
}
