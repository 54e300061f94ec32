//! Rate limits (issue 17): per connector and per token, answered with 429,
//! `Retry-After` and a SCIM error, counted in `scimd_rate_limited_total`,
//! and held across two instances sharing the database.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::client::{request, Resp};
use crate::harness::{api, org_with_token, TestApp, TestDb};

fn users(app: &TestApp, token: &str) -> Resp {
    request("GET", &app.url("/scim/v2/Users?count=1"), Some(token), None)
}

#[test]
fn a_connector_over_its_limit_gets_429_with_retry_after() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let r = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(
            &json!({"name": "okta", "kind": "okta", "rate_limit": {"per_second": 0.2, "burst": 3}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, token) = (
        r.json()["id"].as_str().unwrap().to_string(),
        r.json()["token"].as_str().unwrap().to_string(),
    );
    let statuses: Vec<u16> = (0..5).map(|_| users(&app, &token).status).collect();
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let r = users(&app, &token);
    assert_eq!(r.status, 429);
    let e = r.json();
    assert_eq!(e["status"], "429");
    assert_eq!(
        e["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    // One token refills in 5 s at 0.2/s.
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    assert!(app.metric(&format!("scimd_rate_limited_total{{connector=\"{id}\"}}")) >= 3.0);
    // The refused requests are in the connector's request log too.
    let deadline = Instant::now() + Duration::from_secs(10);
    let limited = loop {
        let rows = api(
            &app,
            "GET",
            &format!("/connectors/{id}/requests?status=4xx"),
            &admin,
            None,
        )
        .json();
        let n = rows["requests"].as_array().map_or(0, Vec::len);
        if n >= 3 || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        limited["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == 429),
        "{limited}"
    );
    assert_eq!(
        limited["requests"].as_array().unwrap().len(),
        3,
        "{limited}"
    );
    // Other credentials of the organization are not held back.
    assert_eq!(users(&app, &admin).status, 200);
    // Lifting the limit lets the connector through on the next request.
    let p = api(
        &app,
        "PATCH",
        &format!("/connectors/{id}"),
        &admin,
        Some(&json!({"rate_limit": null})),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(users(&app, &token).status, 200);
}

#[test]
fn a_token_without_a_connector_can_carry_its_own_limit() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let r = api(
        &app,
        "POST",
        "/tokens",
        &admin,
        Some(
            &json!({"name": "script", "scopes": ["admin:scim"], "rate_limit": {"per_second": 0.1, "burst": 2}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["rate_limit"],
        json!({"per_second": 0.1, "burst": 2})
    );
    let token = r.json()["token"].as_str().unwrap().to_string();
    let statuses: Vec<u16> = (0..3).map(|_| users(&app, &token).status).collect();
    assert_eq!(statuses, vec![200, 200, 429]);
    let bad = api(
        &app,
        "POST",
        "/tokens",
        &admin,
        Some(
            &json!({"name": "x", "scopes": ["all"], "rate_limit": {"per_second": -1, "burst": 0}}),
        ),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("rate_limit.per_second") && bad.body.contains("rate_limit.burst"));
}

#[test]
fn the_limit_holds_across_two_instances() {
    let db = TestDb::new();
    let one = TestApp::new(&db);
    let two = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (rate, burst) = (20.0, 10.0);
    let r = api(
        &one,
        "POST",
        "/connectors",
        &admin,
        Some(
            &json!({"name": "entra", "kind": "entra", "rate_limit": {"per_second": rate, "burst": burst}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let start = Instant::now();
    let run = Duration::from_secs(3);
    // Four clients, two on each instance, as fast as they can.
    let passed: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (app, token) = (if i % 2 == 0 { &one } else { &two }, &token);
                s.spawn(move || {
                    let mut ok = 0;
                    while start.elapsed() < run {
                        match users(app, token).status {
                            200 => ok += 1,
                            429 => {}
                            other => panic!("status {other}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let allowed = burst + rate * elapsed;
    let share = passed as f64 / allowed;
    assert!(
        (0.9..=1.1).contains(&share),
        "{passed} passed in {elapsed:.2} s; the limit allows {allowed:.0} ({share:.2})"
    );
}
