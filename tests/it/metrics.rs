//! `/metrics`, the `X-Request-Id` header and the access log, over HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use scimd::http::metrics::ACCESS_TARGET;
use scimd::metrics::PoolEvents;
use uuid::Uuid;

use crate::harness::client::{finish, get, get_with_raw_auth, Resp};
use crate::harness::{seed_token, TestApp, TestDb};

const USERS_ID: &str = "/scim/v2/Users/{id}";

#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// A strict reader of OpenMetrics text: well-formed HELP/TYPE/UNIT lines,
/// every sample of a declared family, `name{label="value",...} value`, a
/// final `# EOF`, and histogram buckets that add up to their count.
fn parse(text: &str) -> Vec<Sample> {
    let mut types: HashMap<&str, &str> = HashMap::new();
    let mut helps = HashSet::new();
    let mut samples = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "# EOF" {
            assert!(lines.peek().is_none(), "text after # EOF");
            check_histograms(&samples, &types);
            return samples;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let (kind, rest) = rest.split_once(' ').expect(line);
            let (name, arg) = rest.split_once(' ').expect(line);
            assert!(is_name(name, true), "bad name in {line:?}");
            match kind {
                "HELP" => assert!(helps.insert(name) && !arg.is_empty(), "{line:?}"),
                "TYPE" => {
                    let known = ["counter", "gauge", "histogram", "info", "unknown"];
                    assert!(known.contains(&arg), "{line:?}");
                    assert!(types.insert(name, arg).is_none(), "second TYPE: {line:?}");
                }
                "UNIT" => assert!(name.ends_with(&format!("_{arg}")), "{line:?}"),
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        let s = parse_sample(line);
        let family = family_of(&s.name, &types).unwrap_or_else(|| panic!("undeclared: {line:?}"));
        assert!(helps.contains(family), "no HELP for {family}");
        samples.push(s);
    }
    panic!("no # EOF at the end");
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

fn family_of<'a>(name: &str, types: &HashMap<&'a str, &'a str>) -> Option<&'a str> {
    let suffixes: &[(&str, &[&str])] = &[
        ("counter", &["_total", "_created"]),
        ("histogram", &["_bucket", "_sum", "_count", "_created"]),
        ("info", &["_info"]),
        ("gauge", &[""]),
        ("unknown", &[""]),
    ];
    types.iter().find_map(|(family, kind)| {
        let (_, allowed) = suffixes.iter().find(|(k, _)| k == kind)?;
        let suffix = name.strip_prefix(family)?;
        allowed.contains(&suffix).then_some(*family)
    })
}

fn parse_sample(line: &str) -> Sample {
    let end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line:?}"));
    let (name, mut rest) = line.split_at(end);
    assert!(is_name(name, true), "bad metric name: {line:?}");
    let mut labels = Vec::new();
    if let Some(mut r) = rest.strip_prefix('{') {
        while !r.starts_with('}') {
            let (key, after) = r.split_once("=\"").unwrap_or_else(|| panic!("{line:?}"));
            assert!(is_name(key, false), "bad label name in {line:?}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let close = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        other => panic!("bad escape {other:?} in {line:?}"),
                    },
                    Some((_, c)) => value.push(c),
                    None => panic!("unterminated label value: {line:?}"),
                }
            };
            labels.push((key.to_string(), value));
            r = &after[close + 1..];
            r = r.strip_prefix(',').unwrap_or(r);
        }
        rest = &r[1..];
    }
    let rest = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{line:?}"));
    let mut parts = rest.split(' ');
    let value = match parts.next() {
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        None => panic!("no value: {line:?}"),
    };
    if let Some(ts) = parts.next() {
        ts.parse::<f64>().expect("timestamp");
    }
    assert!(parts.next().is_none(), "trailing text: {line:?}");
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

/// Buckets are cumulative and the `+Inf` bucket equals `_count`.
fn check_histograms(samples: &[Sample], types: &HashMap<&str, &str>) {
    for (family, _) in types.iter().filter(|(_, k)| **k == "histogram") {
        for count in samples
            .iter()
            .filter(|s| s.name == format!("{family}_count"))
        {
            let buckets: Vec<f64> = samples
                .iter()
                .filter(|s| s.name == format!("{family}_bucket"))
                .filter(|s| {
                    let series: Vec<_> = s.labels.iter().filter(|(k, _)| k != "le").collect();
                    series.len() == count.labels.len()
                        && series.iter().all(|l| count.labels.contains(l))
                })
                .map(|s| s.value)
                .collect();
            assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{family}");
            assert_eq!(buckets.last(), Some(&count.value), "{family} +Inf");
        }
    }
}

fn scrape(app: &TestApp) -> Vec<Sample> {
    let r = get(&app.url("/metrics"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    parse(&r.body)
}

/// The sample with exactly these labels; 0 when the series does not exist.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|l| l.0 == *k && l.1 == *v))
        })
        .map_or(0.0, |s| s.value)
}

fn with_request_id(url: &str, id: Option<&str>, token: Option<&str>) -> Resp {
    let mut req = ureq::get(url);
    if let Some(id) = id {
        req = req.set("X-Request-Id", id);
    }
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    finish(req.call())
}

#[test]
fn metrics_parse_and_count_requests_by_route_template() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let before = scrape(&app);
    let id = Uuid::new_v4();
    let r = get(&app.url(&format!("/scim/v2/Users/{id}")), Some(&token));
    assert_eq!(r.status, 404);
    assert_eq!(get(&app.url("/no/such/path"), None).status, 404);
    let raw = get(&app.url("/metrics"), None).body;
    let after = parse(&raw);

    let diff = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let read = [("route", USERS_ID), ("method", "GET"), ("status", "404")];
    assert_eq!(diff("scimd_http_requests_total", &read), 1.0);
    let latency = [("route", USERS_ID), ("method", "GET")];
    assert_eq!(
        diff("scimd_http_request_duration_seconds_count", &latency),
        1.0
    );
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(diff("scimd_http_requests_total", &unmatched), 1.0);
    assert!(!raw.contains(&id.to_string()), "a raw path became a label");
    assert!(!raw.contains("/no/such/path"), "a raw path became a label");

    assert_eq!(value(&after, "scimd_db_pool_max_size", &[]), 4.0);
    let open = value(&after, "scimd_db_pool_connections_in_use", &[])
        + value(&after, "scimd_db_pool_connections_idle", &[]);
    assert!((1.0..=4.0).contains(&open), "{open}");
    assert!(after
        .iter()
        .any(|s| s.name == "scimd_db_pool_acquire_duration_seconds_count"));
    // With DATABASE_URL there is no embedded cluster to report on.
    assert!(!raw.contains("scimd_embedded_postgres_up"));
}

#[test]
fn auth_failures_are_counted_by_reason_and_403s_apart() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let reader = seed_token(&db, &["admin:read"]);
    let before = scrape(&app);
    assert_eq!(get(&app.url("/scim/v2/Users"), None).status, 401);
    let basic = get_with_raw_auth(&app.base, "/scim/v2/Users", b"Basic dXNlcjpwYXNz");
    assert_eq!(basic, 401);
    assert_eq!(
        get(&app.url("/scim/v2/Users"), Some("nonsense")).status,
        401
    );
    assert_eq!(
        get(&app.url("/probe/scim-write"), Some(&reader)).status,
        403
    );
    let after = scrape(&app);

    let failures = |reason: &str| {
        let l = [("reason", reason)];
        value(&after, "scimd_authentication_failures_total", &l)
            - value(&before, "scimd_authentication_failures_total", &l)
    };
    assert_eq!(failures("missing"), 1.0);
    assert_eq!(failures("scheme"), 1.0);
    assert_eq!(failures("malformed"), 1.0);
    for quiet in ["unknown", "bad_secret", "expired", "revoked"] {
        assert_eq!(failures(quiet), 0.0, "{quiet}");
        // Every reason's series exists from the start, at 0.
        assert!(after
            .iter()
            .any(|s| s.name == "scimd_authentication_failures_total"
                && s.labels == [("reason".to_string(), quiet.to_string())]));
    }
    let forbidden = value(&after, "scimd_authorization_failures_total", &[])
        - value(&before, "scimd_authorization_failures_total", &[]);
    assert_eq!(forbidden, 1.0);
    let unauthorized = [
        ("route", "/scim/v2/Users"),
        ("method", "GET"),
        ("status", "401"),
    ];
    assert_eq!(
        value(&after, "scimd_http_requests_total", &unauthorized),
        3.0
    );
}

#[test]
fn request_id_is_echoed_or_generated_on_every_answer() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let r = with_request_id(&app.url("/health"), Some("lb-7f3a.2_x"), None);
    assert_eq!(r.header("x-request-id"), Some("lb-7f3a.2_x"));

    let a = with_request_id(&app.url("/health"), None, None);
    let b = with_request_id(&app.url("/health"), None, None);
    let (a, b) = (a.header("x-request-id"), b.header("x-request-id"));
    assert!(Uuid::parse_str(a.unwrap()).is_ok(), "{a:?}");
    assert_ne!(a, b);

    let long = "x".repeat(65);
    for bad in [long.as_str(), "a/b", "a b", "x=1"] {
        let r = with_request_id(&app.url("/health"), Some(bad), None);
        let got = r.header("x-request-id").unwrap();
        assert!(Uuid::parse_str(got).is_ok(), "{bad:?} gave {got:?}");
    }

    let r = with_request_id(&app.url("/no/such/path"), Some("on-404"), None);
    assert_eq!((r.status, r.header("x-request-id")), (404, Some("on-404")));
    let r = with_request_id(&app.url("/scim/v2/Nope"), None, None);
    assert_eq!(r.status, 404);
    assert!(Uuid::parse_str(r.header("x-request-id").unwrap()).is_ok());
    let r = with_request_id(&app.url("/scim/v2/Users"), Some("on-401"), Some("bad"));
    assert_eq!((r.status, r.header("x-request-id")), (401, Some("on-401")));
    let r = with_request_id(&app.url("/scim/v2/Users"), None, None);
    assert_eq!(r.status, 401);
    assert!(Uuid::parse_str(r.header("x-request-id").unwrap()).is_ok());
}

/// Keeps every access-log line and every authentication warning written in
/// this test process.
struct Capture(Mutex<Vec<String>>);

fn captured(m: &log::Metadata) -> bool {
    m.target() == ACCESS_TARGET
        || (m.level() <= log::Level::Warn
            && (m.target() == "scimd::auth" || m.target().starts_with("scimd::http")))
}

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        captured(m)
    }
    fn log(&self, r: &log::Record) {
        if captured(r.metadata()) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).expect("no other logger in the test process");
        log::set_max_level(log::LevelFilter::Info);
        c
    })
}

fn line_with(id: &str) -> String {
    let lines = capture().0.lock().unwrap();
    let found: Vec<_> = lines.iter().filter(|l| l.contains(id)).collect();
    assert_eq!(found.len(), 1, "one line per request: {found:?}");
    found[0].clone()
}

#[test]
fn access_log_holds_no_secret_and_no_query() {
    let capture = capture();
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let query = "?filter=userName%20eq%20%22pii-person%40example.com%22";

    let ok_id = format!("ok-{}", Uuid::new_v4().simple());
    let url = app.url(&format!("/scim/v2/Users{query}"));
    assert_eq!(
        with_request_id(&url, Some(&ok_id), Some(&token)).status,
        200
    );
    let line = line_with(&ok_id);
    assert!(
        line.starts_with("method=GET route=/scim/v2/Users status=200 ms="),
        "{line}"
    );
    let token_id = line
        .split(" token=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(Uuid::parse_str(token_id).is_ok(), "{line}");

    let bad_id = format!("bad-{}", Uuid::new_v4().simple());
    let wrong = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        with_request_id(&url, Some(&bad_id), Some(&wrong)).status,
        401
    );
    let refused = line_with(&bad_id);
    assert!(
        refused.contains(" status=401 ") && refused.contains(" token=- "),
        "{refused}"
    );

    for line in capture.0.lock().unwrap().iter() {
        for secret in [
            token.as_str(),
            &wrong,
            &token[6..],
            "pii-person",
            "filter",
            "Bearer",
        ] {
            assert!(!line.contains(secret), "{secret:?} in {line}");
        }
    }
    // Probes and scrapes are counted, not logged.
    let probe_id = format!("probe-{}", Uuid::new_v4().simple());
    with_request_id(&app.url("/health"), Some(&probe_id), None);
    let lines = capture.0.lock().unwrap();
    assert!(!lines.iter().any(|l| l.contains(&probe_id)));
}

#[test]
fn refused_secrets_of_a_real_token_warn_once_a_minute() {
    let capture = capture();
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let id = scimd::auth::token::parse(&token).unwrap().0;
    let forged = || {
        scimd::auth::token::generate(id)
            .unwrap()
            .expose()
            .to_string()
    };
    let warnings = || {
        capture
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&format!("repeated failures for token {id}")))
            .cloned()
            .collect::<Vec<_>>()
    };
    for _ in 0..5 {
        let r = get(&app.url("/scim/v2/Users"), Some(&forged()));
        assert_eq!(r.status, 401);
    }
    assert_eq!(warnings().len(), 1, "{:?}", warnings());
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(get(&app.url("/scim/v2/Users"), Some(&forged())).status, 401);
    let w = warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[1].contains("5 refused"), "{w:?}");
    assert!(!w.iter().any(|l| l.contains(&token[6..])));
}

/// A 500 tells the client nothing but the request id; the cause is logged
/// once, under that id. (The audit table is dropped, so every write fails
/// in a way no mapping knows.)
#[test]
fn server_errors_show_only_the_request_id_and_log_the_cause_once() {
    use diesel::connection::SimpleConnection;
    let capture = capture();
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["all"]);
    db.conn().batch_execute("DROP TABLE audit_log").unwrap();
    let id = format!("fault-{}", Uuid::new_v4().simple());
    let body = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "f"});
    let r = finish(
        ureq::post(&app.url("/scim/v2/Users"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("X-Request-Id", &id)
            .send_json(body.clone()),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["detail"],
        format!("internal server error (request id {id})"),
        "{}",
        r.body
    );
    assert_eq!(v["status"], "500");
    let logged: Vec<String> = capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(&id) && l.contains("audit_log"))
        .cloned()
        .collect();
    assert_eq!(logged.len(), 1, "the cause, once: {logged:?}");
    // The admin API answers the same way.
    let id = format!("fault-{}", Uuid::new_v4().simple());
    let r = finish(
        ureq::post(&app.url("/api/v1/tokens"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("X-Request-Id", &id)
            .send_json(serde_json::json!({"name": "x", "scopes": ["all"]})),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap(),
        serde_json::json!({"error": "internal", "message": format!("internal server error (request id {id})")})
    );
    // And so does one Bulk operation.
    let r = finish(
        ureq::post(&app.url("/scim/v2/Bulk"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("X-Request-Id", "bulk-fault")
            .send_json(
                serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a", "data": body}]}),
            ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["Operations"][0]["response"]["detail"], "internal server error (request id bulk-fault)",
        "{}",
        r.body
    );
    assert!(!r.body.contains("audit_log"));
}

#[test]
fn pool_events_time_checkouts_and_timeouts() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let wait = "scimd_db_pool_acquire_duration_seconds_count";
    let timeouts = "scimd_db_pool_acquire_timeouts_total";
    let before = scrape(&app);
    let pool = Pool::builder()
        .max_size(1)
        .event_handler(Box::new(PoolEvents))
        .build(ConnectionManager::<PgConnection>::new(&db.url))
        .expect("pool");
    let held = pool.get().expect("connection");
    assert!(pool.get_timeout(Duration::from_millis(50)).is_err());
    drop(held);
    let after = scrape(&app);
    // The histogram is process-wide: other tests' pools may add to it too.
    assert!(value(&after, wait, &[]) >= value(&before, wait, &[]) + 2.0);
    assert!(value(&after, timeouts, &[]) > value(&before, timeouts, &[]));
}
