//! Concurrent writers on one resource.

use std::sync::{Arc, Barrier};

use serde_json::json;

use crate::harness::client::{request, Resp};
use crate::harness::{seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn put_if_match(app: &TestApp, token: &str, id: &str, etag: &str, name: &str) -> Resp {
    let r = ureq::put(&app.url(&format!("/scim/v2/Users/{id}")))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .set("If-Match", etag)
        .send_string(&json!({"schemas": [USER], "userName": "u", "displayName": name}).to_string());
    crate::harness::client::finish(r)
}

#[test]
fn twenty_updates_with_the_same_if_match_one_wins_the_rest_412() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    let created = request(
        "POST",
        &app.url("/scim/v2/Users"),
        Some(&token),
        Some(&json!({"schemas": [USER], "userName": "u"})),
    );
    let id = created.json()["id"].as_str().unwrap().to_string();
    let etag = created.header("etag").unwrap().to_string();
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let (app, token, id, etag, barrier) = (
                app.clone(),
                token.clone(),
                id.clone(),
                etag.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                put_if_match(&app, &token, &id, &etag, &format!("n{i}")).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        19,
        "{statuses:?}"
    );
}

#[test]
fn concurrent_put_and_delete_of_one_resource_never_500() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    for round in 0..10 {
        let created = request(
            "POST",
            &app.url("/scim/v2/Users"),
            Some(&token),
            Some(&json!({"schemas": [USER], "userName": format!("r{round}")})),
        );
        let id = created.json()["id"].as_str().unwrap().to_string();
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (app, token, id, barrier) = (app.clone(), token.clone(), id.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let url = app.url(&format!("/scim/v2/Users/{id}"));
                    if i % 2 == 0 {
                        request("DELETE", &url, Some(&token), None).status
                    } else {
                        request("PUT", &url, Some(&token), Some(&json!({"schemas": [USER], "userName": format!("r{round}"), "displayName": "x"}))).status
                    }
                })
            })
            .collect();
        for h in handles {
            let s = h.join().unwrap();
            assert!([200, 204, 404].contains(&s), "round {round}: {s}");
        }
    }
}

#[test]
fn a_listing_during_heavy_creates_never_shows_a_resource_twice() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    let writer = {
        let (app, token) = (app.clone(), token.clone());
        std::thread::spawn(move || {
            for i in 0..150 {
                let r = request(
                    "POST",
                    &app.url("/scim/v2/Users"),
                    Some(&token),
                    Some(&json!({"schemas": [USER], "userName": format!("c{i}")})),
                );
                assert_eq!(r.status, 201);
            }
        })
    };
    for _ in 0..10 {
        let page = request(
            "GET",
            &app.url("/scim/v2/Users?count=1000&attributes=userName"),
            Some(&token),
            None,
        )
        .json();
        let ids: Vec<&str> = page["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "a resource appeared twice");
        for r in page["Resources"].as_array().unwrap() {
            assert!(r["userName"].is_string(), "half-written resource: {r}");
        }
    }
    writer.join().unwrap();
}

#[test]
fn a_hundred_concurrent_member_adds_to_one_group_lose_none() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    let users: Vec<String> = (0..100)
        .map(|i| {
            let r = request(
                "POST",
                &app.url("/scim/v2/Users"),
                Some(&token),
                Some(&json!({"schemas": [USER], "userName": format!("m{i}")})),
            );
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let g = request(
        "POST",
        &app.url("/scim/v2/Groups"),
        Some(&token),
        Some(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "busy"}),
        ),
    );
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let barrier = Arc::new(Barrier::new(users.len()));
    let handles: Vec<_> = users
        .iter()
        .cloned()
        .map(|uid| {
            let (app, token, gid, barrier) =
                (app.clone(), token.clone(), gid.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]
                });
                request(
                    "PATCH",
                    &app.url(&format!("/scim/v2/Groups/{gid}?excludedAttributes=members")),
                    Some(&token),
                    Some(&body),
                )
                .status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    let group = request(
        "GET",
        &app.url(&format!("/scim/v2/Groups/{gid}")),
        Some(&token),
        None,
    )
    .json();
    let mut got: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = users.clone();
    want.sort();
    assert_eq!(got, want, "every concurrent add is kept");
    // The version moved once per add.
    assert_eq!(group["meta"]["version"], "W/\"101\"");
}

/// 20 users and 5 groups, every user in every group and the groups nested
/// in a ring, all deleted at once: every delete succeeds and none needed a
/// deadlock retry (they take their locks in one order).
#[test]
fn concurrent_deletes_over_shared_memberships_do_not_deadlock() {
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let db = TestDb::new();
    let mut config = crate::harness::test_config(&db.url);
    config.db_pool_size = 25;
    let app = Arc::new(TestApp::with_config(config));
    let token = seed_token(&db, &["admin:scim"]);
    let users: Vec<String> = (0..20)
        .map(|i| {
            let r = request(
                "POST",
                &app.url("/scim/v2/Users"),
                Some(&token),
                Some(&json!({"schemas": [USER], "userName": format!("d{i}")})),
            );
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let members: Vec<_> = users.iter().map(|u| json!({"value": u})).collect();
    let groups: Vec<String> = (0..5)
        .map(|i| {
            let r = request(
                "POST",
                &app.url("/scim/v2/Groups"),
                Some(&token),
                Some(&json!({"schemas": [GROUP], "displayName": format!("g{i}"), "members": members})),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    for (i, g) in groups.iter().enumerate() {
        let next = &groups[(i + 1) % groups.len()];
        let r = request(
            "PATCH",
            &app.url(&format!("/scim/v2/Groups/{g}")),
            Some(&token),
            Some(
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "add", "path": "members", "value": [{"value": next}]}]}),
            ),
        );
        assert!(r.status == 200 || r.status == 204, "{}", r.body);
    }
    let targets: Vec<String> = users
        .iter()
        .map(|u| format!("/scim/v2/Users/{u}"))
        .chain(groups.iter().map(|g| format!("/scim/v2/Groups/{g}")))
        .collect();
    {
        let barrier = Arc::new(Barrier::new(targets.len()));
        let handles: Vec<_> = targets
            .iter()
            .map(|path| {
                let (app, token, path, barrier) =
                    (app.clone(), token.clone(), path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    request("DELETE", &app.url(&path), Some(&token), None).status
                })
            })
            .collect();
        let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    }
    assert_eq!(
        app.metric("scimd_db_transaction_retries_total{reason=\"deadlock\"}"),
        0.0
    );
    let r = crate::harness::get(&app.url("/scim/v2/Groups"), Some(&token));
    assert_eq!(r.json()["totalResults"], 0);
}

/// A group's members change when one of them is deleted, so its version and
/// lastModified must change too: an If-None-Match with the old ETag must not
/// be answered 304, nor an If-Match with it let a write through.
#[test]
fn deleting_a_member_changes_the_groups_version() {
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let post = |path: &str, body: serde_json::Value| {
        let r = request("POST", &app.url(path), Some(&token), Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let u = post(
        "/scim/v2/Users",
        json!({"schemas": [USER], "userName": "m"}),
    );
    let inner = post(
        "/scim/v2/Groups",
        json!({"schemas": [GROUP], "displayName": "inner", "members": [{"value": u}]}),
    );
    let outer = post(
        "/scim/v2/Groups",
        json!({"schemas": [GROUP], "displayName": "outer", "members": [{"value": inner}, {"value": u}]}),
    );
    let read = |g: &str| {
        let r = crate::harness::get(&app.url(&format!("/scim/v2/Groups/{g}")), Some(&token));
        (
            r.header("etag").unwrap().to_string(),
            r.json()["meta"]["lastModified"].clone(),
        )
    };
    let before_inner = read(&inner);
    let before_outer = read(&outer);
    app.clock.advance(chrono::Duration::seconds(5));
    let r = request(
        "DELETE",
        &app.url(&format!("/scim/v2/Users/{u}")),
        Some(&token),
        None,
    );
    assert_eq!(r.status, 204);
    for (g, before) in [(&inner, &before_inner), (&outer, &before_outer)] {
        let after = read(g);
        assert_ne!(after.0, before.0, "the ETag must change");
        assert_ne!(after.1, before.1, "lastModified must change");
        let r = ureq::get(&app.url(&format!("/scim/v2/Groups/{g}")))
            .set("Authorization", &format!("Bearer {token}"))
            .set("If-None-Match", &before.0)
            .call();
        assert_eq!(crate::harness::client::finish(r).status, 200);
    }
    // Deleting a nested group changes the group that held it.
    let before = read(&outer);
    app.clock.advance(chrono::Duration::seconds(5));
    let r = request(
        "DELETE",
        &app.url(&format!("/scim/v2/Groups/{inner}")),
        Some(&token),
        None,
    );
    assert_eq!(r.status, 204);
    let after = read(&outer);
    assert_ne!(after.0, before.0);
    assert_ne!(after.1, before.1);
    let r = crate::harness::get(&app.url(&format!("/scim/v2/Groups/{outer}")), Some(&token));
    assert!(r.json().get("members").is_none(), "{}", r.body);
}

/// User writes take no row lock: each reads the row and writes only if its
/// version is unchanged, reading again otherwise (and locking after two
/// misses). 8 clients each adding 5 emails to one user at once: every
/// request succeeds and all 40 emails are there, none lost to a concurrent
/// write.
#[test]
fn concurrent_patches_of_one_user_lose_no_update() {
    const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["admin:scim"]);
    let r = crate::harness::post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "contended"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (app, token, id) = (app.clone(), token.clone(), id.clone());
            std::thread::spawn(move || {
                for i in 0..5 {
                    let r = request(
                        "PATCH",
                        &app.url(&format!("/scim/v2/Users/{id}")),
                        Some(&token),
                        Some(&json!({"schemas": [PATCH], "Operations": [{
                            "op": "add", "path": "emails",
                            "value": [{"value": format!("w{w}-{i}@example.com")}]}]})),
                    );
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let user = crate::harness::get(&app.url(&format!("/scim/v2/Users/{id}")), Some(&token)).json();
    assert_eq!(user["emails"].as_array().unwrap().len(), 40, "{user}");
    // Created at version 1, and each of the 40 writes moved it once.
    assert_eq!(user["meta"]["version"], "W/\"41\"");
}
