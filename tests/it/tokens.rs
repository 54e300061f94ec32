//! Token lifecycle over the admin API and the CLI.

use serde_json::json;

use crate::harness::{create_token, delete, get, post, scimd, seed_token, TestApp, TestDb};

#[test]
fn http_lifecycle_shows_the_value_once_and_revocation_is_immediate() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);

    let r = post(
        &app.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "okta", "scopes": ["admin:scim"], "expires_at": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_string();
    let value = created["token"].as_str().unwrap().to_string();
    assert!(value.starts_with("scimd_"));
    assert_eq!(created["name"], "okta");
    assert_eq!(created["scopes"], json!(["admin:scim"]));
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    assert!(r.header("location").unwrap().ends_with(&id));

    // The value works, and is never shown again.
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&value)).status, 200);
    let list = get(&app.url("/api/v1/tokens"), Some(&admin));
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&value));
    assert!(!list.body.contains("argon2"));
    let listed = list.json();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap();
    assert!(entry.get("token").is_none());
    assert!(
        entry["last_used_at"].is_string(),
        "use is recorded: {entry}"
    );
    let one = get(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin));
    assert_eq!(one.status, 200);
    assert!(!one.body.contains(&value));
    assert!(one.json()["created_by"]
        .as_str()
        .unwrap()
        .starts_with("token:"));

    // Revoke: the very next request with it is refused.
    assert_eq!(
        delete(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).status,
        204
    );
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&value)).status, 401);
    assert_eq!(
        delete(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).status,
        404
    );
    let after = get(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).json();
    assert!(after["revoked_at"].is_string());
    assert_eq!(
        get(&app.url("/api/v1/tokens/not-a-uuid"), Some(&admin)).status,
        404
    );
}

#[test]
fn validation_errors_name_the_field() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let cases = [
        (json!({"name": "", "scopes": ["all"]}), "name"),
        (json!({"name": "x".repeat(101), "scopes": ["all"]}), "name"),
        (json!({"name": "a", "scopes": ["root"]}), "scopes"),
        (json!({"name": "a", "scopes": []}), "scopes"),
        (
            json!({"name": "a", "scopes": ["all"], "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "a", "scopes": ["all"], "expires_at": "next week"}),
            "expires_at",
        ),
    ];
    for (body, field) in cases {
        let r = post(&app.url("/api/v1/tokens"), Some(&admin), &body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let j = r.json();
        assert_eq!(j["fields"][0]["field"], field, "{body}: {j}");
    }
    // Malformed JSON and wrong types are 400 with a JSON body too.
    let r = crate::harness::client::request(
        "POST",
        &app.url("/api/v1/tokens"),
        Some(&admin),
        Some(&json!({"name": 5, "scopes": ["all"]})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "bad_request");
}

#[test]
fn expired_tokens_are_refused() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let expires = (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    let r = post(
        &app.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "short", "scopes": ["admin:read"], "expires_at": expires}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let value = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(get(&app.url("/probe/scim-read"), Some(&value)).status, 200);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(get(&app.url("/probe/scim-read"), Some(&value)).status, 401);
}

#[test]
fn revocation_on_one_instance_is_seen_by_another_on_the_next_request() {
    let db = TestDb::new();
    let a = TestApp::new(&db);
    let b = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (id, value) = create_token(&a, &admin, &["admin:scim"]);
    // B verifies (and caches) the value.
    assert_eq!(get(&b.url("/probe/scim-write"), Some(&value)).status, 200);
    assert_eq!(get(&b.url("/probe/scim-write"), Some(&value)).status, 200);
    assert_eq!(
        delete(&a.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).status,
        204
    );
    assert_eq!(get(&b.url("/probe/scim-write"), Some(&value)).status, 401);
}

#[test]
fn cli_lifecycle() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let out = scimd(
        &db,
        &[
            "token",
            "create",
            "--name",
            "entra",
            "--scope",
            "admin:scim",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = stdout.lines().last().unwrap().trim().to_string();
    assert!(value.starts_with("scimd_"), "{stdout}");
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&value)).status, 200);
    assert_eq!(get(&app.url("/probe/admin"), Some(&value)).status, 403);

    let list = scimd(&db, &["token", "list"]);
    assert!(list.status.success());
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(listed.contains("entra"));
    assert!(!listed.contains(&value));
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Created token "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();

    let rev = scimd(&db, &["token", "revoke", &id]);
    assert!(
        rev.status.success(),
        "{}",
        String::from_utf8_lossy(&rev.stderr)
    );
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&value)).status, 401);
    let again = scimd(&db, &["token", "revoke", &id]);
    assert!(!again.status.success());

    let bad = scimd(&db, &["token", "create", "--name", "x", "--scope", "root"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("scope"));
}

#[test]
fn organizations_are_isolated() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let out = scimd(&db, &["org", "create", "acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = scimd(
        &db,
        &[
            "token",
            "create",
            "--name",
            "acme-admin",
            "--scope",
            "all",
            "--org",
            "acme",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acme = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let default_admin = seed_token(&db, &["all"]);

    let acme_list = get(&app.url("/api/v1/tokens"), Some(&acme)).json();
    let names: Vec<&str> = acme_list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme-admin"]);
    let default_list = get(&app.url("/api/v1/tokens"), Some(&default_admin)).json();
    let default_ids: Vec<String> = default_list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    // acme cannot see or revoke a default-org token.
    for id in default_ids {
        assert_eq!(
            get(&app.url(&format!("/api/v1/tokens/{id}")), Some(&acme)).status,
            404
        );
        assert_eq!(
            delete(&app.url(&format!("/api/v1/tokens/{id}")), Some(&acme)).status,
            404
        );
        assert_eq!(rotate(&app, &acme, &id, None).status, 404);
    }
    let dup = scimd(&db, &["org", "create", "ACME"]);
    assert!(!dup.status.success());
    let missing = scimd(&db, &["token", "list", "--org", "nope"]);
    assert!(!missing.status.success());
}

fn rotate(
    app: &TestApp,
    admin: &str,
    id: &str,
    grace: Option<i64>,
) -> crate::harness::client::Resp {
    let body = match grace {
        Some(g) => json!({"grace_seconds": g}),
        None => json!({}),
    };
    post(
        &app.url(&format!("/api/v1/tokens/{id}/rotate")),
        Some(admin),
        &body,
    )
}

#[test]
fn rotation_keeps_the_old_value_for_the_grace_period_only() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (id, old) = create_token(&app, &admin, &["admin:scim"]);
    // GET of one user carries the token check inside its own statement.
    let user = post(
        &app.url("/scim/v2/Users"),
        Some(&admin),
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "g"}),
    );
    assert_eq!(user.status, 201, "{}", user.body);
    let one = app.url(&format!(
        "/scim/v2/Users/{}",
        user.json()["id"].as_str().unwrap()
    ));
    assert_eq!(get(&one, Some(&old)).status, 200);
    let r = rotate(&app, &admin, &id, Some(600));
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["id"], id.as_str());
    assert_eq!(j["scopes"], json!(["admin:scim"]));
    let new = j["token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let audit = get(
        &app.url(&format!(
            "/api/v1/audit?resource_type=Token&resource_id={id}"
        )),
        Some(&admin),
    )
    .json();
    assert_eq!(
        audit["entries"][0]["action"], "token.rotate",
        "rotation is audited: {audit}"
    );
    // Both work during the grace period.
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&old)).status, 200);
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&new)).status, 200);
    assert_eq!(get(&one, Some(&old)).status, 200);
    assert_eq!(get(&one, Some(&new)).status, 200);
    app.clock.advance(chrono::Duration::seconds(601));
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&old)).status, 401);
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&new)).status, 200);
    assert_eq!(get(&one, Some(&old)).status, 401);
    assert_eq!(get(&one, Some(&new)).status, 200);
    // Bad grace values; a revoked token cannot rotate.
    assert_eq!(rotate(&app, &admin, &id, Some(-1)).status, 400);
    assert_eq!(rotate(&app, &admin, &id, Some(86_401)).status, 400);
    assert_eq!(
        delete(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).status,
        204
    );
    assert_eq!(rotate(&app, &admin, &id, None).status, 409);
    assert_eq!(get(&app.url("/probe/scim-write"), Some(&new)).status, 401);
}

#[test]
fn rotation_without_grace_fails_the_old_value_at_once_on_every_instance() {
    let db = TestDb::new();
    let a = TestApp::new(&db);
    let b = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (id, old) = create_token(&a, &admin, &["admin:read"]);
    assert_eq!(get(&b.url("/probe/scim-read"), Some(&old)).status, 200);
    let new = rotate(&a, &admin, &id, None).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&b.url("/probe/scim-read"), Some(&old)).status, 401);
    assert_eq!(get(&b.url("/probe/scim-read"), Some(&new)).status, 200);
    // The CLI rotates too.
    let out = scimd(&db, &["token", "rotate", &id, "--grace", "2m"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let newer = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&b.url("/probe/scim-read"), Some(&new)).status,
        200,
        "grace of 2m"
    );
    assert_eq!(get(&b.url("/probe/scim-read"), Some(&newer)).status, 200);
    assert!(!scimd(&db, &["token", "rotate", &id, "--grace", "25h"])
        .status
        .success());
}

#[test]
fn the_active_token_limit_is_enforced_with_a_helpful_message() {
    let db = TestDb::new();
    let mut config = crate::harness::test_config(&db.url);
    config.max_tokens_per_org = 3;
    let app = TestApp::with_config(config);
    let admin = seed_token(&db, &["all"]);
    let (first, _) = create_token(&app, &admin, &["admin:read"]);
    create_token(&app, &admin, &["admin:read"]);
    let r = post(
        &app.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "one too many", "scopes": ["all"]}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("3 active tokens") && msg.contains("revoke"),
        "{msg}"
    );
    // Revoking one makes room.
    assert_eq!(
        delete(&app.url(&format!("/api/v1/tokens/{first}")), Some(&admin)).status,
        204
    );
    create_token(&app, &admin, &["admin:read"]);
}

#[test]
fn list_flags_expired_and_soon_expiring_tokens_and_where_they_were_used() {
    let db = TestDb::new();
    let mut config = crate::harness::test_config(&db.url);
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let app = TestApp::with_config(config);
    let admin = seed_token(&db, &["all"]);
    let soon = (app.clock.now() + chrono::Duration::days(3)).to_rfc3339();
    let later = (app.clock.now() + chrono::Duration::days(30)).to_rfc3339();
    let s = post(
        &app.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "soon", "scopes": ["admin:read"], "expires_at": soon}),
    )
    .json();
    let l = post(
        &app.url("/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "later", "scopes": ["admin:read"], "expires_at": later}),
    )
    .json();
    let view = |id: &serde_json::Value| {
        get(
            &app.url(&format!("/api/v1/tokens/{}", id.as_str().unwrap())),
            Some(&admin),
        )
        .json()
    };
    assert_eq!(view(&s["id"])["expires_soon"], true);
    assert_eq!(view(&s["id"])["expired"], false);
    assert_eq!(view(&l["id"])["expires_soon"], false);
    // Used through a trusted proxy: the forwarded address is recorded.
    let used = ureq::get(&app.url("/probe/scim-read"))
        .set(
            "Authorization",
            &format!("Bearer {}", l["token"].as_str().unwrap()),
        )
        .set("X-Forwarded-For", "203.0.113.7")
        .call()
        .unwrap();
    assert_eq!(used.status(), 200);
    assert_eq!(view(&l["id"])["last_used_from"], "203.0.113.7");
    app.clock.advance(chrono::Duration::days(4));
    assert_eq!(view(&s["id"])["expired"], true);
    assert_eq!(view(&s["id"])["expires_soon"], false);
}

#[test]
fn forwarded_for_is_ignored_without_a_trusted_proxy() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (id, t) = create_token(&app, &admin, &["admin:read"]);
    ureq::get(&app.url("/probe/scim-read"))
        .set("Authorization", &format!("Bearer {t}"))
        .set("X-Forwarded-For", "203.0.113.7")
        .call()
        .unwrap();
    let v = get(&app.url(&format!("/api/v1/tokens/{id}")), Some(&admin)).json();
    assert_eq!(v["last_used_from"], "127.0.0.1");
}
