//! Two `scimd serve` processes on one database, as a load-balanced
//! deployment runs them: a token revoked, or rotated without grace, through
//! one instance fails on the very next request to the other. Nothing about
//! a token's validity may live only in one process.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::client::{get, request};
use crate::harness::{seed_token, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Instance {
    base: String,
    child: Child,
}

impl Instance {
    fn start(db: &TestDb) -> Instance {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_scimd"))
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("SCIMD_LISTEN", format!("127.0.0.1:{port}"))
            .env_remove("AUTH_SECRET")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scimd serve");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        while !listening() || get(&format!("{base}/ready"), None).status != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Instance { base, child }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new scim token minted through `at`; returns (id, value).
fn mint(at: &Instance, admin: &str) -> (String, String) {
    let r = request(
        "POST",
        &at.url("/api/v1/tokens"),
        Some(admin),
        Some(&json!({"name": "connector", "scopes": ["admin:scim"]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    (
        j["id"].as_str().unwrap().into(),
        j["token"].as_str().unwrap().into(),
    )
}

#[test]
fn a_token_revoked_or_rotated_on_one_instance_fails_at_once_on_the_other() {
    let db = TestDb::new();
    let admin = seed_token(&db, &["all"]);
    let (a, b) = (Instance::start(&db), Instance::start(&db));
    let users = b.url("/scim/v2/Users?count=1");
    let mut failures = Vec::new();
    for i in 0..200 {
        let (id, value) = mint(&a, &admin);
        // B has seen the token work: whatever it keeps must not outlive it.
        let before = get(&users, Some(&value)).status;
        assert_eq!(before, 200, "round {i}: the new token does not work on B");
        let revoked = request(
            "DELETE",
            &a.url(&format!("/api/v1/tokens/{id}")),
            Some(&admin),
            None,
        );
        assert_eq!(revoked.status, 204, "{}", revoked.body);
        let after = get(&users, Some(&value)).status;
        if after != 401 {
            failures.push(format!("round {i}: revoked on A, B answered {after}"));
        }
    }
    let user = request(
        "POST",
        &a.url("/scim/v2/Users"),
        Some(&admin),
        Some(&json!({"schemas": [USER], "userName": "rotation"})),
    );
    assert_eq!(user.status, 201, "{}", user.body);
    let one = b.url(&format!(
        "/scim/v2/Users/{}",
        user.json()["id"].as_str().unwrap()
    ));
    for i in 0..50 {
        let (id, old) = mint(&a, &admin);
        assert_eq!(get(&users, Some(&old)).status, 200);
        assert_eq!(get(&one, Some(&old)).status, 200);
        let r = request(
            "POST",
            &a.url(&format!("/api/v1/tokens/{id}/rotate")),
            Some(&admin),
            Some(&json!({"grace_seconds": 0})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let new = r.json()["token"].as_str().unwrap().to_string();
        // The list reads the token on its own; the GET of one user carries
        // the check inside its statement.
        for url in [&users, &one] {
            let after = get(url, Some(&old)).status;
            if after != 401 {
                failures.push(format!(
                    "rotation {i}: old value on B answered {after} ({url})"
                ));
            }
        }
        assert_eq!(
            get(&users, Some(&new)).status,
            200,
            "rotation {i}: new value on B"
        );
        // Stay under the organization's token limit.
        let r = request(
            "DELETE",
            &a.url(&format!("/api/v1/tokens/{id}")),
            Some(&admin),
            None,
        );
        assert_eq!(r.status, 204);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// B accepts a token it has seen on the row it read then, and checks that
/// the token is still live on the connection the request's work runs on.
/// After a revoke on A, no request of any kind on B may do anything for it:
/// not a write (nothing stored), not a Bulk, not a request B would refuse
/// before reading the store.
#[test]
fn after_a_revoke_on_one_instance_the_other_writes_nothing_and_answers_401_to_everything() {
    let db = TestDb::new();
    let admin = seed_token(&db, &["all"]);
    let (a, b) = (Instance::start(&db), Instance::start(&db));
    let user = request(
        "POST",
        &b.url("/scim/v2/Users"),
        Some(&admin),
        Some(&json!({"schemas": [USER], "userName": "kept"})),
    );
    assert_eq!(user.status, 201, "{}", user.body);
    let uid = user.json()["id"].as_str().unwrap().to_string();
    let group = request(
        "POST",
        &b.url("/scim/v2/Groups"),
        Some(&admin),
        Some(&json!({"schemas": [GROUP], "displayName": "kept"})),
    );
    assert_eq!(group.status, 201, "{}", group.body);
    let gid = group.json()["id"].as_str().unwrap().to_string();
    let (id, value) = mint(&a, &admin);
    assert_eq!(
        get(&b.url("/scim/v2/Users?count=1"), Some(&value)).status,
        200
    );
    let r = request(
        "DELETE",
        &a.url(&format!("/api/v1/tokens/{id}")),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 204);
    let patch = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "displayName", "value": "changed"}]});
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
            "data": {"schemas": [USER], "userName": "bulk-after-revoke"}}]});
    let attempts: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        (
            "POST",
            b.url("/scim/v2/Users"),
            Some(json!({"schemas": [USER], "userName": "after-revoke"})),
        ),
        (
            "PATCH",
            b.url(&format!("/scim/v2/Users/{uid}")),
            Some(patch),
        ),
        (
            "PUT",
            b.url(&format!("/scim/v2/Users/{uid}")),
            Some(json!({"schemas": [USER], "userName": "replaced"})),
        ),
        ("POST", b.url("/scim/v2/Bulk"), Some(bulk)),
        (
            "POST",
            b.url("/scim/v2/Groups"),
            Some(json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": uid}]})),
        ),
        // The token check rides in the group's lock.
        (
            "PATCH",
            b.url(&format!("/scim/v2/Groups/{gid}")),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": uid}]}]})),
        ),
        ("DELETE", b.url(&format!("/scim/v2/Users/{uid}")), None),
        // Refused by B before any store call.
        (
            "GET",
            b.url("/scim/v2/Users?filter=userName%20zz%20%22x%22"),
            None,
        ),
        ("GET", b.url("/scim/v2/Users?count=abc"), None),
        ("GET", b.url(&format!("/scim/v2/Users/{uid}")), None),
    ];
    for (method, url, body) in &attempts {
        let r = request(method, url, Some(&value), body.as_ref());
        assert_eq!(r.status, 401, "{method} {url}: {}", r.body);
        assert!(r.header("www-authenticate").is_some(), "{method} {url}");
    }
    let after = get(&b.url(&format!("/scim/v2/Users/{uid}")), Some(&admin));
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.json()["userName"], "kept");
    assert!(after.json().get("displayName").is_none(), "{}", after.body);
    let all = get(&b.url("/scim/v2/Users"), Some(&admin)).json();
    assert_eq!(all["totalResults"], 1, "{all}");
    let groups = get(&b.url("/scim/v2/Groups"), Some(&admin)).json();
    assert_eq!(groups["totalResults"], 1, "{groups}");
    let kept = get(&b.url(&format!("/scim/v2/Groups/{gid}")), Some(&admin)).json();
    assert!(kept.get("members").is_none(), "{kept}");
}
