//! The audit log: exactly one entry per change, with the right actor; none
//! for a write that failed; filtering, paging and retention.

use serde_json::{json, Value};

use crate::harness::client::request;
use crate::harness::{create_token, get, seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn entries(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let r = get(&app.url(&format!("/api/v1/audit{query}")), Some(admin));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"].as_array().unwrap().clone()
}

fn actions(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_change_writes_one_entry_and_failed_writes_none() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (scim_id, scim) = create_token(&app, &admin, &["admin:scim"]);
    let s = |m: &str, p: &str, b: Option<Value>| {
        request(
            m,
            &app.url(&format!("/scim/v2{p}")),
            Some(&scim),
            b.as_ref(),
        )
    };

    let u = s(
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "a"})),
    );
    let uid = u.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        s(
            "PUT",
            &format!("/Users/{uid}"),
            Some(json!({"schemas": [USER], "userName": "a", "title": "t"}))
        )
        .status,
        200
    );
    assert_eq!(s("PATCH", &format!("/Users/{uid}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "u"}]}))).status, 200);
    let g = s(
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": uid}]})),
    );
    let gid = g.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        s(
            "PUT",
            &format!("/Groups/{gid}"),
            Some(json!({"schemas": [GROUP], "displayName": "g2"}))
        )
        .status,
        200
    );
    // A group PATCH answers 204 unless the request asks for the group.
    assert_eq!(s("PATCH", &format!("/Groups/{gid}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "g3"}]}))).status, 204);
    // Failed writes: a uniqueness conflict, a stale If-Match, a bad PATCH.
    assert_eq!(
        s(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER], "userName": "A"}))
        )
        .status,
        409
    );
    let stale = ureq::put(&app.url(&format!("/scim/v2/Users/{uid}")))
        .set("Authorization", &format!("Bearer {scim}"))
        .set("Content-Type", "application/scim+json")
        .set("If-Match", "W/\"1\"")
        .send_string(&json!({"schemas": [USER], "userName": "a"}).to_string());
    assert_eq!(crate::harness::client::finish(stale).status, 412);
    assert_eq!(
        s(
            "PATCH",
            &format!("/Users/{uid}"),
            Some(json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "userName"}]}))
        )
        .status,
        400
    );
    assert_eq!(s("DELETE", &format!("/Groups/{gid}"), None).status, 204);
    assert_eq!(s("DELETE", &format!("/Users/{uid}"), None).status, 204);
    assert_eq!(
        request(
            "DELETE",
            &app.url(&format!("/api/v1/tokens/{scim_id}")),
            Some(&admin),
            None
        )
        .status,
        204
    );

    let all = entries(&app, &admin, "");
    let mut got = actions(&all);
    got.reverse();
    assert_eq!(
        got,
        [
            "token.create",
            "user.create",
            "user.replace",
            "user.patch",
            "group.create",
            "group.replace",
            "group.patch",
            "group.delete",
            "user.delete",
            "token.revoke",
        ]
    );
    for e in &all {
        let expected_actor = if e["action"].as_str().unwrap().starts_with("token.") {
            "seed"
        } else {
            "test"
        };
        assert_eq!(e["actor"]["name"], expected_actor, "{e}");
        assert!(e["actor"]["token_id"].is_string());
    }
    let body = serde_json::to_string(&all).unwrap();
    assert!(!body.contains(&scim), "no token value in the audit log");

    // Filters.
    assert_eq!(
        actions(&entries(&app, &admin, &format!("?actor={scim_id}"))).len(),
        8
    );
    let for_user = entries(
        &app,
        &admin,
        &format!("?resource_type=User&resource_id={uid}"),
    );
    assert_eq!(
        actions(&for_user),
        ["user.delete", "user.patch", "user.replace", "user.create"]
    );
    assert_eq!(
        entries(&app, &admin, "?since=2999-01-01T00:00:00Z").len(),
        0
    );
    // Keyset paging visits each entry once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = get(
            &app.url(&format!("/api/v1/audit?limit=3{cursor}")),
            Some(&admin),
        )
        .json();
        seen.extend(
            r["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string()),
        );
        match r["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10);
    assert_eq!(
        get(&app.url("/api/v1/audit?limit=0"), Some(&admin)).status,
        400
    );
    assert_eq!(
        get(&app.url("/api/v1/audit?cursor=zzz"), Some(&admin)).status,
        400
    );
    assert_eq!(
        get(&app.url("/api/v1/audit?bogus=1"), Some(&admin)).status,
        400
    );
}

#[test]
fn audit_and_overview_need_admin_read() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    for (scopes, want) in [
        (&["admin:read"][..], 200),
        (&["admin:write"][..], 200),
        (&["admin:scim"][..], 403),
        (&["connect:write"][..], 403),
    ] {
        let t = seed_token(&db, scopes);
        assert_eq!(
            get(&app.url("/api/v1/audit"), Some(&t)).status,
            want,
            "{scopes:?}"
        );
        assert_eq!(
            get(&app.url("/api/v1/overview"), Some(&t)).status,
            want,
            "{scopes:?}"
        );
    }
}

#[test]
fn overview_counts_and_last_activity_per_token() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (okta_id, okta) = create_token(&app, &admin, &["admin:scim"]);
    for i in 0..3 {
        let r = request(
            "POST",
            &app.url("/scim/v2/Users"),
            Some(&okta),
            Some(&json!({"schemas": [USER], "userName": format!("o{i}")})),
        );
        assert_eq!(r.status, 201);
    }
    let o = get(&app.url("/api/v1/overview"), Some(&admin)).json();
    assert_eq!(o["users"], 3);
    assert_eq!(o["groups"], 0);
    let okta_row = o["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == okta_id)
        .unwrap()
        .clone();
    assert_eq!(okta_row["last_activity"]["action"], "user.create");
    assert_eq!(okta_row["last_activity"]["resource_type"], "User");
}

#[test]
fn retention_deletes_only_old_entries() {
    use scimd::store::audit::{purge, record, Actor};
    let db = TestDb::new();
    let mut conn = db.conn();
    let actor = Actor {
        org_id: scimd::store::orgs::DEFAULT_ORG_ID,
        token_id: None,
        name: "t".into(),
        connector: None,
        request_id: None,
    };
    let now = scimd::clock::Clock::default().now();
    record(
        &mut conn,
        &actor,
        "user.create",
        "User",
        "old",
        201,
        now - chrono::Duration::days(100),
    )
    .unwrap();
    record(&mut conn, &actor, "user.create", "User", "new", 201, now).unwrap();
    assert_eq!(
        purge(&mut conn, now - chrono::Duration::days(90)).unwrap(),
        1
    );
    assert_eq!(
        purge(&mut conn, now - chrono::Duration::days(90)).unwrap(),
        0
    );
}

/// A PATCH of a group too large to return is answered 204; its audit entry
/// says 204 too (it used to record 200 whatever the answer).
#[test]
fn a_large_group_patch_answered_204_is_audited_as_204() {
    use scimd::store::orgs::DEFAULT_ORG_ID;
    use scimd::store::users::UserWrite;
    use scimd::store::{groups, users};

    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let now = scimd::clock::Clock::default().now();
    let mut conn = db.conn();
    let ids: Vec<uuid::Uuid> = (0..1002)
        .map(|i| {
            let w = UserWrite {
                doc: json!({"schemas": [USER], "userName": format!("member{i}")}),
                password_hash: None,
                origin: Default::default(),
            };
            users::create(&mut conn, DEFAULT_ORG_ID, w, now).unwrap().id
        })
        .collect();
    let group = groups::create(
        &mut conn,
        DEFAULT_ORG_ID,
        json!({"schemas": [GROUP], "displayName": "everyone"}),
        &ids[..1001],
        Default::default(),
        now,
    )
    .unwrap();
    let r = request(
        "PATCH",
        &app.url(&format!("/scim/v2/Groups/{}", group.id)),
        Some(&admin),
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": ids[1001]}]}]})),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let patches: Vec<Value> = entries(&app, &admin, &format!("?resource_id={}", group.id))
        .into_iter()
        .filter(|e| e["action"] == "group.patch")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(patches[0]["status"], 204, "{patches:?}");
}
