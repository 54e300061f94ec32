//! The examples of RFC 7644 §3.5.2.1–3, one test each, plus the rules those
//! sections state in prose.

use serde_json::{json, Value};

use super::{assert_err, ids, member_delta, patch, patch_user, plain_user, user, ALICE, BOB};
use crate::scim::error::ScimType;
use crate::scim::patch::MemberDelta;

#[test]
fn s3_5_2_1_add_a_member_to_a_group() {
    let delta = member_delta(json!([{
        "op": "add",
        "path": "members",
        "value": [{
            "display": "Babs Jensen",
            "$ref": format!("https://example.com/v2/Users/{ALICE}"),
            "value": ALICE
        }]
    }]));
    assert_eq!(
        delta,
        MemberDelta {
            add: ids(&[ALICE]),
            ..MemberDelta::default()
        }
    );
}

#[test]
fn s3_5_2_1_add_without_path_adds_attributes() {
    let doc = plain_user();
    let out = patch_user(
        &doc,
        json!([{
            "op": "add",
            "value": {
                "emails": [{"value": "babs@jensen.org", "type": "home"}],
                "nickname": "Babs"
            }
        }]),
    );
    assert_eq!(out["nickName"], json!("Babs"));
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn s3_5_2_1_add_to_multi_valued_appends_and_skips_duplicates() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{
            "op": "add",
            "path": "emails",
            "value": [
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "barbara@example.org", "type": "other"}
            ]
        }]),
    );
    let emails = out["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3);
    assert_eq!(
        emails[2],
        json!({"value": "barbara@example.org", "type": "other"})
    );
}

#[test]
fn s3_5_2_1_add_to_singular_sets_and_to_complex_merges() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([
            {"op": "add", "path": "displayName", "value": "Barbara"},
            {"op": "add", "path": "name", "value": {"middleName": "Jane", "givenName": "Barb"}}
        ]),
    );
    assert_eq!(out["displayName"], json!("Barbara"));
    assert_eq!(
        out["name"],
        json!({
            "formatted": "Ms. Barbara J Jensen III",
            "familyName": "Jensen",
            "givenName": "Barb",
            "middleName": "Jane"
        })
    );
}

#[test]
fn s3_5_2_2_remove_a_single_member() {
    let delta = member_delta(json!([{
        "op": "remove",
        "path": format!("members[value eq \"{ALICE}\"]")
    }]));
    assert_eq!(delta.remove, ids(&[ALICE]));
    assert!(delta.add.is_empty() && delta.replace.is_none());
}

#[test]
fn s3_5_2_2_remove_all_members() {
    let delta = member_delta(json!([{"op": "remove", "path": "members"}]));
    assert_eq!(delta.replace, Some(Vec::new()));
}

#[test]
fn s3_5_2_2_remove_values_of_a_multi_valued_attribute_by_filter() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{
            "op": "remove",
            "path": "emails[type eq \"work\" and value ew \"example.com\"]"
        }]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn s3_5_2_2_remove_all_then_add_replaces_members() {
    let delta = member_delta(json!([
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [
            {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/a", "value": ALICE},
            {"display": "James Smith", "$ref": "https://example.com/v2/Users/b", "value": BOB}
        ]}
    ]));
    assert_eq!(delta.replace, Some(ids(&[ALICE, BOB])));
    assert!(delta.add.is_empty() && delta.remove.is_empty());
}

#[test]
fn s3_5_2_2_remove_single_valued_and_absent_attributes() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([
            {"op": "remove", "path": "displayName"},
            {"op": "remove", "path": "nickName"},
            {"op": "remove", "path": "emails"},
            {"op": "remove", "path": "name.givenName"}
        ]),
    );
    assert!(out.get("displayName").is_none());
    assert!(out.get("emails").is_none());
    assert!(out["name"].get("givenName").is_none());
    assert_eq!(out["name"]["familyName"], json!("Jensen"));
}

#[test]
fn s3_5_2_2_remove_without_path_is_no_target() {
    assert_err(
        patch("User", &user(), json!([{"op": "remove"}])),
        ScimType::NoTarget,
        "needs a 'path'",
    );
}

#[test]
fn s3_5_2_3_replace_all_members() {
    let delta = member_delta(json!([{
        "op": "replace",
        "path": "members",
        "value": [
            {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/a", "value": ALICE},
            {"display": "James Smith", "$ref": "https://example.com/v2/Users/b", "value": BOB}
        ]
    }]));
    assert_eq!(delta.replace, Some(ids(&[ALICE, BOB])));
}

#[test]
fn s3_5_2_3_replace_a_work_address() {
    let doc = user();
    let address = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": address}]),
    );
    // "all matching record values will be replaced": whole elements.
    assert_eq!(out["addresses"], json!([address]));
}

#[test]
fn s3_5_2_3_replace_a_sub_attribute_of_matching_values() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{
            "op": "replace",
            "path": "addresses[type eq \"work\"].streetAddress",
            "value": "1010 Broadway Ave"
        }]),
    );
    assert_eq!(
        out["addresses"],
        json!([{
            "type": "work",
            "streetAddress": "1010 Broadway Ave",
            "locality": "Hollywood",
            "primary": true
        }])
    );
}

#[test]
fn s3_5_2_3_replace_multiple_attributes_without_path() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{
            "op": "replace",
            "value": {
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
                "nickname": "Babs"
            }
        }]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com", "type": "work", "primary": true}])
    );
    assert_eq!(out["nickName"], json!("Babs"));
}

#[test]
fn s3_5_2_3_replace_complex_keeps_unnamed_sub_attributes() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "name", "value": {"givenName": "Barb"}}]),
    );
    assert_eq!(
        out["name"],
        json!({
            "formatted": "Ms. Barbara J Jensen III",
            "familyName": "Jensen",
            "givenName": "Barb"
        })
    );
}

#[test]
fn s3_5_2_3_replace_of_missing_attribute_adds_it() {
    let doc = plain_user();
    let out = patch_user(
        &doc,
        json!([
            {"op": "replace", "path": "title", "value": "Tour Guide"},
            {"op": "replace", "path": "name.familyName", "value": "Doe"}
        ]),
    );
    assert_eq!(out["title"], json!("Tour Guide"));
    assert_eq!(out["name"], json!({"familyName": "Doe"}));
}

#[test]
fn s3_5_2_3_replace_with_unmatched_filter_is_no_target() {
    for path in [
        "emails[value eq \"nobody@example.com\"]",
        "emails[value eq \"nobody@example.com\"].display",
        "addresses[type eq \"home\"]",
    ] {
        assert_err(
            patch(
                "User",
                &user(),
                json!([{"op": "replace", "path": path, "value": {"value": "x"}}]),
            ),
            ScimType::NoTarget,
            "matches the filter",
        );
    }
}

#[test]
fn s3_5_2_2_remove_with_unmatched_filter_is_no_target() {
    for path in [
        "emails[type eq \"other\"]",
        "emails[type eq \"other\"].display",
    ] {
        assert_err(
            patch("User", &user(), json!([{"op": "remove", "path": path}])),
            ScimType::NoTarget,
            "matches the filter",
        );
    }
}

#[test]
fn s3_5_2_3_replace_multi_valued_without_filter_replaces_all() {
    let doc = user();
    let out = patch_user(
        &doc,
        json!([{"op": "replace", "path": "phoneNumbers", "value": {"value": "555-0100", "type": "mobile"}}]),
    );
    assert_eq!(
        out["phoneNumbers"],
        json!([{"value": "555-0100", "type": "mobile"}])
    );
    let cleared = patch_user(
        &doc,
        json!([{"op": "replace", "path": "phoneNumbers", "value": []}]),
    );
    assert_eq!(cleared.get("phoneNumbers"), None::<&Value>);
}
