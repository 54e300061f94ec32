//! Group membership: every way to name members, the errors, and how
//! operations combine into one `MemberDelta`.

use serde_json::json;

use super::{assert_err, group, ids, member_delta, patch, revalidated, ALICE, BOB, CAROL};
use crate::scim::error::ScimType;
use crate::scim::patch::MemberDelta;

fn delta(replace: Option<&[&str]>, add: &[&str], remove: &[&str]) -> MemberDelta {
    MemberDelta {
        replace: replace.map(ids),
        add: ids(add),
        remove: ids(remove),
    }
}

#[test]
fn add_accepts_an_array_a_single_object_or_bare_ids() {
    assert_eq!(
        member_delta(json!([{"op": "add", "path": "members", "value": {"value": ALICE}}])),
        delta(None, &[ALICE], &[])
    );
    assert_eq!(
        member_delta(
            json!([{"op": "add", "path": "members", "value": [ALICE, {"value": BOB, "type": "User"}]}])
        ),
        delta(None, &[ALICE, BOB], &[])
    );
    // A null or empty value adds nothing.
    assert!(member_delta(json!([{"op": "add", "path": "members", "value": []}])).is_empty());
    assert!(member_delta(json!([{"op": "add", "path": "members", "value": null}])).is_empty());
}

#[test]
fn no_path_members_key_adds_or_replaces_next_to_document_changes() {
    let doc = group();
    let out = patch(
        "Group",
        &doc,
        json!([{"op": "add", "value": {"members": [{"value": ALICE}], "displayName": "New"}}]),
    )
    .unwrap();
    assert_eq!(out.members, delta(None, &[ALICE], &[]));
    assert_eq!(out.doc["displayName"], json!("New"));
    assert!(out.doc.get("members").is_none());
    revalidated("Group", &doc, &out.doc);

    let out = patch(
        "Group",
        &doc,
        json!([{"op": "replace", "value": {"Members": [{"value": BOB}]}}]),
    )
    .unwrap();
    assert_eq!(out.members, delta(Some(&[BOB]), &[], &[]));
}

#[test]
fn member_paths_ignore_case_and_accept_the_core_urn() {
    assert_eq!(
        member_delta(json!([{"op": "ADD", "path": "Members", "value": [{"Value": ALICE}]}])),
        delta(None, &[ALICE], &[])
    );
    assert_eq!(
        member_delta(
            json!([{"op": "remove", "path": format!("urn:ietf:params:scim:schemas:core:2.0:Group:members[VALUE eq \"{ALICE}\"]")}])
        ),
        delta(None, &[], &[ALICE])
    );
}

#[test]
fn remove_by_or_of_value_filters() {
    let path =
        format!("members[value eq \"{ALICE}\" or value eq \"{BOB}\" or value eq \"{CAROL}\"]");
    assert_eq!(
        member_delta(json!([{"op": "remove", "path": path}])),
        delta(None, &[], &[ALICE, BOB, CAROL])
    );
}

#[test]
fn other_member_filters_are_invalid_filter() {
    for path in [
        "members[display eq \"Babs\"]",
        "members[value ne \"x\"]",
        "members[value eq \"a\" and type eq \"User\"]",
        "members[value pr]",
    ] {
        assert_err(
            patch("Group", &group(), json!([{"op": "remove", "path": path}])),
            ScimType::InvalidFilter,
            "only 'value eq",
        );
    }
    assert_err(
        patch(
            "Group",
            &group(),
            json!([{"op": "remove", "path": "members[bogus eq \"x\"]"}]),
        ),
        ScimType::InvalidFilter,
        "unknown attribute",
    );
}

#[test]
fn members_are_written_whole() {
    for op in [
        json!({"op": "add", "path": "members[value eq \"a\"]", "value": {"value": "a"}}),
        json!({"op": "replace", "path": "members[value eq \"a\"]", "value": {"value": "a"}}),
        json!({"op": "replace", "path": "members.value", "value": "a"}),
        json!({"op": "remove", "path": "members.type"}),
    ] {
        assert_err(
            patch("Group", &group(), json!([op])),
            ScimType::InvalidPath,
            "whole",
        );
    }
    assert_err(
        patch(
            "Group",
            &group(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]),
        ),
        ScimType::Mutability,
        "readOnly",
    );
}

#[test]
fn a_member_needs_a_string_value() {
    for value in [
        json!([{"display": "Babs"}]),
        json!([{"value": 17}]),
        json!([{"value": ""}]),
        json!([42]),
        json!([{"value": ALICE}, {"value": null}]),
    ] {
        assert_err(
            patch(
                "Group",
                &group(),
                json!([{"op": "add", "path": "members", "value": value}]),
            ),
            ScimType::InvalidValue,
            "non-empty string 'value'",
        );
    }
}

#[test]
fn removing_a_non_member_is_not_an_error() {
    assert_eq!(
        member_delta(json!([{"op": "remove", "path": "members[value eq \"not-a-member\"]"}])),
        delta(None, &[], &["not-a-member"])
    );
}

#[test]
fn remove_with_an_empty_value_removes_nothing_and_null_removes_all() {
    assert!(member_delta(json!([{"op": "remove", "path": "members", "value": []}])).is_empty());
    assert_eq!(
        member_delta(json!([{"op": "remove", "path": "members", "value": null}])),
        delta(Some(&[]), &[], &[])
    );
}

#[test]
fn the_last_operation_on_an_id_wins() {
    // Add then remove: removed (it may have been a member before).
    assert_eq!(
        member_delta(json!([
            {"op": "add", "path": "members", "value": [{"value": ALICE}, {"value": BOB}]},
            {"op": "remove", "path": format!("members[value eq \"{ALICE}\"]")}
        ])),
        delta(None, &[BOB], &[ALICE])
    );
    // Remove then add: added.
    assert_eq!(
        member_delta(json!([
            {"op": "remove", "path": "members", "value": [{"value": ALICE}]},
            {"op": "add", "path": "members", "value": [{"value": ALICE}]}
        ])),
        delta(None, &[ALICE], &[])
    );
}

#[test]
fn operations_after_a_replace_edit_the_list() {
    assert_eq!(
        member_delta(json!([
            {"op": "add", "path": "members", "value": [{"value": CAROL}]},
            {"op": "remove", "path": "members", "value": [{"value": CAROL}]},
            {"op": "replace", "path": "members", "value": [{"value": ALICE}]},
            {"op": "add", "path": "members", "value": [{"value": BOB}, {"value": ALICE}]},
            {"op": "remove", "path": format!("members[value eq \"{ALICE}\"]")},
            {"op": "add", "path": "members", "value": [{"value": CAROL}]}
        ])),
        delta(Some(&[BOB, CAROL]), &[], &[])
    );
    // A replace supersedes what came before it.
    assert_eq!(
        member_delta(json!([
            {"op": "add", "path": "members", "value": [{"value": ALICE}]},
            {"op": "remove", "path": "members", "value": [{"value": BOB}]},
            {"op": "replace", "path": "members", "value": [{"value": CAROL}]}
        ])),
        delta(Some(&[CAROL]), &[], &[])
    );
}

#[test]
fn ids_are_deduplicated_ignoring_case() {
    let upper = ALICE.to_ascii_uppercase();
    assert_eq!(
        member_delta(json!([
            {"op": "add", "path": "members", "value": [{"value": ALICE}, {"value": upper}, {"value": ALICE}]}
        ])),
        delta(None, &[ALICE], &[])
    );
    assert_eq!(
        member_delta(json!([
            {"op": "replace", "path": "members", "value": [{"value": ALICE}, {"value": upper}]},
        ])),
        delta(Some(&[ALICE]), &[], &[])
    );
}

#[test]
fn members_is_only_special_for_groups() {
    assert_err(
        patch(
            "User",
            &super::plain_user(),
            json!([{"op": "add", "path": "members", "value": [{"value": ALICE}]}]),
        ),
        ScimType::InvalidPath,
        "not an attribute of resource type User",
    );
}
