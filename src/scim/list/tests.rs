//! `ListQuery` from query parameters and SearchRequest bodies.

use super::*;
use crate::scim::error::ScimType;
use crate::scim::profile::Profile;
use serde_json::json;

fn pairs(items: &[(&str, &str)]) -> ScimResult<ListQuery> {
    let owned: Vec<(String, String)> = items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ListQuery::from_pairs(&owned, Profile::Lenient)
}

fn kind(r: ScimResult<ListQuery>) -> Option<ScimType> {
    r.expect_err("should fail").scim_type
}

#[test]
fn parses_every_parameter_in_any_case() {
    let q = pairs(&[
        ("filter", "userName eq \"bjensen\""),
        ("SORTBY", "name.familyName"),
        ("sortorder", "Descending"),
        ("startIndex", "3"),
        ("count", "20"),
        ("attributes", "userName, emails"),
        ("excludedAttributes", "groups"),
    ])
    .expect("valid");
    assert!(q.filter.is_some());
    assert_eq!(q.sort_by, Some(AttrPath::with_sub("name", "familyName")));
    assert_eq!(q.sort_order, SortOrder::Descending);
    assert_eq!((q.start_index, q.count, q.offset()), (3, Some(20), 2));
    assert_eq!(q.attributes.len(), 2);
    assert_eq!(q.excluded, vec![AttrPath::new("groups")]);
    assert_eq!(q.cursor, None);
}

#[test]
fn defaults_and_clamping() {
    let q = pairs(&[]).expect("empty");
    assert_eq!(q, ListQuery::default());
    assert_eq!(q.page_size(), DEFAULT_COUNT);
    let q = pairs(&[("startIndex", "-5"), ("count", "-1")]).expect("clamped");
    assert_eq!((q.start_index, q.count), (1, Some(0)));
    let q = pairs(&[("count", "999999")]).expect("capped");
    assert_eq!(q.page_size(), MAX_RESULTS);
    let q = pairs(&[("filter", " "), ("sortBy", ""), ("sortOrder", "")]).expect("blank");
    assert_eq!(q, ListQuery::default());
}

#[test]
fn rejects_unknown_repeated_and_malformed_parameters() {
    let e = pairs(&[("fitler", "x")]).expect_err("unknown");
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("'fitler'"));
    assert_eq!(
        kind(pairs(&[("count", "1"), ("Count", "2")])),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        kind(pairs(&[("count", "ten")])),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        kind(pairs(&[("startIndex", "1.5")])),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        kind(pairs(&[("sortOrder", "up")])),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        kind(pairs(&[("sortBy", "a b")])),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        kind(pairs(&[("filter", "userName eq")])),
        Some(ScimType::InvalidFilter)
    );
    assert_eq!(
        kind(pairs(&[("attributes", "a..b")])),
        Some(ScimType::InvalidPath)
    );
}

#[test]
fn cursor_parameter_selects_cursor_paging() {
    let q = pairs(&[("cursor", ""), ("count", "10")]).expect("first page");
    assert_eq!(q.cursor, Some(CursorRequest::First));
    let q = pairs(&[("cursor", "abc"), ("startIndex", "1")]).expect("index 1 is fine");
    assert_eq!(q.cursor, Some(CursorRequest::Token("abc".into())));
    assert_eq!(
        kind(pairs(&[("cursor", "abc"), ("startIndex", "5")])),
        Some(ScimType::InvalidValue)
    );
}

#[test]
fn parses_search_requests() {
    let q = ListQuery::from_search_request(
        &json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["displayName", "userName"],
            "excludedAttributes": "emails,groups",
            "filter": "displayName sw \"smith\"",
            "sortBy": "userName",
            "startIndex": 1,
            "count": 10,
            "cursor": "",
        }),
        Profile::Lenient,
    )
    .expect("valid");
    assert_eq!(q.attributes.len(), 2);
    assert_eq!(q.excluded.len(), 2);
    assert_eq!(q.count, Some(10));
    assert_eq!(q.cursor, Some(CursorRequest::First));
    let q = ListQuery::from_search_request(
        &json!({
            "schemas": [SEARCH_REQUEST_SCHEMA], "filter": null
        }),
        Profile::Lenient,
    )
    .expect("null member is absent");
    assert_eq!(q, ListQuery::default());
}

#[test]
fn rejects_bad_search_requests() {
    let bad = |v: Value| kind(ListQuery::from_search_request(&v, Profile::Lenient));
    let s = SEARCH_REQUEST_SCHEMA;
    assert_eq!(bad(json!([])), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(json!({"count": 1})), Some(ScimType::InvalidSyntax));
    assert_eq!(
        bad(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "count": "10"})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "count": 1.5})),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "filter": 3})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "attributes": [1]})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "bogus": 1})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        bad(json!({"schemas": [s], "count": 1, "COUNT": 2})),
        Some(ScimType::InvalidValue)
    );
}
