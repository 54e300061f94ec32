//! Database outages: while the link to PostgreSQL is cut, requests that need
//! it answer 503 promptly; after it is restored, the very next requests
//! succeed without a restart; and no acknowledged write is ever missing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;

use crate::harness::chaos::ChaosProxy;
use crate::harness::pg::socket_path;
use crate::harness::{get, post, seed_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn app_through(proxy: &ChaosProxy, db: &TestDb) -> TestApp {
    let mut config = test_config(&proxy.url(&db.name));
    config.db_acquire_timeout = Duration::from_millis(1500);
    TestApp::with_config(config)
}

#[test]
fn while_cut_requests_get_503_fast_and_after_restore_they_succeed() {
    let db = TestDb::new();
    let proxy = ChaosProxy::start(socket_path());
    let app = app_through(&proxy, &db);
    let token = seed_token(&db, &["admin:scim"]);
    let users = app.url("/scim/v2/Users");
    assert_eq!(get(&users, Some(&token)).status, 200);

    proxy.cut();
    for _ in 0..3 {
        let started = Instant::now();
        let r = get(&users, Some(&token));
        let took = started.elapsed();
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(took < Duration::from_secs(2), "503 took {took:?}");
        assert!(r.header("retry-after").is_some());
        assert_eq!(r.json()["status"], "503");
        let w = post(
            &users,
            Some(&token),
            &json!({"schemas": [USER], "userName": "during"}),
        );
        assert_eq!(w.status, 503, "{}", w.body);
    }
    assert_eq!(get(&app.url("/ready"), None).status, 503);
    assert_eq!(get(&app.url("/health"), None).status, 200);

    proxy.restore();
    // The very next requests succeed: dead pooled connections are replaced.
    assert_eq!(get(&app.url("/ready"), None).status, 200);
    let r = post(
        &users,
        Some(&token),
        &json!({"schemas": [USER], "userName": "after"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(get(&users, Some(&token)).json()["totalResults"], 1);
}

#[test]
fn writes_through_a_cut_are_either_stored_and_acknowledged_or_not_acknowledged() {
    use scimd::store::schema::scim_users;
    let db = TestDb::new();
    let proxy = Arc::new(ChaosProxy::start(socket_path()));
    let app = Arc::new(app_through(&proxy, &db));
    let token = seed_token(&db, &["admin:scim"]);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, token, ack, stop) = (
                app.clone(),
                token.clone(),
                acknowledged.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("w{w}-{i}");
                    let r = post(
                        &app.url("/scim/v2/Users"),
                        Some(&token),
                        &json!({"schemas": [USER], "userName": name}),
                    );
                    match r.status {
                        201 => ack.lock().unwrap().push(name),
                        503 => {}
                        other => panic!("unexpected {other}: {}", r.body),
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        proxy.cut();
        std::thread::sleep(Duration::from_millis(600));
        proxy.restore();
    }
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let stored: Vec<String> = scim_users::table
        .select(scim_users::user_name)
        .load(&mut db.conn())
        .unwrap();
    let acked = acknowledged.lock().unwrap();
    assert!(
        acked.len() > 10,
        "the test wrote too little to mean anything: {}",
        acked.len()
    );
    for name in acked.iter() {
        assert!(stored.contains(name), "acknowledged {name} is missing");
    }
    // Every stored row is whole: its typed columns agree with its document.
    let rows: Vec<(String, serde_json::Value)> = scim_users::table
        .select((scim_users::user_name, scim_users::doc))
        .load(&mut db.conn())
        .unwrap();
    for (name, doc) in rows {
        assert_eq!(doc["userName"], name);
    }
}

/// A query the schema refuses is refused before any connection is taken:
/// with the link cut it is still a precise 400 (not a 503), answered as
/// fast as any. AUTH_SECRET authenticates without the database.
#[test]
fn a_bad_filter_is_a_400_even_while_the_database_is_unreachable() {
    use scimd::config::Secret;
    let db = TestDb::new();
    let proxy = ChaosProxy::start(socket_path());
    let secret = "z".repeat(40);
    let mut config = test_config(&proxy.url(&db.name));
    config.db_acquire_timeout = Duration::from_millis(1500);
    config.auth_secret = Some(Secret::new(secret.clone()));
    let app = TestApp::with_config(config);
    proxy.cut();
    for (path, scim_type) in [
        (
            "/scim/v2/Users?filter=bogus%20eq%20%22x%22",
            "invalidFilter",
        ),
        (
            "/scim/v2/Groups?filter=userName%20eq%20%22x%22",
            "invalidFilter",
        ),
        ("/scim/v2/Users?sortBy=nothing", "invalidValue"),
        (
            "/scim/v2/Users?filter=userName%20gt%20true",
            "invalidFilter",
        ),
    ] {
        let started = Instant::now();
        let r = get(&app.url(path), Some(&secret));
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.json()["scimType"], scim_type, "{path}: {}", r.body);
        assert!(started.elapsed() < Duration::from_millis(500), "{path}");
    }
    // The same list with a good filter does need the database.
    let r = get(
        &app.url("/scim/v2/Users?filter=userName%20eq%20%22x%22"),
        Some(&secret),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    proxy.restore();
}

/// Every pooled connection killed by the server at once (as a database
/// restart does): connections are not tested at check-out any more, so each
/// dead one is found on use, dropped, and the request runs on a new one.
/// No request fails.
#[test]
fn requests_right_after_every_pooled_connection_died_succeed() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let users = app.url("/scim/v2/Users");
    // Fill the pool: concurrent requests each hold a connection.
    let warm: Vec<_> = (0..8)
        .map(|i| {
            let (users, token) = (users.clone(), token.clone());
            std::thread::spawn(move || {
                post(
                    &users,
                    Some(&token),
                    &json!({"schemas": [USER], "userName": format!("warm{i}")}),
                )
                .status
            })
        })
        .collect();
    for w in warm {
        assert_eq!(w.join().unwrap(), 201);
    }
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    ))
    .execute(&mut db.conn())
    .unwrap();
    for i in 0..6 {
        let r = get(&users, Some(&token));
        assert_eq!(r.status, 200, "read {i}: {}", r.body);
        let w = post(
            &users,
            Some(&token),
            &json!({"schemas": [USER], "userName": format!("after{i}")}),
        );
        assert_eq!(w.status, 201, "write {i}: {}", w.body);
    }
    assert_eq!(get(&app.url("/ready"), None).status, 200);
}

/// A user create is one statement outside a transaction, repeated when its
/// connection is lost, because whether the lost attempt was applied cannot
/// be known. The repeat writes the same id, so it finds its own row: the
/// user and its audit entry exist once, and the repeat reports success.
#[test]
fn a_user_create_repeated_after_a_lost_connection_is_stored_once() {
    use scimd::store::audit::{Actor, Entry};
    use scimd::store::schema::{audit_log, scim_users};
    use scimd::store::users::{create_audited, UserWrite};
    let db = TestDb::new();
    let mut conn = db.conn();
    let org = scimd::store::orgs::DEFAULT_ORG_ID;
    let actor = Actor {
        org_id: org,
        token_id: None,
        name: "test".into(),
        connector: None,
        request_id: None,
    };
    let id = uuid::Uuid::now_v7();
    let write = UserWrite {
        doc: json!({"schemas": [USER], "userName": "once"}),
        password_hash: None,
        origin: Default::default(),
    };
    let now = scimd::clock::Clock::default().now();
    let entry = Entry::new(&actor, "user.create", "User", &id.to_string(), 201, now);
    create_audited(&mut conn, org, id, &write, &entry, false).unwrap();
    // The first attempt was applied, but its caller never heard back.
    let repeat = create_audited(&mut conn, org, id, &write, &entry, true).unwrap();
    assert_eq!(repeat.id, id);
    let users: i64 = scim_users::table.count().get_result(&mut conn).unwrap();
    let entries: i64 = audit_log::table.count().get_result(&mut conn).unwrap();
    assert_eq!((users, entries), (1, 1));
    // Not a repeat: the same userName under a new id is a uniqueness error.
    let other = Entry::new(&actor, "user.create", "User", "x", 201, now);
    match create_audited(&mut conn, org, uuid::Uuid::now_v7(), &write, &other, false) {
        Err(scimd::store::StoreError::Rejected(e)) => assert_eq!(e.status, 409),
        r => panic!("expected a 409, got {r:?}"),
    }
}
