//! Path handling: atomicity of a failing request, resolution of plain,
//! URN-qualified and filtered paths, case-insensitive names written back
//! canonically, and readOnly targets.

use serde_json::json;

use super::{assert_err, patch, patch_user, user};
use crate::scim::error::ScimType;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA as ENT, USER_SCHEMA};

#[test]
fn a_failing_operation_fails_the_request_and_names_itself() {
    let doc = user();
    let ops = json!([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "remove", "path": "userName"}
    ]);
    assert_err(
        patch("User", &doc, ops),
        ScimType::Mutability,
        "Operations[1]: 'userName'",
    );
    // The first operation on its own would have succeeded.
    let ok = patch_user(
        &doc,
        json!([{"op": "replace", "path": "displayName", "value": "Changed"}]),
    );
    assert_eq!(ok["displayName"], json!("Changed"));
}

#[test]
fn unknown_paths_are_invalid_path() {
    for path in [
        "nickname2",
        "name.nope",
        "userName.value",
        "emails[type eq \"work\"].nope",
        "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
        "urn:example:unknown:2.0:User:department",
    ] {
        assert_err(
            patch(
                "User",
                &user(),
                json!([{"op": "replace", "path": path, "value": "x"}]),
            ),
            ScimType::InvalidPath,
            "not an attribute of resource type User",
        );
    }
    assert_err(
        patch(
            "Group",
            &super::group(),
            json!([{"op": "add", "path": format!("{ENT}:department"), "value": "x"}]),
        ),
        ScimType::InvalidPath,
        "resource type Group",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "add", "value": {"bogus": 1}}]),
        ),
        ScimType::InvalidPath,
        "'bogus'",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "add", "value": {ENT: {"bogus": 1}}}]),
        ),
        ScimType::InvalidPath,
        "bogus",
    );
}

#[test]
fn filters_need_multi_valued_complex_attributes_and_valid_comparisons() {
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": "name[givenName eq \"x\"]"}]),
        ),
        ScimType::InvalidPath,
        "multi-valued complex",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": format!("{ENT}[department eq \"x\"]")}]),
        ),
        ScimType::InvalidPath,
        "schema URN",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": "emails[kind eq \"x\"]"}]),
        ),
        ScimType::InvalidFilter,
        "emails.kind",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": "emails[primary eq \"yes\"]"}]),
        ),
        ScimType::InvalidFilter,
        "boolean",
    );
}

#[test]
fn names_match_case_insensitively_and_are_written_canonically() {
    let doc = json!({"schemas": [USER_SCHEMA], "UserName": "jdoe", "NAME": {"GivenName": "J"}});
    let out = patch(
        "User",
        &doc,
        json!([
            {"op": "replace", "path": "NAME.GIVENNAME", "value": "John"},
            {"op": "replace", "path": "username", "value": "john"},
            {"op": "add", "path": "EMAILS", "value": [{"VALUE": "j@x.org", "Type": "work"}]},
            {"op": "replace", "path": "Emails[TYPE eq \"WORK\"].Display", "value": "J"}
        ]),
    )
    .unwrap();
    assert_eq!(
        out.doc,
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "john",
            "name": {"givenName": "John"},
            "emails": [{"value": "j@x.org", "type": "work", "display": "J"}]
        })
    );
}

#[test]
fn urn_qualified_core_paths_and_the_core_urn_itself() {
    let out = patch_user(
        &user(),
        json!([
            {"op": "replace", "path": format!("{USER_SCHEMA}:name.givenName"), "value": "Barb"},
            {"op": "replace", "path": USER_SCHEMA, "value": {"title": "Guide"}}
        ]),
    );
    assert_eq!(out["name"]["givenName"], json!("Barb"));
    assert_eq!(out["title"], json!("Guide"));
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": USER_SCHEMA}]),
        ),
        ScimType::NoTarget,
        "whole resource",
    );
}

#[test]
fn read_only_targets_are_refused_by_path_and_ignored_without() {
    for (op, path) in [
        ("replace", "id"),
        ("add", "meta.lastModified"),
        ("replace", "meta"),
        ("add", "groups"),
        ("remove", "groups[value eq \"g\"]"),
        ("remove", "id"),
        (
            "replace",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
        ),
    ] {
        assert_err(
            patch(
                "User",
                &user(),
                json!([{"op": op, "path": path, "value": "x"}]),
            ),
            ScimType::Mutability,
            "readOnly",
        );
    }
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "value": {
            "id": "other", "meta.version": "W/\"1\"", "groups": [], "displayName": "B"
        }}]),
    );
    assert_eq!(out["displayName"], json!("B"));
}
