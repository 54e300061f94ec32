//! `totalResults` without a filter comes from the counts the triggers of
//! migration 6 keep; these tests hold those counts to `count(*)` through
//! every way resources are written and removed.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::client::request;
use crate::harness::{org_with_token, seed_token, TestApp, TestDb};
use scimd::store::orgs::DEFAULT_ORG_ID;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The rows really stored, counted the slow way.
fn counted(conn: &mut PgConnection, table: &str, org: Uuid) -> i64 {
    let sql = match table {
        "scim_users" => "SELECT count(*) AS n FROM scim_users WHERE org_id = $1",
        _ => "SELECT count(*) AS n FROM scim_groups WHERE org_id = $1",
    };
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(org)
        .get_result::<N>(conn)
        .unwrap()
        .n
}

fn kept(conn: &mut PgConnection, rt: &str, org: Uuid) -> i64 {
    diesel::sql_query(
        "SELECT coalesce(sum(n), 0)::bigint AS n FROM resource_counts \
         WHERE org_id = $1 AND resource_type = $2",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(rt)
    .get_result::<N>(conn)
    .unwrap()
    .n
}

fn total(app: &TestApp, token: &str, path: &str) -> i64 {
    let r = request("GET", &app.url(path), Some(token), None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["totalResults"].as_i64().unwrap()
}

fn create(app: &TestApp, token: &str, path: &str, body: &Value) -> String {
    let r = request("POST", &app.url(path), Some(token), Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

fn remove(app: &TestApp, token: &str, path: &str) {
    let r = request("DELETE", &app.url(path), Some(token), None);
    assert_eq!(r.status, 204, "{path}: {}", r.body);
}

fn assert_exact(app: &TestApp, token: &str, conn: &mut PgConnection, org: Uuid) {
    let users = counted(conn, "scim_users", org);
    let groups = counted(conn, "scim_groups", org);
    assert_eq!(kept(conn, "User", org), users, "kept user count");
    assert_eq!(kept(conn, "Group", org), groups, "kept group count");
    assert_eq!(total(app, token, "/scim/v2/Users?count=0"), users);
    assert_eq!(total(app, token, "/scim/v2/Groups?count=0"), groups);
}

#[test]
fn totals_follow_creates_deletes_bulk_and_failed_writes_per_organization() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["all"]);
    let mut conn = db.conn();
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);
    assert_eq!(total(&app, &token, "/scim/v2/Users"), 0);

    let ids: Vec<String> = (0..7)
        .map(|i| {
            create(
                &app,
                &token,
                "/scim/v2/Users",
                &json!({"schemas": [USER], "userName": format!("u{i}")}),
            )
        })
        .collect();
    let g = create(
        &app,
        &token,
        "/scim/v2/Groups",
        &json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": ids[0]}]}),
    );
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);
    assert_eq!(total(&app, &token, "/scim/v2/Users"), 7);

    // A refused write (duplicate userName) rolls its count back with it.
    let dup = request(
        "POST",
        &app.url("/scim/v2/Users"),
        Some(&token),
        Some(&json!({"schemas": [USER], "userName": "U0"})),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);

    for id in &ids[..3] {
        remove(&app, &token, &format!("/scim/v2/Users/{id}"));
    }
    remove(&app, &token, &format!("/scim/v2/Groups/{g}"));
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);
    assert_eq!(total(&app, &token, "/scim/v2/Users"), 4);

    // Bulk: each operation its own transaction, one of them failing.
    let bulk = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "b1"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "u5"}},
        {"method": "POST", "path": "/Groups", "bulkId": "c", "data": {"schemas": [GROUP], "displayName": "bg", "members": [{"value": "bulkId:a"}]}},
        {"method": "DELETE", "path": format!("/Users/{}", ids[6])}
    ]});
    let r = request("POST", &app.url("/scim/v2/Bulk"), Some(&token), Some(&bulk));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);
    assert_eq!(total(&app, &token, "/scim/v2/Users"), 4);
    assert_eq!(total(&app, &token, "/scim/v2/Groups"), 1);

    // Another organization's resources are counted apart.
    let (other, theirs) = org_with_token(&db, "other", &["admin:scim"]);
    create(
        &app,
        &theirs,
        "/scim/v2/Users",
        &json!({"schemas": [USER], "userName": "u0"}),
    );
    assert_exact(&app, &theirs, &mut conn, other);
    assert_eq!(total(&app, &theirs, "/scim/v2/Users"), 1);
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);

    // With a filter the total is still an exact count of the matches.
    assert_eq!(
        total(
            &app,
            &token,
            "/scim/v2/Users?filter=userName%20sw%20%22u%22"
        ),
        3
    );
}

#[test]
fn concurrent_creates_and_deletes_keep_the_count_exact() {
    let db = TestDb::new();
    let app = Arc::new(TestApp::new(&db));
    let token = seed_token(&db, &["all"]);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (app, token) = (app.clone(), token.clone());
            std::thread::spawn(move || {
                for i in 0..15 {
                    let id = create(
                        &app,
                        &token,
                        "/scim/v2/Users",
                        &json!({"schemas": [USER], "userName": format!("t{t}-{i}")}),
                    );
                    if i % 3 == 0 {
                        remove(&app, &token, &format!("/scim/v2/Users/{id}"));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut conn = db.conn();
    assert_exact(&app, &token, &mut conn, DEFAULT_ORG_ID);
    assert_eq!(total(&app, &token, "/scim/v2/Users"), 8 * 10);
}

#[test]
fn the_migration_counts_resources_that_already_exist() {
    use diesel_migrations::MigrationHarness;
    let db = TestDb::empty();
    let mut conn = db.conn();
    for _ in 0..5 {
        conn.run_next_migration(scimd::store::migrate::MIGRATIONS)
            .unwrap();
    }
    conn.batch_execute(
        "INSERT INTO scim_users (id, org_id, user_name, user_name_ci, doc, created_at, last_modified)
         SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'u' || i, 'u' || i,
                '{}', now(), now()
           FROM generate_series(1, 25) i;
         INSERT INTO scim_groups (id, org_id, display_name, display_name_ci, doc, created_at, last_modified)
         VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'g', 'g', '{}', now(), now());",
    )
    .unwrap();
    scimd::store::migrate::run_pending(&db.url).unwrap();
    assert_eq!(kept(&mut conn, "User", DEFAULT_ORG_ID), 25);
    assert_eq!(kept(&mut conn, "Group", DEFAULT_ORG_ID), 1);
    // And the triggers count from there, in multi-row statements too.
    conn.batch_execute("DELETE FROM scim_users WHERE user_name IN ('u1', 'u2', 'u3');")
        .unwrap();
    assert_eq!(kept(&mut conn, "User", DEFAULT_ORG_ID), 22);
    assert_eq!(counted(&mut conn, "scim_users", DEFAULT_ORG_ID), 22);
}
