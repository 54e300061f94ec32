//! SCIM resource behaviour that fixtures cannot show: concurrency,
//! organization isolation, size limits, and what is stored.

use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::harness::client::request;
use crate::harness::{get, org_with_token, seed_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> crate::harness::client::Resp {
    request(
        method,
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        body,
    )
}

#[test]
fn concurrent_creates_of_one_user_name_yield_exactly_one_201() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    let n = 20;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (app, token, barrier) = (app.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                // Different case each time: uniqueness is case-insensitive.
                let name = if i % 2 == 0 { "Racer" } else { "racer" };
                scim(
                    &app,
                    "POST",
                    "/Users",
                    &token,
                    Some(&json!({"schemas": [USER], "userName": name})),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        n - 1,
        "{statuses:?}"
    );
}

#[test]
fn an_organization_never_sees_another_ones_resources() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let mine = seed_token(&db, &["admin:scim"]);
    let (_, theirs) = org_with_token(&db, "other", &["admin:scim"]);

    let u = scim(
        &app,
        "POST",
        "/Users",
        &mine,
        Some(&json!({"schemas": [USER], "userName": "shared-name"})),
    );
    assert_eq!(u.status, 201);
    let uid = u.json()["id"].as_str().unwrap().to_string();
    let g = scim(
        &app,
        "POST",
        "/Groups",
        &mine,
        Some(&json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": uid}]})),
    );
    assert_eq!(g.status, 201);
    let gid = g.json()["id"].as_str().unwrap().to_string();

    for path in [format!("/Users/{uid}"), format!("/Groups/{gid}")] {
        assert_eq!(
            scim(&app, "GET", &path, &theirs, None).status,
            404,
            "{path}"
        );
        assert_eq!(
            scim(&app, "DELETE", &path, &theirs, None).status,
            404,
            "{path}"
        );
    }
    let put = scim(
        &app,
        "PUT",
        &format!("/Users/{uid}"),
        &theirs,
        Some(&json!({"schemas": [USER], "userName": "stolen"})),
    );
    assert_eq!(put.status, 404);
    assert_eq!(
        scim(&app, "GET", "/Users", &theirs, None).json()["totalResults"],
        0
    );
    assert_eq!(
        scim(&app, "GET", "/Groups", &theirs, None).json()["totalResults"],
        0
    );
    // Their own user with the same userName is fine: uniqueness is per organization.
    assert_eq!(
        scim(
            &app,
            "POST",
            "/Users",
            &theirs,
            Some(&json!({"schemas": [USER], "userName": "shared-name"}))
        )
        .status,
        201
    );
    // And they cannot reference my user as a member.
    let bad = scim(
        &app,
        "POST",
        "/Groups",
        &theirs,
        Some(&json!({"schemas": [GROUP], "displayName": "x", "members": [{"value": uid}]})),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["scimType"], "invalidValue");
    // Mine is untouched.
    assert_eq!(
        scim(&app, "GET", &format!("/Users/{uid}"), &mine, None).json()["userName"],
        "shared-name"
    );
}

#[test]
fn oversized_bodies_are_413_before_parsing() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let big = format!(
        "{{\"schemas\":[\"{USER}\"],\"userName\":\"{}\"}}",
        "x".repeat(11 * 1024 * 1024)
    );
    let r = ureq::post(&app.url("/scim/v2/Users"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .send_string(&big);
    let r = crate::harness::client::finish(r);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json()["scimType"], "tooLarge");
    // A long but allowed string is a precise 400, not a crash.
    let long = json!({"schemas": [USER], "userName": "y".repeat(100_000)});
    let r = scim(&app, "POST", "/Users", &token, Some(&long));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["scimType"], "invalidValue");
}

#[test]
fn passwords_are_stored_only_as_argon2id_hashes_and_never_returned() {
    use scimd::store::schema::scim_users;
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let r = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(&json!({"schemas": [USER], "userName": "pw", "password": "Secr3t!pass"})),
    );
    assert_eq!(r.status, 201);
    assert!(!r.body.contains("Secr3t"));
    let id: uuid::Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
    let (doc, hash): (Value, Option<String>) = scim_users::table
        .find(id)
        .select((scim_users::doc, scim_users::password_hash))
        .first(&mut db.conn())
        .unwrap();
    assert!(doc.get("password").is_none());
    let hash = hash.unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(scimd::auth::hash::verify("Secr3t!pass", &hash));
    // A replace without a password keeps the stored one.
    let put = scim(
        &app,
        "PUT",
        &format!("/Users/{id}"),
        &token,
        Some(&json!({"schemas": [USER], "userName": "pw", "displayName": "P"})),
    );
    assert_eq!(put.status, 200);
    let kept: Option<String> = scim_users::table
        .find(id)
        .select(scim_users::password_hash)
        .first(&mut db.conn())
        .unwrap();
    assert_eq!(kept.as_deref(), Some(hash.as_str()));
}

/// The password is hashed before the write's transaction; whichever way a
/// PUT or PATCH (path, no path, Entra's capitalised op) carries it, the
/// stored hash is of that password.
#[test]
fn passwords_written_by_put_and_patch_are_the_ones_stored() {
    use scimd::store::schema::scim_users;
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let r = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(&json!({"schemas": [USER], "userName": "pw2"})),
    );
    let id: uuid::Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
    let stored = || -> String {
        scim_users::table
            .find(id)
            .select(scim_users::password_hash)
            .first::<Option<String>>(&mut db.conn())
            .unwrap()
            .unwrap()
    };
    let patch = |ops: Value| {
        let r = scim(
            &app,
            "PATCH",
            &format!("/Users/{id}"),
            &token,
            Some(
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains("pass-"), "{}", r.body);
    };
    let r = scim(
        &app,
        "PUT",
        &format!("/Users/{id}"),
        &token,
        Some(&json!({"schemas": [USER], "userName": "pw2", "PassWord": "pass-put"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(scimd::auth::hash::verify("pass-put", &stored()));
    patch(json!([{"op": "replace", "path": "password", "value": "pass-path"}]));
    assert!(scimd::auth::hash::verify("pass-path", &stored()));
    patch(json!([{"op": "Replace", "value": {"password": "pass-nopath", "displayName": "x"}}]));
    assert!(scimd::auth::hash::verify("pass-nopath", &stored()));
    // Two in one request: the last one wins.
    patch(json!([
        {"op": "replace", "path": "password", "value": "pass-first"},
        {"op": "replace", "value": {"password": "pass-last"}}
    ]));
    assert!(scimd::auth::hash::verify("pass-last", &stored()));
    assert!(!scimd::auth::hash::verify("pass-first", &stored()));
}

#[test]
fn locations_use_the_public_url_when_configured() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.public_url = Some("https://scim.example.com".into());
    let app = TestApp::with_config(config);
    let token = seed_token(&db, &["admin:scim"]);
    let r = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(&json!({"schemas": [USER], "userName": "loc"})),
    );
    let id = r.json()["id"].as_str().unwrap().to_string();
    let want = format!("https://scim.example.com/scim/v2/Users/{id}");
    assert_eq!(r.json()["meta"]["location"], want);
    assert_eq!(r.header("location"), Some(want.as_str()));
    let spc = get(&app.url("/scim/v2/ServiceProviderConfig"), None).json();
    assert_eq!(
        spc["meta"]["location"],
        "https://scim.example.com/scim/v2/ServiceProviderConfig"
    );
}

/// A group PATCH answers 204 with the new ETag whatever the group's size
/// (what Entra ID and Okta expect, and a member add then costs the same on
/// any group); with `attributes` or `excludedAttributes` it answers 200
/// with the group as asked.
#[test]
fn a_group_patch_answers_204_unless_the_request_asks_for_the_group() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let call = |m: &str, p: &str, b: Option<Value>| scim(&app, m, p, &token, b.as_ref());
    let user = |name: &str| {
        let r = call(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": name})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let (a, b) = (user("a"), user("b"));
    let g = call(
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "g"})),
    );
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let add = |who: &str| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": who}]}]})
    };
    let r = call("PATCH", &format!("/Groups/{gid}"), Some(add(&a)));
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_empty());
    let etag = r
        .header("etag")
        .expect("a 204 carries the new ETag")
        .to_string();
    let now = call("GET", &format!("/Groups/{gid}"), None);
    assert_eq!(now.header("etag"), Some(etag.as_str()));
    assert_eq!(now.json()["members"][0]["value"], a.as_str());
    let r = call(
        "PATCH",
        &format!("/Groups/{gid}?attributes=members"),
        Some(add(&b)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["members"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.body
    );
    assert!(r.json().get("displayName").is_none(), "{}", r.body);
    let r = call(
        "PATCH",
        &format!("/Groups/{gid}?excludedAttributes=members"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "h"}]}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["displayName"], "h");
    assert!(r.json().get("members").is_none(), "{}", r.body);
}
