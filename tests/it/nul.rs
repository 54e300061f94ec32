//! U+0000 anywhere a client string can reach PostgreSQL (which cannot store
//! it in text or jsonb) is a precise 400, never a 500: one case per place,
//! then a property that puts NUL at random places of valid requests.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::harness::client::{finish, Resp};
use crate::harness::{post, seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn send(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut r = ureq::request(method, &app.url(path))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json");
    for (k, v) in headers {
        r = r.set(k, v);
    }
    finish(match body {
        Some(b) => r.send_string(b),
        None => r.call(),
    })
}

struct Fixture {
    _db: TestDb,
    app: TestApp,
    token: String,
    user: String,
    group: String,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["all"]);
    let u = post(
        &app.url("/scim/v2/Users"),
        Some(&token),
        &json!({"schemas": [USER], "userName": "bjensen",
                "emails": [{"value": "bjensen@example.com", "type": "work"}]}),
    );
    assert_eq!(u.status, 201, "{}", u.body);
    let user = u.json()["id"].as_str().unwrap().to_string();
    let g = post(
        &app.url("/scim/v2/Groups"),
        Some(&token),
        &json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": user}]}),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    let group = g.json()["id"].as_str().unwrap().to_string();
    Fixture {
        _db: db,
        app,
        token,
        user,
        group,
    }
}

fn q(text: &str) -> String {
    text.replace('%', "%25")
        .replace(' ', "%20")
        .replace('"', "%22")
        .replace('[', "%5B")
        .replace(']', "%5D")
        .replace('\\', "%5C")
}

/// One request per place a client string reaches the database, each with
/// the status and scimType it must get.
#[test]
fn nul_is_a_precise_400_in_every_place() {
    let f = fixture();
    let (u, g) = (f.user.clone(), f.group.clone());
    let nul = r"\u0000";
    let filter = |expr: &str| format!("/scim/v2/Users?filter={}", q(expr));
    let patch = |path: &str, value: Value| {
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": path, "value": value}]})
            .to_string()
    };
    let search = |body: Value| {
        let mut b = body;
        b["schemas"] = json!([SEARCH]);
        b.to_string()
    };
    type Case = (
        &'static str,
        &'static str,
        String,
        Option<String>,
        u16,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("filter eq", "GET", filter(&format!(r#"userName eq "a{nul}b""#)), None, 400, Some("invalidFilter")),
        ("filter co", "GET", filter(&format!(r#"userName co "a{nul}b""#)), None, 400, Some("invalidFilter")),
        ("filter sw", "GET", filter(&format!(r#"displayName sw "{nul}""#)), None, 400, Some("invalidFilter")),
        ("filter ew", "GET", filter(&format!(r#"externalId ew "a{nul}""#)), None, 400, Some("invalidFilter")),
        ("filter json attr", "GET", filter(&format!(r#"title eq "a{nul}b""#)), None, 400, Some("invalidFilter")),
        ("filter value path", "GET", filter(&format!(r#"emails[type eq "w{nul}"]"#)), None, 400, Some("invalidFilter")),
        ("filter emails.value", "GET", filter(&format!(r#"emails.value eq "{nul}""#)), None, 400, Some("invalidFilter")),
        ("filter raw NUL", "GET", "/scim/v2/Users?filter=userName%20eq%20%22a%00b%22".into(), None, 400, Some("invalidFilter")),
        ("filter URN", "GET", filter(&format!("urn:{nul}x:userName eq \"a\"")), None, 400, Some("invalidFilter")),
        ("groups filter", "GET", format!("/scim/v2/Groups?filter={}", q(&format!(r#"displayName eq "{nul}""#))), None, 400, Some("invalidFilter")),
        ("sortBy", "GET", "/scim/v2/Users?sortBy=userName%00".into(), None, 400, Some("invalidValue")),
        ("attributes", "GET", "/scim/v2/Users?attributes=userName%00".into(), None, 400, Some("invalidPath")),
        ("excludedAttributes", "GET", "/scim/v2/Users?excludedAttributes=user%00Name".into(), None, 400, Some("invalidPath")),
        ("cursor", "GET", "/scim/v2/Users?cursor=a%00b".into(), None, 400, Some("invalidCursor")),
        ("root .search", "POST", "/scim/v2/.search".into(), Some(search(json!({"filter": format!("userName eq \"a\0b\"")}))), 400, Some("invalidFilter")),
        ("Users/.search", "POST", "/scim/v2/Users/.search".into(), Some(search(json!({"filter": "userName co \"\u{0}\""}))), 400, Some("invalidFilter")),
        ("search sortBy", "POST", "/scim/v2/Groups/.search".into(), Some(search(json!({"sortBy": "displayName\u{0}"}))), 400, Some("invalidValue")),
        ("search attributes", "POST", "/scim/v2/Users/.search".into(), Some(search(json!({"attributes": ["userName\u{0}"]}))), 400, Some("invalidPath")),
        ("user id in path", "GET", "/scim/v2/Users/a%00b".into(), None, 404, None),
        ("group id in path", "DELETE", format!("/scim/v2/Groups/{g}%00"), None, 404, None),
        ("PATCH path filter", "PATCH", format!("/scim/v2/Users/{u}"), Some(patch(&format!(r#"emails[type eq "w{nul}"].value"#), json!("x@example.com"))), 400, Some("invalidPath")),
        ("PATCH members filter", "PATCH", format!("/scim/v2/Groups/{g}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": format!(r#"members[value eq "{nul}"]"#)}]}).to_string()), 400, Some("invalidPath")),
        ("PATCH value", "PATCH", format!("/scim/v2/Users/{u}"), Some(patch("displayName", json!("a\u{0}b"))), 400, Some("invalidValue")),
        ("PATCH member value", "PATCH", format!("/scim/v2/Groups/{g}"), Some(json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": "a\u{0}"}]}]}).to_string()), 400, Some("invalidValue")),
        ("PUT value", "PUT", format!("/scim/v2/Users/{u}"), Some(json!({"schemas": [USER], "userName": "bjensen", "title": "\u{0}"}).to_string()), 400, Some("invalidValue")),
        ("POST group", "POST", "/scim/v2/Groups".into(), Some(json!({"schemas": [GROUP], "displayName": "\u{0}"}).to_string()), 400, Some("invalidValue")),
        ("If-Match", "DELETE", format!("/scim/v2/Users/{u}"), None, 412, None),
    ];
    for (what, method, path, body, status, scim_type) in cases {
        let headers: &[(&str, &str)] = if what == "If-Match" {
            &[("If-Match", r#"W/"\u0000""#)]
        } else {
            &[]
        };
        let r = send(&f.app, &f.token, method, &path, body.as_deref(), headers);
        assert_eq!(r.status, status, "{what}: {}", r.body);
        let v = r.json();
        assert_eq!(v["status"], status.to_string(), "{what}: {}", r.body);
        assert_eq!(v["scimType"].as_str(), scim_type, "{what}: {}", r.body);
    }

    // Bulk: each operation answers on its own, none with a 5xx.
    let bulk = json!({"schemas": [BULK], "Operations": [
        {"method": "DELETE", "path": "/Users/a\u{0}b"},
        {"method": "PATCH", "path": format!("/Users/{u}"), "data": {"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!(r#"emails[value eq "{nul}"].type"#), "value": "x"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "n\u{0}"}},
        {"method": "POST", "path": "/Groups\u{0}", "bulkId": "c", "data": {"schemas": [GROUP], "displayName": "x"}},
    ]});
    let r = send(
        &f.app,
        &f.token,
        "POST",
        "/scim/v2/Bulk",
        Some(&bulk.to_string()),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<String> = r.json()["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["404", "400", "400", "400"], "{}", r.body);

    // /Me: the header is compared with stored text.
    let connect = seed_token(&f._db, &["connect:read"]);
    let r = send(
        &f.app,
        &connect,
        "GET",
        "/scim/v2/Me",
        None,
        &[("x-user-email", r"a\u0000b")],
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // Admin API fields.
    let admin = |method: &str, path: &str, body: Option<&str>| {
        let mut r = ureq::request(method, &f.app.url(path))
            .set("Authorization", &format!("Bearer {}", f.token))
            .set("Content-Type", "application/json");
        r = r.set("Accept", "application/json");
        finish(match body {
            Some(b) => r.send_string(b),
            None => r.call(),
        })
    };
    for (what, method, path, body) in [
        (
            "token name",
            "POST",
            "/api/v1/tokens",
            Some(r#"{"name":"a\u0000b","scopes":["all"]}"#),
        ),
        (
            "token scope",
            "POST",
            "/api/v1/tokens",
            Some(r#"{"name":"ab","scopes":["al\u0000l"]}"#),
        ),
        (
            "audit resource_type",
            "GET",
            "/api/v1/audit?resource_type=a%00",
            None,
        ),
        (
            "audit resource_id",
            "GET",
            "/api/v1/audit?resource_id=a%00",
            None,
        ),
        ("audit actor", "GET", "/api/v1/audit?actor=a%00", None),
        ("audit cursor", "GET", "/api/v1/audit?cursor=a%00", None),
    ] {
        let r = admin(method, path, body);
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(r.json()["error"], "validation_failed", "{what}: {}", r.body);
    }
    let r = admin("GET", "/api/v1/tokens/a%00", None);
    assert_eq!(r.status, 404, "{}", r.body);
    let r = admin("DELETE", "/api/v1/tokens/a%00", None);
    assert_eq!(r.status, 404, "{}", r.body);

    // Nothing was changed by any of it.
    let r = send(
        &f.app,
        &f.token,
        "GET",
        &format!("/scim/v2/Users/{u}"),
        None,
        &[],
    );
    assert_eq!(r.json()["userName"], "bjensen");
    assert!(r.json().get("title").is_none());
}

/// Valid requests, each a (method, path, body) with `{u}` and `{g}` for the
/// fixture's user and group ids.
const VALID: &[(&str, &str, &str)] = &[
    ("GET", "/scim/v2/Users?filter=userName%20eq%20%22bjensen%22&sortBy=userName&attributes=userName,emails&count=5", ""),
    ("GET", "/scim/v2/Users?filter=emails%5Btype%20eq%20%22work%22%5D&excludedAttributes=groups&cursor=", ""),
    ("GET", "/scim/v2/Groups?filter=displayName%20co%20%22g%22%20or%20members.value%20eq%20%22{u}%22", ""),
    ("GET", "/scim/v2/Users/{u}?attributes=userName", ""),
    ("POST", "/scim/v2/.search", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"bj\" or displayName eq \"g\"","sortBy":"meta.created","count":3}"#),
    ("PATCH", "/scim/v2/Users/{u}", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"b@example.com"},{"op":"add","path":"nickName","value":"Babs"}]}"#),
    ("PATCH", "/scim/v2/Groups/{g}", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"{u}\"]"},{"op":"add","path":"members","value":[{"value":"{u}"}]}]}"#),
    ("PUT", "/scim/v2/Groups/{g}", r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"{u}"}]}"#),
    ("POST", "/scim/v2/Bulk", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"PATCH","path":"/Users/{u}","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t"}]}}]}"#),
    ("POST", "/api/v1/tokens", r#"{"name":"fuzz","scopes":["admin:read"]}"#),
    ("GET", "/api/v1/audit?resource_type=User&resource_id={u}&limit=5", ""),
];

/// NUL (raw `%00` in the URL, `\u0000` in JSON) at a random place of a
/// valid request: never a 5xx, always a JSON body (SCIM or admin API).
#[test]
fn nul_anywhere_in_a_valid_request_is_never_a_5xx() {
    use proptest::test_runner::{Config, TestRunner};
    // One server for every case: starting one per case would dominate.
    let f = fixture();
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    let strategy = (0..VALID.len(), any::<prop::sample::Index>(), any::<bool>());
    runner
        .run(&strategy, |(which, at, in_body)| {
            let (method, path, body) = VALID[which];
            let path = path.replace("{u}", &f.user).replace("{g}", &f.group);
            let body = body.replace("{u}", &f.user).replace("{g}", &f.group);
            let (path, body) = if in_body && !body.is_empty() {
                let i = at.index(body.len() + 1);
                // Inside a JSON string this is how NUL is written; elsewhere it
                // makes the JSON invalid, which must be a 400 too.
                (path, format!("{}\\u0000{}", &body[..i], &body[i..]))
            } else {
                // Anywhere after `/scim/v2/` or `/api/v1/`.
                let i = 8 + at.index(path.len() - 8 + 1);
                (format!("{}%00{}", &path[..i], &path[i..]), body)
            };
            let body = (!body.is_empty()).then_some(body.as_str());
            let r = send(&f.app, &f.token, method, &path, body, &[]);
            prop_assert!(
                r.status < 500,
                "{} {} {:?}: {} {}",
                method,
                path,
                body,
                r.status,
                r.body
            );
            prop_assert!(
                r.status == 204 || serde_json::from_str::<Value>(&r.body).is_ok(),
                "{} {}: {} {:?}",
                method,
                path,
                r.status,
                r.body
            );
            Ok(())
        })
        .unwrap();
}
