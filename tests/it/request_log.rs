//! The request log (issue 17): every SCIM request made with a connector's
//! token, with both bodies, personal data masked by a stable keyed hash
//! (or kept when asked), passwords never; truncation, paging and filters,
//! the drop counter of the bounded queue, trimming by age and count.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::client::{request, Resp};
use crate::harness::{org_with_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn api(app: &TestApp, path: &str, token: &str) -> Resp {
    request(
        "GET",
        &app.url(&format!("/api/v1{path}")),
        Some(token),
        None,
    )
}

fn scim(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    request(
        method,
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        body,
    )
}

fn connector(app: &TestApp, admin: &str) -> (String, String) {
    let r = request(
        "POST",
        &app.url("/api/v1/connectors"),
        Some(admin),
        Some(&json!({"name": "entra", "kind": "entra"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    (
        j["id"].as_str().unwrap().to_string(),
        j["token"].as_str().unwrap().to_string(),
    )
}

/// The connector's logged requests once there are `n` (they are written
/// in batches, a moment after the answer).
fn logged(app: &TestApp, admin: &str, id: &str, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = api(
            app,
            &format!("/connectors/{id}/requests?limit=500{query}"),
            admin,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let rows = r.json()["requests"].as_array().unwrap().clone();
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_connectors_requests_are_logged_with_personal_data_masked() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (id, token) = connector(&app, &admin);

    let created = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(
            &json!({"schemas": [USER], "userName": "ann@example.com", "password": "Hunter2-secret!", "title": "Engineer", "emails": [{"value": "ann@example.com", "type": "work"}]}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let uid = created.json()["id"].as_str().unwrap().to_string();
    let rid = created.header("x-request-id").unwrap().to_string();
    assert_eq!(
        scim(
            &app,
            "GET",
            "/Users?filter=userName%20eq%20%22ann@example.com%22",
            &token,
            None
        )
        .status,
        200
    );
    let bad = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(&json!({"schemas": [USER], "userName": "ann@example.com"})),
    );
    assert_eq!(bad.status, 409, "{}", bad.body);
    assert_eq!(
        scim(&app, "GET", &format!("/Users/{uid}"), &token, None).status,
        200
    );
    // Requests of a token without a connector are not logged.
    assert_eq!(scim(&app, "GET", "/Users", &admin, None).status, 200);

    let rows = logged(&app, &admin, &id, "", 4);
    assert_eq!(rows.len(), 4, "{rows:?}");
    // Newest first.
    assert_eq!(rows[0]["method"], "GET");
    assert_eq!(rows[0]["route"], "/scim/v2/Users/{id}");
    assert_eq!(rows[0]["resource_id"], uid.as_str());
    let create = &rows[3];
    assert_eq!(
        (create["method"].as_str(), create["status"].as_i64()),
        (Some("POST"), Some(201))
    );
    assert_eq!(create["request_id"], rid.as_str());
    assert_eq!(
        create["resource_id"],
        uid.as_str(),
        "a create names its resource by its answer"
    );
    assert!(create["duration_ms"].as_f64().unwrap() > 0.0);
    let all = serde_json::to_string(&rows).unwrap();
    assert!(
        !all.contains("ann@example.com"),
        "personal data kept: {all}"
    );
    assert!(!all.contains("Hunter2-secret!"), "a password was kept");
    let sent: Value = serde_json::from_str(create["request_body"].as_str().unwrap()).unwrap();
    let answered: Value = serde_json::from_str(create["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["password"], "[redacted]");
    assert_eq!(sent["title"], "Engineer");
    let h = sent["userName"].as_str().unwrap();
    assert!(h.starts_with("h:"), "{h}");
    // Stable: the same person hashes the same in the answer, in the filter
    // of another request, and in another attribute.
    assert_eq!(answered["userName"], h);
    assert_eq!(sent["emails"][0]["value"], h);
    assert_eq!(sent["emails"][0]["type"], "work");
    assert!(
        rows[2]["query"].as_str().unwrap().contains(h),
        "{}",
        rows[2]["query"]
    );
    assert!(
        !rows[1]["response_body"].as_str().unwrap().contains("ann@"),
        "{}",
        rows[1]["response_body"]
    );

    // Filters.
    let errors = logged(&app, &admin, &id, "&status=4xx", 1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["status"], 409);
    assert_eq!(logged(&app, &admin, &id, "&method=POST", 2).len(), 2);
    assert_eq!(
        logged(&app, &admin, &id, &format!("&resource_id={uid}"), 2).len(),
        2
    );
    let later = (scimd::clock::Clock::default().now() + chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(
        logged(
            &app,
            &admin,
            &id,
            &format!("&since={}", later.replace('+', "%2B")),
            0
        )
        .len(),
        0
    );
    // Keyset paging.
    let page = api(&app, &format!("/connectors/{id}/requests?limit=3"), &admin).json();
    assert_eq!(page["requests"].as_array().unwrap().len(), 3);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = api(
        &app,
        &format!("/connectors/{id}/requests?limit=3&cursor={next}"),
        &admin,
    )
    .json();
    assert_eq!(rest["requests"].as_array().unwrap().len(), 1);
    assert_eq!(rest["requests"][0]["status"], 201);
    assert!(rest.get("next_cursor").is_none());
    for bad in [
        "status=6xx",
        "method=TRACE",
        "limit=0",
        "since=yesterday",
        "colour=red",
        "cursor=x",
    ] {
        assert_eq!(
            api(&app, &format!("/connectors/{id}/requests?{bad}"), &admin).status,
            400,
            "{bad}"
        );
    }
    // The connector list shows the traffic.
    let list = api(&app, "/connectors", &admin).json();
    let a = &list[0]["activity"];
    assert!(a["requests_last_hour"].as_i64().unwrap() >= 4, "{a}");
    assert_eq!(a["errors_last_hour"], 1);
    assert_eq!(a["last_error"]["status"], 409);
    assert!(a["last_request_at"].is_string());
    // Another organization sees nothing of it.
    let (_, other) = org_with_token(&db, "fabrikam", &["all"]);
    assert_eq!(
        api(&app, &format!("/connectors/{id}/requests"), &other).status,
        404
    );
}

#[test]
fn large_bodies_are_cut_and_keep_mode_keeps_all_but_passwords() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.request_log.keep_pii = true;
    let app = TestApp::with_config(config);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (id, token) = connector(&app, &admin);
    // Refused (a title over 16 KiB), and logged like any answer.
    let r = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(
            &json!({"schemas": [USER], "userName": "bo@example.com", "name": {"givenName": "Bo"}, "password": "Another-secret-9", "title": "t".repeat(70_000)}),
        ),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let rows = logged(&app, &admin, &id, "", 1);
    assert_eq!(rows[0]["truncated"], true);
    let body = rows[0]["request_body"].as_str().unwrap();
    assert_eq!(body.len(), 64 * 1024);
    // Kept as sent (keys in order: `name` comes before the long title).
    assert!(body.contains(r#""givenName":"Bo""#), "{}", &body[..200]);
    assert!(body.contains("[redacted]"));
    assert!(!serde_json::to_string(&rows)
        .unwrap()
        .contains("Another-secret-9"));
}

#[test]
fn a_full_queue_drops_and_counts_and_never_slows_the_request() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.request_log.queue = 1;
    let app = TestApp::with_config(config);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (id, token) = connector(&app, &admin);
    let sent: usize = std::thread::scope(|s| {
        (0..8)
            .map(|_| {
                s.spawn(|| {
                    (0..50)
                        .map(|_| {
                            assert_eq!(
                                scim(&app, "GET", "/Users?count=1", &token, None).status,
                                200
                            )
                        })
                        .count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    // Every request is either written or counted as dropped.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (written, dropped) = loop {
        let written = logged(&app, &admin, &id, "", 0).len();
        let dropped = app.metric("scimd_request_log_dropped_total") as usize;
        if written + dropped >= sent || Instant::now() > deadline {
            break (written, dropped);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        written + dropped,
        sent,
        "{written} written, {dropped} dropped"
    );
    assert!(dropped > 0, "a queue of one held all {sent}");
}

#[test]
fn the_log_is_trimmed_by_age_and_by_count() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (id, token) = connector(&app, &admin);
    for _ in 0..6 {
        assert_eq!(scim(&app, "GET", "/Users", &token, None).status, 200);
    }
    assert_eq!(logged(&app, &admin, &id, "", 6).len(), 6);
    let mut conn = db.conn();
    let now = scimd::clock::Clock::default().now();
    // At most 4 rows per organization: the 2 oldest go.
    let n =
        scimd::store::request_log::trim(&mut conn, now - chrono::Duration::days(14), 4).unwrap();
    assert_eq!(n, 2);
    assert_eq!(logged(&app, &admin, &id, "", 4).len(), 4);
    // Past retention: all of them.
    let n = scimd::store::request_log::trim(&mut conn, now + chrono::Duration::seconds(1), 1000)
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn declared_attributes_marked_sensitive_are_masked_too() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    const EXT: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User";
    let r = request(
        "POST",
        &app.url("/api/v1/schemas"),
        Some(&admin),
        Some(
            &json!({"extends": "User", "schema": {"id": EXT, "attributes": [
                {"name": "nationalId", "type": "string", "sensitive": true},
                {"name": "floor", "type": "string"},
            ]}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, token) = connector(&app, &admin);
    let created = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(
            &json!({"schemas": [USER, EXT], "userName": "di", EXT: {"nationalId": "NAT-123456", "floor": "7th"}}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    // Served in full to SCIM clients; `sensitive` is not advertised.
    assert_eq!(created.json()[EXT]["nationalId"], "NAT-123456");
    let schema = scim(&app, "GET", &format!("/Schemas/{EXT}"), &token, None);
    assert!(!schema.body.contains("sensitive"), "{}", schema.body);
    let rows = logged(&app, &admin, &id, "", 1);
    let all = serde_json::to_string(&rows).unwrap();
    assert!(!all.contains("NAT-123456"), "{all}");
    assert!(all.contains("7th"), "{all}");
}
