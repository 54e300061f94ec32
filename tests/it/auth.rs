//! Authentication and the scope hierarchy, through the real extractor.

use serde_json::json;

use crate::harness::client::get_with_raw_auth;
use crate::harness::{get, seed_token, test_config, TestApp, TestDb};
use scimd::config::Secret;

const ROUTES: [&str; 4] = [
    "/probe/scim-read",
    "/probe/scim-write",
    "/probe/admin",
    "/probe/admin-read",
];

#[test]
fn scope_matrix() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    // Expected status per ROUTES entry.
    let matrix: &[(&[&str], [u16; 4])] = &[
        (&["all"], [200, 200, 200, 200]),
        (&["admin:read"], [200, 403, 403, 200]),
        (&["admin:write"], [200, 200, 403, 200]),
        (&["admin:scim"], [200, 200, 403, 403]),
        (&["connect:read"], [403, 403, 403, 403]),
        (&["connect:write"], [403, 403, 403, 403]),
        (&["admin:read", "admin:scim"], [200, 200, 403, 200]),
        // A legacy token stored without scopes acts as `all`.
        (&[], [200, 200, 200, 200]),
    ];
    for (scopes, expected) in matrix {
        let token = seed_token(&db, scopes);
        for (route, want) in ROUTES.iter().zip(expected) {
            let r = get(&app.url(route), Some(&token));
            assert_eq!(r.status, *want, "{scopes:?} on {route}: {}", r.body);
            if r.status == 403 {
                assert_eq!(r.json()["error"], "forbidden");
            }
        }
        // The admin API itself follows the same rule as its probe.
        let admin = get(&app.url("/api/v1/tokens"), Some(&token)).status;
        assert_eq!(admin, expected[2], "{scopes:?} on the admin API");
    }
}

#[test]
fn auth_secret_is_an_all_credential_only_when_set() {
    let db = TestDb::new();
    let secret = "s".repeat(20) + "ecret-of-at-least-32-chars";
    let mut config = test_config(&db.url);
    config.auth_secret = Some(Secret::new(secret.clone()));
    let with = TestApp::with_config(config);
    let without = TestApp::new(&db);
    for route in ROUTES {
        assert_eq!(get(&with.url(route), Some(&secret)).status, 200, "{route}");
        assert_eq!(
            get(&without.url(route), Some(&secret)).status,
            401,
            "{route}"
        );
    }
    let almost = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(get(&with.url("/probe/admin"), Some(&almost)).status, 401);
    // Tokens made with AUTH_SECRET belong to `default` and say who made them.
    let r = crate::harness::post(
        &with.url("/api/v1/tokens"),
        Some(&secret),
        &json!({"name": "n", "scopes": ["admin:read"]}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["created_by"], "AUTH_SECRET");
}

#[test]
fn short_auth_secret_refuses_to_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["serve"])
        .env("AUTH_SECRET", "too-short")
        .env("DATABASE_URL", "host=/nonexistent dbname=x")
        .output()
        .expect("run scimd");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AUTH_SECRET") && err.contains("32"), "{err}");
    assert!(
        !err.contains("too-short"),
        "the secret must not be echoed: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn hostile_authorization_headers_are_401_never_500() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let good = seed_token(&db, &["all"]);
    let mut wrong_checksum = good.clone().into_bytes();
    let last = wrong_checksum.len() - 1;
    wrong_checksum[last] = if wrong_checksum[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let long = format!("Bearer scimd_{}", "a".repeat(10 * 1024));
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"bearer not-a-token".to_vec(),
        b"Basic dXNlcjpwYXNz".to_vec(),
        long.into_bytes(),
        b"Bearer \xff\xfe\xfd".to_vec(),
        b"Bearer scimd_\xc3\x28".to_vec(),
        [b"Bearer ".to_vec(), wrong_checksum].concat(),
        format!("Bearer {}", &good[..good.len() - 3]).into_bytes(),
        format!("Bearer {good} extra").into_bytes(),
        b"Bearer scimd_00000000000000000000000000000000000000000000000000000000000000".to_vec(),
    ];
    for h in cases {
        let status = get_with_raw_auth(&app.base, "/probe/scim-read", &h);
        assert_eq!(status, 401, "header {:?}", String::from_utf8_lossy(&h));
    }
    let none = get(&app.url("/probe/scim-read"), None);
    assert_eq!(none.status, 401);
    assert!(none
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    assert_eq!(none.json()["error"], "unauthorized");
    // The server is still fine afterwards.
    assert_eq!(get(&app.url("/probe/scim-read"), Some(&good)).status, 200);
}

#[test]
fn a_valid_token_for_an_unknown_id_is_401() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let orphan = scimd::auth::token::generate(uuid::Uuid::new_v4()).unwrap();
    assert_eq!(
        get(&app.url("/probe/scim-read"), Some(orphan.expose())).status,
        401
    );
}

#[test]
fn health_needs_no_credential_and_ready_checks_the_database() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    assert_eq!(get(&app.url("/health"), None).status, 200);
    assert_eq!(get(&app.url("/ready"), None).status, 200);
    let mut broken = test_config("host=/nonexistent-socket-dir dbname=none");
    broken.db_acquire_timeout = std::time::Duration::from_millis(300);
    let down = TestApp::with_config(broken);
    assert_eq!(get(&down.url("/health"), None).status, 200);
    let r = get(&down.url("/ready"), None);
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
}
