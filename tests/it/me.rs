//! `/Me` for connect-scoped tokens (RFC 7644 §3.11).

use serde_json::{json, Value};

use crate::harness::client::{finish, Resp};
use crate::harness::{seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn me(app: &TestApp, method: &str, token: &str, email: Option<&str>, body: Option<&Value>) -> Resp {
    let mut r = ureq::request(method, &app.url("/scim/v2/Me"))
        .set("Authorization", &format!("Bearer {token}"));
    if let Some(e) = email {
        r = r.set("x-user-email", e);
    }
    finish(match body {
        Some(b) => r
            .set("Content-Type", "application/scim+json")
            .send_string(&b.to_string()),
        None => r.call(),
    })
}

fn create_user(app: &TestApp, admin: &str, body: Value) -> String {
    let r = crate::harness::client::request(
        "POST",
        &app.url("/scim/v2/Users"),
        Some(admin),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

fn stored_doc(db: &TestDb, id: &str) -> (Value, i64) {
    use diesel::prelude::*;
    use scimd::store::schema::scim_users;
    scim_users::table
        .find(uuid::Uuid::parse_str(id).unwrap())
        .select((scim_users::doc, scim_users::version))
        .first(&mut db.conn())
        .unwrap()
}

#[test]
fn scope_and_method_matrix() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["admin:scim"]);
    create_user(
        &app,
        &admin,
        json!({"schemas": [USER], "userName": "pat@example.com"}),
    );
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "nickName", "value": "P"}]});
    let put = json!({"schemas": [USER], "userName": "pat@example.com", "nickName": "Q"});
    let post = json!({"schemas": [USER], "userName": "new@example.com"});
    // GET, PATCH, PUT, POST, DELETE
    let matrix: &[(&[&str], [u16; 5])] = &[
        (&["connect:read"], [200, 403, 403, 403, 403]),
        (&["connect:write"], [200, 200, 200, 403, 403]),
        (&["all"], [200, 200, 200, 403, 403]),
        (&[], [200, 200, 200, 403, 403]),
        (&["admin:read"], [403, 403, 403, 403, 403]),
        (&["admin:scim"], [403, 403, 403, 403, 403]),
        (&["admin:write"], [403, 403, 403, 403, 403]),
    ];
    for (scopes, want) in matrix {
        let t = seed_token(&db, scopes);
        let got = [
            me(&app, "GET", &t, Some("pat@example.com"), None).status,
            me(&app, "PATCH", &t, Some("pat@example.com"), Some(&patch)).status,
            me(&app, "PUT", &t, Some("pat@example.com"), Some(&put)).status,
            me(&app, "POST", &t, Some("pat@example.com"), Some(&post)).status,
            me(&app, "DELETE", &t, Some("pat@example.com"), None).status,
        ];
        assert_eq!(&got, want, "{scopes:?}");
    }
    // Connect tokens reach nothing else.
    let c = seed_token(&db, &["connect:write"]);
    for (m, p) in [
        ("GET", "/scim/v2/Users"),
        ("GET", "/scim/v2/Groups"),
        ("GET", "/api/v1/tokens"),
        ("GET", "/api/v1/audit"),
    ] {
        assert_eq!(
            crate::harness::client::request(m, &app.url(p), Some(&c), None).status,
            403,
            "{p}"
        );
    }
    let bulk =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []});
    assert_eq!(
        crate::harness::client::request("POST", &app.url("/scim/v2/Bulk"), Some(&c), Some(&bulk))
            .status,
        403
    );
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    assert_eq!(
        crate::harness::client::request(
            "POST",
            &app.url("/scim/v2/.search"),
            Some(&c),
            Some(&search)
        )
        .status,
        403
    );
}

#[test]
fn the_header_names_exactly_one_user() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["admin:scim"]);
    let t = seed_token(&db, &["connect:read"]);
    let id = create_user(
        &app,
        &admin,
        json!({"schemas": [USER], "userName": "u1", "emails": [{"value": "Ann@Example.com"}]}),
    );
    create_user(
        &app,
        &admin,
        json!({"schemas": [USER], "userName": "shared@example.com"}),
    );
    create_user(
        &app,
        &admin,
        json!({"schemas": [USER], "userName": "u3", "emails": [{"value": "shared@example.com"}]}),
    );

    let r = me(&app, "GET", &t, Some("ann@EXAMPLE.com"), None);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["id"], id.as_str());
    assert!(j["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/Users/{id}")));
    assert!(r.header("etag").is_some());
    let missing = me(&app, "GET", &t, None, None);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["scimType"], "invalidValue");
    assert_eq!(me(&app, "GET", &t, Some("   "), None).status, 400);
    assert_eq!(
        me(&app, "GET", &t, Some("nobody@example.com"), None).status,
        404
    );
    let conflict = me(&app, "GET", &t, Some("shared@example.com"), None);
    assert_eq!(conflict.status, 409);
    assert!(conflict.json()["detail"]
        .as_str()
        .unwrap()
        .contains("more than one"));
    // Projection works as on /Users/{id}.
    let p = crate::harness::client::finish(
        ureq::get(&app.url("/scim/v2/Me?attributes=userName"))
            .set("Authorization", &format!("Bearer {t}"))
            .set("x-user-email", "ann@example.com")
            .call(),
    );
    assert!(p.json().get("emails").is_none());
}

#[test]
fn a_person_changes_only_their_own_profile() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["admin:scim"]);
    let t = seed_token(&db, &["connect:write"]);
    let id = create_user(
        &app,
        &admin,
        json!({"schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "me@example.com",
               "active": true, "emails": [{"value": "me@example.com", "type": "work"}], "externalId": "x1",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}}),
    );
    let ok: Vec<(&str, Value)> = vec![
        ("displayName", json!("Me")),
        ("nickName", json!("m")),
        ("name", json!({"givenName": "M", "familyName": "E"})),
        ("title", json!("Engineer")),
        ("preferredLanguage", json!("en-GB")),
        ("locale", json!("en-GB")),
        ("timezone", json!("Europe/London")),
        (
            "phoneNumbers",
            json!([{"value": "+44 20 0000 0000", "type": "work"}]),
        ),
        ("addresses", json!([{"locality": "London", "type": "work"}])),
        (
            "photos",
            json!([{"value": "https://example.com/me.png", "type": "photo"}]),
        ),
    ];
    for (attr, value) in &ok {
        let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": attr, "value": value}]});
        let r = me(&app, "PATCH", &t, Some("me@example.com"), Some(&body));
        assert_eq!(r.status, 200, "{attr}: {}", r.body);
        assert_eq!(&r.json()[*attr], value, "{attr}");
    }
    let before = stored_doc(&db, &id);
    let forbidden: Vec<Value> = vec![
        json!([{"op": "replace", "path": "userName", "value": "other@example.com"}]),
        json!([{"op": "replace", "path": "active", "value": false}]),
        json!([{"op": "add", "path": "emails", "value": [{"value": "x@example.com"}]}]),
        json!([{"op": "replace", "path": "externalId", "value": "y"}]),
        json!([{"op": "add", "path": "roles", "value": [{"value": "admin"}]}]),
        json!([{"op": "add", "path": "entitlements", "value": [{"value": "all"}]}]),
        json!([{"op": "replace", "path": "password", "value": "x"}]),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "HR"}]),
        json!([{"op": "replace", "value": {"nickName": "ok", "active": false}}]),
        json!([{"op": "replace", "path": "title", "value": "fine"}, {"op": "replace", "path": "userName", "value": "z"}]),
    ];
    for ops in forbidden {
        let body = json!({"schemas": [PATCH], "Operations": ops});
        let r = me(&app, "PATCH", &t, Some("me@example.com"), Some(&body));
        assert_eq!(r.status, 403, "{ops}: {}", r.body);
        assert!(r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be changed"));
        assert_eq!(stored_doc(&db, &id), before, "nothing applied for {ops}");
    }
    // A PUT may restate what it cannot change, but not change it.
    let current = me(&app, "GET", &t, Some("me@example.com"), None).json();
    let mut put = current.clone();
    put["title"] = json!("Lead");
    assert_eq!(
        me(&app, "PUT", &t, Some("me@example.com"), Some(&put)).status,
        200
    );
    let before = stored_doc(&db, &id);
    let mut bad = current;
    bad["externalId"] = json!("changed");
    let r = me(&app, "PUT", &t, Some("me@example.com"), Some(&bad));
    assert_eq!(r.status, 403);
    assert_eq!(stored_doc(&db, &id), before);
}

#[test]
fn deactivation_on_another_instance_locks_out_the_next_request() {
    let db = TestDb::new();
    let a = TestApp::new(&db);
    let b = TestApp::new(&db);
    let admin = seed_token(&db, &["admin:scim"]);
    let t = seed_token(&db, &["connect:read"]);
    let id = create_user(
        &a,
        &admin,
        json!({"schemas": [USER], "userName": "gone@example.com", "active": true}),
    );
    assert_eq!(
        me(&a, "GET", &t, Some("gone@example.com"), None).status,
        200
    );
    let off =
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let r = crate::harness::client::request(
        "PATCH",
        &b.url(&format!("/scim/v2/Users/{id}")),
        Some(&admin),
        Some(&off),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        me(&a, "GET", &t, Some("gone@example.com"), None).status,
        403
    );
    let on =
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": true}}]});
    assert_eq!(
        crate::harness::client::request(
            "PATCH",
            &b.url(&format!("/scim/v2/Users/{id}")),
            Some(&admin),
            Some(&on)
        )
        .status,
        200
    );
    assert_eq!(
        me(&a, "GET", &t, Some("gone@example.com"), None).status,
        200
    );
    assert_eq!(
        crate::harness::client::request(
            "DELETE",
            &b.url(&format!("/scim/v2/Users/{id}")),
            Some(&admin),
            None
        )
        .status,
        204
    );
    assert_eq!(
        me(&a, "GET", &t, Some("gone@example.com"), None).status,
        404
    );
}
