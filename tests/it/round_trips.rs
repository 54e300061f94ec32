//! What each common request costs the database, counted on the wire (see
//! `harness::wire`): round trips, and statements PostgreSQL has to parse and
//! plan again because they were not prepared. Measured in the steady state
//! (pool warm, the token verified before, each request made twice first),
//! and pinned, so a change that adds a round trip fails here.

use serde_json::{json, Value};

use crate::harness::client::{request, Resp};
use crate::harness::pg::socket_path;
use crate::harness::wire::{cost, Cost, WireProxy};
use crate::harness::{seed_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Bench {
    app: TestApp,
    proxy: WireProxy,
    token: String,
}

impl Bench {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        request(
            method,
            &self.app.url(&format!("/scim/v2{path}")),
            Some(&self.token),
            body,
        )
    }

    /// The cost of the third of three calls `make(i)` describes.
    fn measure(&self, make: impl Fn(usize) -> (&'static str, String, Option<Value>)) -> Cost {
        self.measure_answering(|s| s < 300, make)
    }

    /// [`Self::measure`] for calls whose answer `expected` accepts.
    fn measure_answering(
        &self,
        expected: fn(u16) -> bool,
        make: impl Fn(usize) -> (&'static str, String, Option<Value>),
    ) -> Cost {
        for i in 0..2 {
            let (m, p, b) = make(i);
            let r = self.call(m, &p, b.as_ref());
            assert!(expected(r.status), "{m} {p}: {} {}", r.status, r.body);
        }
        self.proxy.log.take();
        let (m, p, b) = make(2);
        let r = self.call(m, &p, b.as_ref());
        assert!(expected(r.status), "{m} {p}: {} {}", r.status, r.body);
        cost(&self.proxy.log.take())
    }
}

fn create(b: &Bench, path: &str, body: Value) -> String {
    let r = b.call("POST", path, Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

#[test]
fn common_requests_cost_a_pinned_number_of_round_trips() {
    let db = TestDb::new();
    let proxy = WireProxy::start(socket_path());
    let app = TestApp::with_config(test_config(&proxy.url(&db.name)));
    let token = seed_token(&db, &["admin:scim"]);
    let b = Bench { app, proxy, token };

    let loner = create(
        &b,
        "/Users",
        json!({"schemas": [USER], "userName": "loner"}),
    );
    let member = create(
        &b,
        "/Users",
        json!({"schemas": [USER], "userName": "member"}),
    );
    let group = create(
        &b,
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": member}]}),
    );
    for i in 0..20 {
        create(
            &b,
            "/Users",
            json!({"schemas": [USER], "userName": format!("u{i}")}),
        );
    }
    let extra: Vec<String> = (0..3)
        .map(|i| {
            create(
                &b,
                "/Users",
                json!({"schemas": [USER], "userName": format!("x{i}")}),
            )
        })
        .collect();

    // (request, pinned round trips, pinned unnamed statements)
    let cases: Vec<(&str, Cost, usize, usize)> = vec![
        (
            "GET /Users/{id}, in no group",
            b.measure(|_| ("GET", format!("/Users/{loner}"), None)),
            1,
            0,
        ),
        (
            // The row says it is in a group; the walk is the second statement.
            "GET /Users/{id}, in a group",
            b.measure(|_| ("GET", format!("/Users/{member}"), None)),
            2,
            0,
        ),
        (
            // No row to carry the token check: it is read on its own.
            "GET /Users/{id}, unknown id",
            b.measure_answering(
                |s| s == 404,
                |_| {
                    (
                        "GET",
                        "/Users/0190a5b0-0000-7000-8000-000000000000".into(),
                        None,
                    )
                },
            ),
            2,
            0,
        ),
        (
            // The page's statement carries the token check and says no
            // user on it is in a group.
            "GET /Users?filter=userName eq, in no group",
            b.measure(|_| {
                (
                    "GET",
                    "/Users?filter=userName%20eq%20%22loner%22".into(),
                    None,
                )
            }),
            1,
            0,
        ),
        (
            // One user on the page is in a group: the walk for it follows.
            "GET /Users?count=100",
            b.measure(|_| ("GET", "/Users?count=100".into(), None)),
            2,
            0,
        ),
        (
            // An empty page carries no check: it is read on its own.
            "GET /Users?filter=userName eq, no match",
            b.measure(|_| {
                (
                    "GET",
                    "/Users?filter=userName%20eq%20%22nobody%22".into(),
                    None,
                )
            }),
            2,
            0,
        ),
        (
            "POST /Users",
            b.measure(|i| {
                (
                    "POST",
                    "/Users".into(),
                    Some(json!({"schemas": [USER], "userName": format!("new{i}")})),
                )
            }),
            1,
            0,
        ),
        (
            "PATCH /Users/{id} displayName",
            b.measure(|i| {
                (
                    "PATCH",
                    format!("/Users/{loner}"),
                    Some(json!({"schemas": [PATCH], "Operations": [
                        {"op": "replace", "path": "displayName", "value": format!("L{i}")}]})),
                )
            }),
            2,
            0,
        ),
        (
            "PATCH /Groups/{id} add one member",
            b.measure(|i| {
                (
                    "PATCH",
                    format!("/Groups/{group}"),
                    Some(json!({"schemas": [PATCH], "Operations": [
                        {"op": "add", "path": "members", "value": [{"value": extra[i]}]}]})),
                )
            }),
            5,
            0,
        ),
    ];
    let mut report = Vec::new();
    let mut wrong = false;
    for (name, c, trips, unnamed) in &cases {
        let ok = c.round_trips == *trips && c.unnamed.len() == *unnamed;
        wrong |= !ok;
        report.push(format!(
            "{} {name}: {} round trips (pinned {trips}), {} unnamed (pinned {unnamed})\n{}",
            if ok { "  " } else { "✗ " },
            c.round_trips,
            c.unnamed.len(),
            c.transcript
        ));
    }
    assert!(!wrong, "\n{}", report.join("\n"));
}
