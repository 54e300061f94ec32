//! What writes do to values: `primary` uniqueness, null values, sub-attributes
//! of multi-valued attributes, removal by value, `schemas` upkeep, and the
//! value shapes the engine refuses.

use serde_json::json;

use super::{assert_err, patch, patch_user, plain_user, revalidated, user};
use crate::scim::error::ScimType;
use crate::scim::filter::parse_patch_path;
use crate::scim::patch::{apply, OpKind, PatchOp};
use crate::scim::profile::Profile;
use crate::scim::schema::{
    validate, Registry, WriteMode, ENTERPRISE_USER_SCHEMA as ENT, USER_SCHEMA,
};

#[test]
fn a_new_primary_value_demotes_the_others() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{"op": "add", "path": "emails", "value": {"value": "new@example.com", "type": "other", "primary": "True"}}]),
    );
    assert_eq!(
        out["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": false},
            {"value": "babs@jensen.org", "type": "home"},
            {"value": "new@example.com", "type": "other", "primary": true}
        ])
    );
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    );
    assert_eq!(
        out["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": false},
            {"value": "babs@jensen.org", "type": "home", "primary": true}
        ])
    );
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x.org", "type": "home", "primary": true}}]),
    );
    assert_eq!(out["emails"][0]["primary"], json!(false));
    // A primary: false write demotes nobody.
    let out = patch_user(
        &doc,
        json!([{"op": "add", "path": "emails", "value": {"value": "n@x.org", "primary": false}}]),
    );
    assert_eq!(out["emails"][0]["primary"], json!(true));
}

#[test]
fn two_new_primaries_are_left_for_validate_to_refuse() {
    let doc = user();
    let out = patch(
        "User",
        &doc,
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "a@x.org", "primary": true}, {"value": "b@x.org", "primary": true}
        ]}]),
    )
    .unwrap();
    let reg = Registry::new();
    let rt = reg.resource_type("User").unwrap();
    let e = validate(
        &reg,
        rt,
        &out.doc,
        WriteMode::Replace { existing: &doc },
        Profile::Lenient,
    )
    .unwrap_err();
    assert!(e.detail.contains("primary"), "{e}");
}

#[test]
fn null_values_unassign() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([
            {"op": "replace", "path": "displayName", "value": null},
            {"op": "add", "path": "phoneNumbers", "value": null},
            {"op": "replace", "path": "name", "value": {"formatted": null}},
            {"op": "replace", "path": "addresses[type eq \"home\"].locality", "value": null},
            {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": null}
        ]),
    );
    assert!(out.get("displayName").is_none());
    assert_eq!(out["phoneNumbers"], doc["phoneNumbers"]);
    assert_eq!(
        out["name"],
        json!({"familyName": "Jensen", "givenName": "Barbara"})
    );
    assert_eq!(
        out["emails"][0],
        json!({"value": "bjensen@example.com", "type": "work"})
    );
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "emails", "value": null}]),
    );
    assert!(out.get("emails").is_none());
}

#[test]
fn sub_attribute_of_a_multi_valued_attribute_without_filter_means_every_value() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "emails.display", "value": "Babs"}]),
    );
    assert!(out["emails"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["display"] == json!("Babs")));
    let out = patch_user(&out, json!([{"op": "remove", "path": "emails.display"}]));
    assert_eq!(out["emails"], doc["emails"]);
    let out = patch_user(
        &plain_user(),
        json!([{"op": "add", "path": "emails.value", "value": "j@x.org"}]),
    );
    assert_eq!(out["emails"], json!([{"value": "j@x.org"}]));
}

#[test]
fn add_with_a_filter_and_no_sub_attribute_merges_into_matches() {
    let out = patch_user(
        &user(),
        json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]),
    );
    assert_eq!(
        out["emails"][1],
        json!({"value": "babs@jensen.org", "type": "home", "display": "Home"})
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "add", "path": "emails[type eq \"other\"]", "value": {"display": "x"}}]),
        ),
        ScimType::NoTarget,
        "matches the filter",
    );
}

#[test]
fn remove_with_a_value_removes_only_the_described_elements() {
    let doc = json!({
        "schemas": [USER_SCHEMA],
        "userName": "jdoe",
        "roles": [{"value": "Admin", "type": "x"}, {"value": "Reader"}]
    });
    let out = patch_user(
        &doc,
        json!([{"op": "Remove", "path": "roles", "value": [{"value": "Admin"}]}]),
    );
    assert_eq!(out["roles"], json!([{"value": "Reader"}]));
    let out = patch_user(
        &doc,
        json!([{"op": "Remove", "path": "roles", "value": [{"value": "Nobody"}]}]),
    );
    assert_eq!(out["roles"], doc["roles"]);
}

#[test]
fn schemas_follow_the_extension_content() {
    let doc = plain_user();
    let out = patch_user(
        &doc,
        json!([{"op": "add", "path": format!("{ENT}:department"), "value": "Ops"}]),
    );
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENT]));
    let back = patch_user(&out, json!([{"op": "remove", "path": "department"}]));
    assert_eq!(back, doc);

    // The extension URN as a path: replace merges, remove drops.
    let full = user();
    let out = patch_user(
        &full,
        json!([{"op": "replace", "path": ENT, "value": {"costCenter": "4130"}}]),
    );
    assert_eq!(out[ENT]["costCenter"], json!("4130"));
    assert_eq!(out[ENT]["employeeNumber"], json!("701984"));
    let out = patch_user(
        &full,
        json!([{"op": "remove", "path": ENT.to_ascii_lowercase()}]),
    );
    assert!(out.get(ENT).is_none());
    assert_eq!(out["schemas"], json!([USER_SCHEMA]));
    let out = patch_user(
        &full,
        json!([{"op": "replace", "path": ENT, "value": null}]),
    );
    assert!(out.get(ENT).is_none());
    assert_err(
        patch(
            "User",
            &full,
            json!([{"op": "add", "path": ENT, "value": "x"}]),
        ),
        ScimType::InvalidValue,
        "JSON object",
    );
}

#[test]
fn schemas_are_rebuilt_even_when_missing_or_stale() {
    let doc = json!({"userName": "jdoe", ENT: {"division": "R&D"}});
    let out = patch(
        "User",
        &doc,
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    )
    .unwrap();
    assert_eq!(out.doc["schemas"], json!([USER_SCHEMA, ENT]));
    let stale = json!({"schemas": [USER_SCHEMA, ENT], "userName": "jdoe"});
    let out = patch(
        "User",
        &stale,
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    )
    .unwrap();
    assert_eq!(out.doc["schemas"], json!([USER_SCHEMA]));
}

#[test]
fn value_shapes_the_engine_cannot_use_are_invalid_value() {
    assert_err(
        patch("User", &user(), json!([{"op": "add", "value": "Babs"}])),
        ScimType::InvalidValue,
        "JSON object of attributes",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "replace", "path": "name", "value": ["x"]}]),
        ),
        ScimType::InvalidValue,
        "complex",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": "x"}]),
        ),
        ScimType::InvalidValue,
        "complex",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "add", "value": {USER_SCHEMA: 3}}]),
        ),
        ScimType::InvalidValue,
        "JSON object",
    );
}

#[test]
fn hand_built_operations_without_value_or_with_a_bad_document() {
    let reg = Registry::new();
    let rt = reg.resource_type("User").unwrap();
    let op = PatchOp {
        op: OpKind::Replace,
        path: Some(parse_patch_path("title").unwrap()),
        value: None,
    };
    assert_err(
        apply(
            &reg,
            rt,
            &user(),
            std::slice::from_ref(&op),
            Profile::Lenient,
        ),
        ScimType::InvalidSyntax,
        "requires a 'value'",
    );
    let e = apply(&reg, rt, &json!([1]), &[op], Profile::Lenient).unwrap_err();
    assert_eq!(e.status, 500);
    // No operations at all: the document comes back as it was.
    let out = apply(&reg, rt, &user(), &[], Profile::Lenient).unwrap();
    assert_eq!(out.doc, user());
    revalidated("User", &user(), &out.doc);
}

/// Many values at once go through the keyed merge: duplicates of stored
/// values (whatever the case of their keys) and of each other are skipped,
/// order is kept, and a primary among them still demotes the others.
#[test]
fn adding_many_values_skips_duplicates_like_adding_few() {
    let doc = user();
    let mut values: Vec<serde_json::Value> = (0..20)
        .map(|i| json!({"value": format!("m{i}@example.com"), "type": "other"}))
        .collect();
    values.push(json!({"Value": "babs@jensen.org", "TYPE": "home"}));
    values.push(json!({"value": "m3@example.com", "type": "other"}));
    values.push(json!({"value": "last@example.com", "primary": true}));
    let out = patch_user(
        &doc,
        json!([{"op": "add", "path": "emails", "value": values}]),
    );
    let emails = out["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2 + 20 + 1, "{emails:?}");
    assert_eq!(emails[0]["primary"], false);
    assert_eq!(
        emails[1],
        json!({"value": "babs@jensen.org", "type": "home"})
    );
    assert_eq!(emails[5]["value"], "m3@example.com");
    assert_eq!(
        emails[22],
        json!({"value": "last@example.com", "primary": true})
    );
}
