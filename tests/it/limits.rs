//! Multi-valued attributes are bounded (Group members excepted), the bound
//! is configurable and advertised, and a write that waits on a row lock past
//! the statement timeout is a 503 to retry, not a 500.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::harness::client::request;
use crate::harness::{get, post, seed_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIMITS: &str = "urn:scimd:params:scim:schemas:extension:limits:1.0:ServiceProviderConfig";

fn emails(from: usize, n: usize) -> Value {
    Value::Array(
        (from..from + n)
            .map(|i| json!({"value": format!("u{i}@example.com"), "type": "other"}))
            .collect(),
    )
}

fn patch(app: &TestApp, token: &str, path: &str, ops: Value) -> crate::harness::client::Resp {
    request(
        "PATCH",
        &app.url(path),
        Some(token),
        Some(&json!({"schemas": [PATCH], "Operations": ops})),
    )
}

fn assert_too_many(r: &crate::harness::client::Resp, attr: &str, max: usize) {
    assert_eq!(r.status, 400, "{}", r.body);
    let v = r.json();
    assert_eq!(v["scimType"], "invalidValue", "{}", r.body);
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("'{attr}'")) && detail.contains(&format!("at most {max}")),
        "{detail}"
    );
}

#[test]
fn multi_valued_attributes_hold_at_most_the_limit() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let r = post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "many", "emails": emails(0, 1001)}),
    );
    assert_too_many(&r, "emails", 1000);
    let r = post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "many", "emails": emails(0, 1000)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let path = format!("/scim/v2/Users/{id}");
    let version = r.json()["meta"]["version"].clone();

    // One value more, in one operation, or grown across operations.
    let r = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "emails", "value": emails(1000, 1)}]),
    );
    assert_too_many(&r, "emails", 1000);
    let r = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "1"}]},
               {"op": "add", "path": "emails", "value": emails(5000, 1001)}]),
    );
    assert_too_many(&r, "emails", 1000);
    assert!(r.json()["detail"]
        .as_str()
        .unwrap()
        .starts_with("Operations[1]"));
    let r = request(
        "PUT",
        &app.url(&path),
        Some(&token),
        Some(&json!({"schemas": [USER], "userName": "many", "roles": emails(0, 1001)})),
    );
    assert_too_many(&r, "roles", 1000);
    // Nothing changed; re-adding values already present is not growth.
    let r = get(&app.url(&path), Some(&token));
    assert_eq!(r.json()["meta"]["version"], version);
    assert_eq!(r.json()["emails"].as_array().unwrap().len(), 1000);
    let r = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "emails", "value": emails(0, 1000)}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Group members are rows: not limited.
    let users: Vec<String> = (0..1200)
        .map(|i| {
            let r = post(
                &app.url("/scim/v2/Users"),
                Some(&token),
                &json!({"schemas": [USER], "userName": format!("m{i}")}),
            );
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let members: Vec<Value> = users.iter().map(|u| json!({"value": u})).collect();
    let r = post(
        &app.url("/scim/v2/Groups"),
        Some(&token),
        &json!({"schemas": [GROUP], "displayName": "big", "members": members}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn the_limit_is_configurable_and_advertised() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.max_values_per_attribute = 3;
    let app = TestApp::with_config(config);
    let token = seed_token(&db, &["admin:scim"]);
    // Returned on request only: strict clients refuse unknown SPC keys.
    let plain = get(&app.url("/scim/v2/ServiceProviderConfig"), None).json();
    assert!(plain.get(LIMITS).is_none(), "{plain}");
    assert_eq!(
        plain["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    let spc = get(
        &app.url(&format!(
            "/scim/v2/ServiceProviderConfig?attributes={LIMITS}"
        )),
        None,
    )
    .json();
    assert_eq!(spc[LIMITS]["maxValuesPerAttribute"], 3);
    assert!(spc["schemas"].as_array().unwrap().contains(&json!(LIMITS)));
    let r = post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "x", "emails": emails(0, 4)}),
    );
    assert_too_many(&r, "emails", 3);
    let r = post(
        &app.url("/scim/v2/Bulk"),
        Some(&token),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a",
                                "data": {"schemas": [USER], "userName": "y", "emails": emails(0, 4)}}]}),
    );
    assert_eq!(r.json()["Operations"][0]["status"], "400", "{}", r.body);
}

/// A write that waits for a row lock longer than the statement timeout
/// (here held by another session) gets a 503 with Retry-After: the client
/// can retry, and no database text reaches it.
#[test]
fn a_lock_wait_past_the_timeout_is_a_503() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.db_statement_timeout = Duration::from_millis(300);
    let app = TestApp::with_config(config);
    let token = seed_token(&db, &["admin:scim"]);
    let r = post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "locked"}),
    );
    let id = r.json()["id"].as_str().unwrap().to_string();
    let mut holder = db.conn();
    holder
        .transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query("SELECT 1 FROM scim_users WHERE id = $1::uuid FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(&id)
                .execute(conn)?;
            let r = request(
                "PUT",
                &app.url(&format!("/scim/v2/Users/{id}")),
                Some(&token),
                Some(&json!({"schemas": [USER], "userName": "locked", "title": "t"})),
            );
            assert_eq!(r.status, 503, "{}", r.body);
            assert_eq!(r.header("retry-after"), Some("1"));
            assert!(!r.body.contains("canceling"), "{}", r.body);
            let r = request(
                "DELETE",
                &app.url(&format!("/scim/v2/Users/{id}")),
                Some(&token),
                None,
            );
            assert_eq!(r.status, 503, "{}", r.body);
            Ok(())
        })
        .unwrap();
    let r = get(&app.url(&format!("/scim/v2/Users/{id}")), Some(&token));
    assert_eq!(r.status, 200);
    assert!(r.json().get("title").is_none());
}
