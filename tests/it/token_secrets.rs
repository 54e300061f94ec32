//! Token secrets are stored as SHA-256 digests: a forged value that names a
//! real token id costs a fast hash and a primary-key read, never argon2;
//! tokens stored with argon2 before that change keep working and are
//! upgraded on first use (docs/design/token-secrets.md).

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use serde_json::json;
use uuid::Uuid;

use crate::harness::{create_token, get, post, seed_token, TestApp, TestDb};

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    secret_hash: String,
}

fn stored_secret(db: &TestDb, id: Uuid) -> String {
    diesel::sql_query("SELECT secret_hash FROM api_tokens WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .get_result::<Stored>(&mut db.conn())
        .unwrap()
        .secret_hash
}

fn set_stored_secret(db: &TestDb, id: Uuid, secret: &str) {
    diesel::sql_query("UPDATE api_tokens SET secret_hash = $2 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(secret)
        .execute(&mut db.conn())
        .unwrap();
}

/// A value with the right prefix, length and checksum around a real id:
/// anyone who has read an access log can build one.
fn forge(id: Uuid) -> String {
    scimd::auth::token::generate(id)
        .unwrap()
        .expose()
        .to_string()
}

fn id_of(token: &str) -> Uuid {
    scimd::auth::token::parse(token).unwrap().0
}

#[test]
fn new_tokens_are_stored_as_sha256_digests_and_forgeries_never_run_argon2() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let (id, value) = create_token(&app, &admin, &["admin:scim"]);
    let id: Uuid = id.parse().unwrap();
    let stored = stored_secret(&db, id);
    assert_eq!(stored, scimd::auth::secret::stored_form(&value));
    assert!(
        !stored.contains(&value[6..]),
        "the value itself is not stored"
    );

    let forged = forge(id);
    for _ in 0..50 {
        assert_eq!(get(&app.url("/scim/v2/Users"), Some(&forged)).status, 401);
    }
    // Each forged value is new, too.
    for _ in 0..20 {
        assert_eq!(
            get(&app.url("/scim/v2/Users"), Some(&forge(id))).status,
            401
        );
    }
    assert_eq!(
        app.metric("scimd_authentication_failures_total{reason=\"bad_secret\"}"),
        70.0
    );
    assert_eq!(app.metric("scimd_token_argon2_verifications_total"), 0.0);
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&value)).status, 200);

    // Rotation stores the new value's digest too, and both work in grace.
    let r = post(
        &app.url(&format!("/api/v1/tokens/{id}/rotate")),
        Some(&admin),
        &json!({"grace_seconds": 60}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rotated = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        stored_secret(&db, id),
        scimd::auth::secret::stored_form(&rotated)
    );
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&value)).status, 200);
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&rotated)).status, 200);
    assert_eq!(app.metric("scimd_token_argon2_verifications_total"), 0.0);
}

#[test]
fn legacy_argon2_tokens_work_and_are_upgraded_on_first_use() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let value = seed_token(&db, &["admin:scim"]);
    let id = id_of(&value);
    // As a release before the change stored it.
    set_stored_secret(&db, id, &scimd::auth::hash::hash(&value).unwrap());

    // A forged value is refused, and the same forgery again runs no argon2.
    let forged = forge(id);
    for _ in 0..10 {
        assert_eq!(get(&app.url("/scim/v2/Users"), Some(&forged)).status, 401);
    }
    assert_eq!(app.metric("scimd_token_argon2_verifications_total"), 1.0);
    assert!(stored_secret(&db, id).starts_with("$argon2id$"));

    // The real value works, and the row then holds its digest.
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&value)).status, 200);
    assert_eq!(app.metric("scimd_token_argon2_verifications_total"), 2.0);
    assert_eq!(
        stored_secret(&db, id),
        scimd::auth::secret::stored_form(&value)
    );
    // A second server (a fresh process's cache) needs no argon2 for it.
    let other = TestApp::new(&db);
    assert_eq!(get(&other.url("/scim/v2/Users"), Some(&value)).status, 200);
    assert_eq!(get(&other.url("/scim/v2/Users"), Some(&forged)).status, 401);
    assert_eq!(other.metric("scimd_token_argon2_verifications_total"), 0.0);
}

#[test]
fn concurrent_first_uses_of_a_legacy_token_run_argon2_once() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let value = seed_token(&db, &["admin:scim"]);
    let id = id_of(&value);
    set_stored_secret(&db, id, &scimd::auth::hash::hash(&value).unwrap());
    let url = app.url("/scim/v2/Users");
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (url, value) = (url.clone(), value.clone());
            std::thread::spawn(move || get(&url, Some(&value)).status)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    assert_eq!(app.metric("scimd_token_argon2_verifications_total"), 1.0);
}

#[test]
fn a_legacy_previous_value_stays_valid_through_its_grace_and_is_upgraded() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let old = seed_token(&db, &["admin:scim"]);
    let id = id_of(&old);
    set_stored_secret(&db, id, &scimd::auth::hash::hash(&old).unwrap());
    // Rotating keeps the old (legacy) hash as the previous secret.
    let r = post(
        &app.url(&format!("/api/v1/tokens/{id}/rotate")),
        Some(&admin),
        &json!({"grace_seconds": 3600}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&old)).status, 200);
    #[derive(QueryableByName)]
    struct Prev {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        previous_secret_hash: Option<String>,
    }
    let prev = diesel::sql_query("SELECT previous_secret_hash FROM api_tokens WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .get_result::<Prev>(&mut db.conn())
        .unwrap();
    assert_eq!(
        prev.previous_secret_hash,
        Some(scimd::auth::secret::stored_form(&old))
    );
    // Past the grace period the old value fails, digest or not.
    app.clock.advance(chrono::Duration::seconds(3601));
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&old)).status, 401);
}
