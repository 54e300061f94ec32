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
