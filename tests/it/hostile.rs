//! Hostile input over HTTP: every answer is a 4xx with a SCIM error body (or
//! a correct 2xx), never a 5xx, a hang or a crash, and the server still
//! answers afterwards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::client::finish;
use crate::harness::{get, seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn send_raw_body(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut r =
        ureq::request(method, &app.url(path)).set("Authorization", &format!("Bearer {token}"));
    if let Some(ct) = content_type {
        r = r.set("Content-Type", ct);
    }
    let resp = finish(r.send_bytes(body));
    (resp.status, resp.body)
}

fn assert_scim_4xx(status: u16, body: &str, what: &str) {
    assert!(
        (400..500).contains(&status),
        "{what}: status {status}: {body}"
    );
    let v: Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body:?}"));
    assert_eq!(
        v["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{what}"
    );
    assert_eq!(v["status"], status.to_string(), "{what}");
}

#[test]
fn malformed_bodies_get_scim_4xx() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_obj = format!(
        "{{\"schemas\":[\"{USER}\"],\"userName\":\"d\",\"name\":{}}}",
        "{\"a\":".repeat(5000) + "1" + &"}".repeat(5000)
    );
    let huge_string = format!(
        "{{\"schemas\":[\"{USER}\"],\"userName\":\"{}\"}}",
        "x".repeat(9 * 1024 * 1024)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"#.to_vec()),
        ("not json", b"hello".to_vec()),
        ("nested 10000 deep", deep.into_bytes()),
        ("object nested 5000 deep", deep_obj.into_bytes()),
        ("9 MB string", huge_string.into_bytes()),
        ("invalid utf-8", b"{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"\xff\xfe\"}".to_vec()),
        ("lone surrogate", br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\ud800"}"#.to_vec()),
        ("NUL character", br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a\u0000b"}"#.to_vec()),
        ("1e400", br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"n","x":1e400}"#.to_vec()),
        ("number as userName", br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":1e308}"#.to_vec()),
        ("array body", b"[]".to_vec()),
        ("null body", b"null".to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, body) in cases {
        for path in ["/scim/v2/Users", "/scim/v2/Groups"] {
            let (status, text) = send_raw_body(
                &app,
                &token,
                "POST",
                path,
                Some("application/scim+json"),
                &body,
            );
            assert_scim_4xx(status, &text, &format!("{what} to {path}"));
        }
    }
    // Content types.
    let ok = serde_json::to_vec(&json!({"schemas": [USER], "userName": "ct"})).unwrap();
    let (s, b) = send_raw_body(
        &app,
        &token,
        "POST",
        "/scim/v2/Users",
        Some("text/plain"),
        &ok,
    );
    assert_scim_4xx(s, &b, "text/plain");
    assert_eq!(s, 415);
    let (s, b) = send_raw_body(
        &app,
        &token,
        "POST",
        "/scim/v2/Users",
        Some("application/json; charset=utf-8"),
        &ok,
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = send_raw_body(
        &app,
        &token,
        "POST",
        "/scim/v2/Users",
        None,
        &serde_json::to_vec(&json!({"schemas": [USER], "userName": "noct"})).unwrap(),
    );
    assert_eq!(s, 201, "a missing Content-Type is tolerated: {b}");
    assert_eq!(get(&app.url("/health"), None).status, 200);
}

#[test]
fn every_attribute_with_a_wrong_json_type_is_invalid_value() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let attrs = [
        "userName",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "password",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
        "externalId",
    ];
    let wrong = [json!(12), json!({"x": {}}), json!([[1]]), json!(true)];
    for attr in attrs {
        for w in &wrong {
            let mut body = json!({"schemas": [USER], "userName": "wt"});
            body[attr] = w.clone();
            let (status, text) = send_raw_body(
                &app,
                &token,
                "POST",
                "/scim/v2/Users",
                Some("application/scim+json"),
                body.to_string().as_bytes(),
            );
            if status == 201 {
                // A coercion we accept on purpose (e.g. a single value for a
                // multi-valued attribute) must still store something sane.
                let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let (d, _) = send_raw_body(
                    &app,
                    &token,
                    "DELETE",
                    &format!("/scim/v2/Users/{id}"),
                    None,
                    b"",
                );
                assert_eq!(d, 204);
                continue;
            }
            assert_scim_4xx(status, &text, &format!("{attr} = {w}"));
        }
    }
}

#[test]
fn garbage_in_query_parameters_path_segments_and_methods() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let paths = [
        "/scim/v2/Users?count=%ff%fe",
        "/scim/v2/Users?startIndex=99999999999999999999999",
        "/scim/v2/Users?count=1e9",
        "/scim/v2/Users?attributes=%00",
        "/scim/v2/Users?attributes=a..b",
        "/scim/v2/Users?excludedAttributes=urn:",
        "/scim/v2/Users?%zz=1",
        "/scim/v2/Users/%00",
        "/scim/v2/Users/..%2F..%2Fetc%2Fpasswd",
        "/scim/v2/Users/00000000-0000-0000-0000-000000000000",
        "/scim/v2/Groups/%E2%80%AE",
        "/scim/v2/Schemas/%ff",
        "/scim/v2/ResourceTypes/..",
        "/scim/v2/Users/a/b/c",
        "/scim/v2//Users",
    ];
    for p in paths {
        let r = crate::harness::client::request("GET", &app.url(p), Some(&token), None);
        assert_scim_4xx(r.status, &r.body, p);
    }
    for method in ["PROPFIND", "TRACE", "OPTIONS", "CONNECT-ME"] {
        let addr = app.base.trim_start_matches("http://").to_string();
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "{method} /scim/v2/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let status: u16 = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        assert!((400..500).contains(&status), "{method}: {out}");
    }
    assert_eq!(get(&app.url("/health"), None).status, 200);
}
