//! Extension schemas declared at runtime (`/api/v1/schemas`): what an
//! organization declares it serves, validates, filters, sorts and patches
//! from the next request on, on every instance; no other organization sees
//! it; changes that stored values would violate are refused with a count
//! unless forced; and a declared schema costs no database round trip.

use serde_json::{json, Value};

use crate::harness::client::{request, Resp};
use crate::harness::pg::socket_path;
use crate::harness::wire::{cost, WireProxy};
use crate::harness::{get, org_with_token, scimd, seed_token, test_config, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User";

fn contoso(attributes: Value) -> Value {
    json!({"extends": "User", "schema": {"id": EXT, "attributes": attributes}})
}

fn default_attributes() -> Value {
    json!([
        {"name": "costCenterCode", "type": "string"},
        {"name": "badgeNumber", "type": "integer"}
    ])
}

fn scim(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    request(
        method,
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        body,
    )
}

fn admin(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    request(
        method,
        &app.url(&format!("/api/v1{path}")),
        Some(token),
        body,
    )
}

fn declare(app: &TestApp, token: &str, body: &Value) -> Resp {
    admin(app, "POST", "/schemas", token, Some(body))
}

fn user_with(app: &TestApp, token: &str, name: &str, ext: Value) -> String {
    let r = scim(
        app,
        "POST",
        "/Users",
        token,
        Some(&json!({"schemas": [USER, EXT], "userName": name, EXT: ext})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

fn extension_listed(app: &TestApp, token: &str) -> bool {
    let r = scim(app, "GET", "/ResourceTypes/User", token, None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == EXT)
}

#[test]
fn a_declaration_is_its_organizations_alone() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let (_, other) = org_with_token(&db, "fabrikam", &["all"]);

    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    assert!(extension_listed(&app, &writer));
    assert!(!extension_listed(&app, &other));
    assert_eq!(
        scim(&app, "GET", &format!("/Schemas/{EXT}"), &other, None).status,
        404
    );
    // The other organization cannot use it …
    let r = scim(
        &app,
        "POST",
        "/Users",
        &other,
        Some(&json!({"schemas": [USER, EXT], "userName": "x", EXT: {"badgeNumber": 1}})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        admin(&app, "GET", &format!("/schemas/{EXT}"), &other, None).status,
        404
    );
    // … and may declare the same URN its own way.
    let r = declare(
        &app,
        &other,
        &contoso(json!([{"name": "badgeNumber", "type": "string"}])),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    user_with(&app, &other, "f", json!({"badgeNumber": "B-1"}));
    let r = scim(
        &app,
        "POST",
        "/Users",
        &writer,
        Some(&json!({"schemas": [USER, EXT], "userName": "c", EXT: {"badgeNumber": "B-1"}})),
    );
    assert_eq!(
        r.status, 400,
        "contoso's badgeNumber is an integer: {}",
        r.body
    );
    // Listing shows each its own.
    let mine = admin(&app, "GET", "/schemas", &writer, None).json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["schema"]["attributes"][1]["type"], "integer");
}

/// Schemas change what the organization serves to every connector: like
/// minting tokens, that takes `all`.
#[test]
fn declaring_and_reading_take_the_all_scope() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let body = contoso(default_attributes());
    assert_eq!(
        request("POST", &app.url("/api/v1/schemas"), None, Some(&body)).status,
        401
    );
    for scope in ["admin:scim", "admin:read", "admin:write", "connect:write"] {
        let token = seed_token(&db, &[scope]);
        assert_eq!(declare(&app, &token, &body).status, 403, "{scope}");
        assert_eq!(
            admin(&app, "GET", "/schemas", &token, None).status,
            403,
            "{scope}"
        );
        assert_eq!(
            admin(&app, "DELETE", &format!("/schemas/{EXT}"), &token, None).status,
            403,
            "{scope}"
        );
    }
    let all = seed_token(&db, &["all"]);
    assert_eq!(declare(&app, &all, &body).status, 201);
    assert_eq!(admin(&app, "GET", "/schemas", &all, None).status, 200);
}

#[test]
fn a_bad_definition_names_each_problem_and_stores_nothing() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let r = declare(
        &app,
        &writer,
        &json!({"extends": "User", "schema": {"id": "not-a-urn", "attributes": [
            {"name": "ok", "type": "string"},
            {"name": "1bad", "type": "string"},
            {"name": "t", "type": "strng"},
            {"name": "ok", "type": "string"},
            {"name": "u", "type": "string", "uniqueness": "global"}
        ]}}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let fields: Vec<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    for expected in ["schema.id", "1bad", "[t]", "[u]"] {
        assert!(
            fields.iter().any(|f| f.contains(expected)),
            "{expected} not named in {fields:?}"
        );
    }
    for (body, what) in [
        (
            json!({"extends": "Device", "schema": {"id": EXT, "attributes": []}}),
            "extends",
        ),
        (
            json!({"extends": "User", "schema": {"id": EXT, "attributes": [{"name": "id", "type": "string"}]}}),
            "common",
        ),
        (
            json!({"extends": "User", "schema": {"id": USER, "attributes": [{"name": "a", "type": "string"}]}}),
            "core URN",
        ),
        (
            json!({"extends": "User", "bogus": 1, "schema": {"id": EXT, "attributes": []}}),
            "unknown key",
        ),
        (
            json!({"extends": "User", "schema": {"id": EXT, "attributes": [{"name": "a", "type": "string", "bogus": true}]}}),
            "unknown characteristic",
        ),
    ] {
        let r = declare(&app, &writer, &body);
        assert_eq!(r.status, 400, "{what}: {}", r.body);
    }
    assert_eq!(
        admin(&app, "GET", "/schemas", &writer, None).json(),
        json!([])
    );
    // Declaring twice is a conflict, not a replace.
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    let r = declare(&app, &writer, &contoso(default_attributes()));
    assert_eq!(r.status, 409, "{}", r.body);
}

/// Two servers on one database, each with its own cache: a schema declared,
/// changed or removed through one is what the other serves on its very next
/// request.
#[test]
fn every_instance_serves_a_change_from_its_next_request() {
    let db = TestDb::new();
    let one = TestApp::new(&db);
    let two = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    // Both have served (and cached) the organization without the schema.
    assert!(!extension_listed(&one, &connector));
    assert!(!extension_listed(&two, &connector));
    let plain = scim(
        &two,
        "POST",
        "/Users",
        &connector,
        Some(&json!({"schemas": [USER], "userName": "before"})),
    );
    assert_eq!(plain.status, 201);

    assert_eq!(
        declare(&one, &writer, &contoso(default_attributes())).status,
        201
    );
    assert!(extension_listed(&two, &connector));
    let id = user_with(
        &two,
        &connector,
        "kim",
        json!({"costCenterCode": "CC-1", "badgeNumber": 7}),
    );
    let r = scim(
        &two,
        "GET",
        &format!("/Users?filter={EXT}:badgeNumber%20eq%207"),
        &connector,
        None,
    );
    assert_eq!(r.json()["totalResults"], 1, "{}", r.body);

    // Retyped through the second; the first validates by the new type.
    let r = admin(
        &two,
        "PUT",
        &format!("/schemas/{EXT}?force=true"),
        &writer,
        Some(&contoso(json!([
            {"name": "costCenterCode", "type": "string"},
            {"name": "badgeNumber", "type": "string"}
        ]))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(
        &one,
        "PATCH",
        &format!("/Users/{id}"),
        &connector,
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{EXT}:badgeNumber"), "value": "B-7"}
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()[EXT]["badgeNumber"], "B-7");

    // Removed through the first; the second refuses it on the next request.
    let r = admin(
        &one,
        "DELETE",
        &format!("/schemas/{EXT}?force=true"),
        &writer,
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!extension_listed(&two, &connector));
    let r = scim(&two, "GET", &format!("/Users/{id}"), &connector, None);
    assert_eq!(r.status, 200);
    assert!(r.json().get(EXT).is_none(), "{}", r.body);
    assert!(!r.json()["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == EXT));
}

#[test]
fn a_change_stored_values_would_violate_is_refused_with_a_count_unless_forced() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let auditor = seed_token(&db, &["admin:read"]);
    let connector = seed_token(&db, &["admin:scim"]);
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    let a = user_with(
        &app,
        &connector,
        "a",
        json!({"costCenterCode": "CC-1", "badgeNumber": 1}),
    );
    let b = user_with(&app, &connector, "b", json!({"costCenterCode": "CC-2"}));
    let before = scim(&app, "GET", &format!("/Users/{a}"), &connector, None);
    let etag = before.header("ETag").unwrap().to_string();

    // Adding an attribute and relaxing nothing: always allowed.
    let widened = contoso(json!([
        {"name": "costCenterCode", "type": "string"},
        {"name": "badgeNumber", "type": "integer"},
        {"name": "floor", "type": "integer"}
    ]));
    let r = admin(
        &app,
        "PUT",
        &format!("/schemas/{EXT}"),
        &writer,
        Some(&widened),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Dropping badgeNumber, which one user holds.
    let narrowed = contoso(json!([
        {"name": "costCenterCode", "type": "string"},
        {"name": "floor", "type": "integer"}
    ]));
    let r = admin(
        &app,
        "PUT",
        &format!("/schemas/{EXT}"),
        &writer,
        Some(&narrowed),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("1 resources") && r.body.contains("badgeNumber"),
        "{}",
        r.body
    );
    let still = scim(&app, "GET", &format!("/Users/{a}"), &connector, None);
    assert_eq!(still.json()[EXT]["badgeNumber"], 1, "nothing changed");
    assert_eq!(still.header("ETag"), Some(etag.as_str()));

    // Requiring costCenterCode is fine (both hold it); requiring the
    // extension is too; requiring floor is not (nobody holds it).
    let required_floor = contoso(json!([
        {"name": "costCenterCode", "type": "string"},
        {"name": "badgeNumber", "type": "integer"},
        {"name": "floor", "type": "integer", "required": true}
    ]));
    let r = admin(
        &app,
        "PUT",
        &format!("/schemas/{EXT}"),
        &writer,
        Some(&required_floor),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("2 resources lack"), "{}", r.body);

    // Forced: the value goes, in the same transaction, with a new version.
    let r = admin(
        &app,
        "PUT",
        &format!("/schemas/{EXT}?force=true"),
        &writer,
        Some(&narrowed),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let after = scim(&app, "GET", &format!("/Users/{a}"), &connector, None);
    assert!(
        after.json()[EXT].get("badgeNumber").is_none(),
        "{}",
        after.body
    );
    assert_eq!(after.json()[EXT]["costCenterCode"], "CC-1");
    assert_ne!(after.header("ETag"), Some(etag.as_str()));
    let untouched = scim(&app, "GET", &format!("/Users/{b}"), &connector, None);
    assert_eq!(untouched.json()[EXT]["costCenterCode"], "CC-2");

    // Removing while users carry it: refused, then forced.
    let r = admin(&app, "DELETE", &format!("/schemas/{EXT}"), &writer, None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("2 User resources"), "{}", r.body);
    assert_eq!(
        admin(
            &app,
            "DELETE",
            &format!("/schemas/{EXT}?force=maybe"),
            &writer,
            None
        )
        .status,
        400
    );
    let r = admin(
        &app,
        "DELETE",
        &format!("/schemas/{EXT}?force=true"),
        &writer,
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        admin(&app, "DELETE", &format!("/schemas/{EXT}"), &writer, None).status,
        404
    );
    let gone = scim(&app, "GET", &format!("/Users/{b}"), &connector, None).json();
    assert!(gone.get(EXT).is_none(), "{gone}");

    let log = get(
        &app.url("/api/v1/audit?resource_type=Schema"),
        Some(&auditor),
    )
    .json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "schema.remove.forced",
            "schema.replace.forced",
            "schema.replace",
            "schema.add"
        ]
    );
}

#[test]
fn a_required_extension_is_required_of_every_new_resource() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    let mut body = contoso(json!([{"name": "costCenterCode", "type": "string", "required": true}]));
    body["required"] = json!(true);
    assert_eq!(declare(&app, &writer, &body).status, 201);
    let rt = scim(&app, "GET", "/ResourceTypes/User", &connector, None).json();
    assert!(rt["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == EXT && e["required"] == true));
    let r = scim(
        &app,
        "POST",
        "/Users",
        &connector,
        Some(&json!({"schemas": [USER], "userName": "no-ext"})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    user_with(
        &app,
        &connector,
        "with-ext",
        json!({"costCenterCode": "CC"}),
    );
    // Declared required while users exist without it: refused.
    let r = admin(
        &app,
        "DELETE",
        &format!("/schemas/{EXT}?force=true"),
        &writer,
        None,
    );
    assert_eq!(r.status, 204);
    scim(
        &app,
        "POST",
        "/Users",
        &connector,
        Some(&json!({"schemas": [USER], "userName": "plain"})),
    );
    let r = declare(&app, &writer, &body);
    assert_eq!(r.status, 409, "{}", r.body);
}

/// AUTH_SECRET (an on-prem install) declares and uses schemas like a token.
#[test]
fn auth_secret_declares_and_uses_a_schema() {
    use scimd::config::Secret;
    let db = TestDb::new();
    let secret = "s".repeat(40);
    let mut config = test_config(&db.url);
    config.auth_secret = Some(Secret::new(secret.clone()));
    let app = TestApp::with_config(config);
    assert!(!extension_listed(&app, &secret));
    assert_eq!(
        declare(&app, &secret, &contoso(default_attributes())).status,
        201
    );
    assert!(extension_listed(&app, &secret));
    let id = user_with(&app, &secret, "k", json!({"badgeNumber": 3}));
    let r = scim(&app, "GET", &format!("/Users/{id}"), &secret, None);
    assert_eq!(r.json()[EXT]["badgeNumber"], 3, "{}", r.body);
}

/// The registry's version rides in the statements the request makes anyway:
/// with a schema declared, the common requests cost what they cost without.
#[test]
fn a_declared_schema_costs_no_round_trip() {
    let db = TestDb::new();
    let proxy = WireProxy::start(socket_path());
    let app = TestApp::with_config(test_config(&proxy.url(&db.name)));
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    let id = user_with(&app, &connector, "first", json!({"costCenterCode": "CC-0"}));
    // (method, path, body, round trips pinned in round_trips.rs)
    let cases: Vec<(&str, String, Option<Value>, usize)> = vec![
        ("GET", format!("/Users/{id}"), None, 1),
        (
            "GET",
            format!("/Users?filter={EXT}:costCenterCode%20eq%20%22CC-0%22"),
            None,
            1,
        ),
        (
            "PATCH",
            format!("/Users/{id}"),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": format!("{EXT}:badgeNumber"), "value": 5}
            ]})),
            2,
        ),
    ];
    for (method, path, body, pinned) in cases {
        for _ in 0..2 {
            let r = scim(&app, method, &path, &connector, body.as_ref());
            assert!(r.status < 300, "{method} {path}: {}", r.body);
        }
        proxy.log.take();
        let r = scim(&app, method, &path, &connector, body.as_ref());
        assert!(r.status < 300, "{method} {path}: {}", r.body);
        let c = cost(&proxy.log.take());
        assert_eq!(c.round_trips, pinned, "{method} {path}: {c:?}");
    }
    for i in 0..3 {
        proxy.log.take();
        user_with(
            &app,
            &connector,
            &format!("u{i}"),
            json!({"badgeNumber": i}),
        );
        let c = cost(&proxy.log.take());
        if i > 0 {
            assert_eq!(c.round_trips, 1, "POST /Users: {c:?}");
        }
    }
}

/// `scimd schema …` declares for a running server, audited under `cli`.
#[test]
fn the_command_line_declares_lists_and_removes() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let connector = seed_token(&db, &["admin:scim"]);
    let auditor = seed_token(&db, &["admin:read"]);
    assert!(!extension_listed(&app, &connector));
    let dir = std::env::temp_dir().join(format!("scimd-schema-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("schemas.json");
    let group_ext = json!({"extends": "Group", "schema": {
        "id": "urn:okta:acme:1.0:group",
        "attributes": [{"name": "oktaGroupId", "type": "string"}]
    }});
    std::fs::write(
        &file,
        json!([contoso(default_attributes()), group_ext]).to_string(),
    )
    .unwrap();
    let path = file.to_str().unwrap();

    let out = scimd(&db, &["schema", "add", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        extension_listed(&app, &connector),
        "served from the next request"
    );
    let out = scimd(&db, &["schema", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(EXT) && listed.contains("urn:okta:acme:1.0:group"),
        "{listed}"
    );
    let out = scimd(&db, &["schema", "show", EXT]);
    let shown: Value = serde_json::from_slice(&out.stdout).expect("show prints JSON");
    assert_eq!(shown["schema"]["attributes"][1]["name"], "badgeNumber");

    // A second add of the same file is refused, naming the schema.
    let out = scimd(&db, &["schema", "add", path]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already declared"));
    // A bad definition names the field.
    std::fs::write(
        &file,
        contoso(json!([{"name": "x", "type": "strng"}])).to_string(),
    )
    .unwrap();
    let out = scimd(&db, &["schema", "replace", path]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema.attributes[x]"));

    user_with(&app, &connector, "k", json!({"badgeNumber": 1}));
    let out = scimd(&db, &["schema", "remove", EXT]);
    assert!(!out.status.success(), "held by a user");
    let out = scimd(&db, &["schema", "remove", EXT, "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!extension_listed(&app, &connector));

    let log = get(
        &app.url("/api/v1/audit?resource_type=Schema"),
        Some(&auditor),
    )
    .json();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    for e in entries {
        assert_eq!(e["actor"]["name"], "cli", "{e}");
        assert!(e["actor"]["token_id"].is_null(), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `uniqueness: "server"` on a declared attribute holds within the
/// organization under concurrency: of 20 creates with one value at once,
/// exactly one succeeds and the rest are `409 uniqueness`. Another
/// organization may hold the same value.
#[test]
fn a_unique_declared_attribute_admits_one_holder_under_concurrency() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    let (_, other) = org_with_token(&db, "fabrikam", &["all"]);
    let unique = contoso(json!([
        {"name": "badgeNumber", "type": "integer", "uniqueness": "server"},
        {"name": "costCenterCode", "type": "string", "uniqueness": "server"}
    ]));
    assert_eq!(declare(&app, &writer, &unique).status, 201);
    assert_eq!(declare(&app, &other, &unique).status, 201);
    let r = scim(&app, "GET", &format!("/Schemas/{EXT}"), &connector, None);
    assert_eq!(
        r.json()["attributes"][0]["uniqueness"],
        "server",
        "{}",
        r.body
    );

    let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let (app, connector) = (&app, &connector);
                s.spawn(move || {
                    let r = scim(
                        app,
                        "POST",
                        "/Users",
                        connector,
                        Some(
                            &json!({"schemas": [USER, EXT], "userName": format!("racer{i}"),
                            EXT: {"badgeNumber": 4242}}),
                        ),
                    );
                    (r.status, r.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{statuses:?}");
    for (status, body) in statuses.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["scimType"], "uniqueness", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("badgenumber"),
            "{body}"
        );
    }
    // Case folds for a caseExact:false string.
    let holder = user_with(&app, &connector, "cc", json!({"costCenterCode": "CC-1"}));
    for dup in [
        json!({"badgeNumber": 4242}),
        json!({"costCenterCode": "cc-1"}),
    ] {
        let r = scim(
            &app,
            "POST",
            "/Users",
            &connector,
            Some(&json!({"schemas": [USER, EXT], "userName": "dup", EXT: dup})),
        );
        assert_eq!(r.status, 409, "{dup}: {}", r.body);
    }
    // Its own value kept on replace; a value freed by PATCH is free again.
    let r = scim(
        &app,
        "PATCH",
        &format!("/Users/{holder}"),
        &connector,
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{EXT}:costCenterCode"), "value": "CC-1"}
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(
        &app,
        "PATCH",
        &format!("/Users/{holder}"),
        &connector,
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{EXT}:costCenterCode"), "value": "CC-2"}
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    user_with(&app, &connector, "taker", json!({"costCenterCode": "CC-1"}));
    // The other organization is not affected.
    user_with(
        &app,
        &other,
        "elsewhere",
        json!({"badgeNumber": 4242, "costCenterCode": "CC-1"}),
    );
    // A deleted holder frees its value.
    let r = scim(
        &app,
        "DELETE",
        &format!("/Users/{holder}"),
        &connector,
        None,
    );
    assert_eq!(r.status, 204);
    user_with(
        &app,
        &connector,
        "after-delete",
        json!({"costCenterCode": "CC-2"}),
    );
}

/// Making an attribute unique while resources share a value is refused
/// with the count; once they differ it applies, and filters find values
/// through the index from then on.
#[test]
fn tightening_uniqueness_over_duplicates_is_refused_with_the_count() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    let a = user_with(&app, &connector, "a", json!({"costCenterCode": "Same"}));
    user_with(&app, &connector, "b", json!({"costCenterCode": "same"}));
    user_with(&app, &connector, "c", json!({"costCenterCode": "Other"}));
    let unique = contoso(json!([
        {"name": "costCenterCode", "type": "string", "uniqueness": "server"},
        {"name": "badgeNumber", "type": "integer"}
    ]));
    for force in ["", "?force=true"] {
        let r = admin(
            &app,
            "PUT",
            &format!("/schemas/{EXT}{force}"),
            &writer,
            Some(&unique),
        );
        assert_eq!(r.status, 409, "{force}: {}", r.body);
        assert!(r.body.contains("1 values"), "{}", r.body);
    }
    let r = scim(
        &app,
        "PATCH",
        &format!("/Users/{a}"),
        &connector,
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{EXT}:costCenterCode"), "value": "Third"}
        ]})),
    );
    assert_eq!(r.status, 200);
    let r = admin(
        &app,
        "PUT",
        &format!("/schemas/{EXT}"),
        &writer,
        Some(&unique),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(
        &app,
        "GET",
        &format!("/Users?filter={EXT}:costCenterCode%20eq%20%22SAME%22"),
        &connector,
        None,
    );
    assert_eq!(r.json()["totalResults"], 1, "{}", r.body);
    let r = scim(
        &app,
        "POST",
        "/Users",
        &connector,
        Some(&json!({"schemas": [USER, EXT], "userName": "d", EXT: {"costCenterCode": "other"}})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
}

/// `undeclared_attributes: ignore`: a write naming attributes nobody
/// declared goes ahead without them, and its audit entry lists them; the
/// default refuses them. Switched on one instance, applied by the other
/// from its next request.
#[test]
fn undeclared_attributes_are_refused_by_default_and_listed_when_ignored() {
    let db = TestDb::new();
    let one = TestApp::new(&db);
    let two = TestApp::new(&db);
    let admin_token = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    let auditor = seed_token(&db, &["admin:read"]);
    assert_eq!(
        declare(&one, &admin_token, &contoso(default_attributes())).status,
        201
    );
    let body = json!({
        "schemas": [USER, EXT, "urn:example:unknown:1.0:User"],
        "userName": "iggy",
        "nickName": "Ig",
        "shoeSize": 44,
        "name": {"givenName": "Ig", "middleInitial": "Q"},
        EXT: {"costCenterCode": "CC-9", "floor": 3},
        "urn:example:unknown:1.0:User": {"x": 1}
    });
    // The default: refused, naming the attribute; the setting says so.
    let r = scim(&two, "POST", "/Users", &connector, Some(&body));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidValue");
    let r = admin(&one, "GET", "/settings", &admin_token, None);
    assert_eq!(r.json(), json!({"undeclared_attributes": "reject"}));
    assert_eq!(
        admin(
            &one,
            "PUT",
            "/settings",
            &admin_token,
            Some(&json!({"undeclared_attributes": "maybe"}))
        )
        .status,
        400
    );
    assert_eq!(
        admin(
            &one,
            "PUT",
            "/settings",
            &connector,
            Some(&json!({"undeclared_attributes": "ignore"}))
        )
        .status,
        403
    );

    let r = admin(
        &one,
        "PUT",
        "/settings",
        &admin_token,
        Some(&json!({"undeclared_attributes": "ignore"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(&two, "POST", "/Users", &connector, Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let user = r.json();
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["nickName"], "Ig", "declared ones kept");
    assert!(user.get("shoeSize").is_none(), "{user}");
    assert!(user["name"].get("middleInitial").is_none(), "{user}");
    assert_eq!(user[EXT], json!({"costCenterCode": "CC-9"}));
    assert!(user.get("urn:example:unknown:1.0:User").is_none());
    assert!(!user["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "urn:example:unknown:1.0:User"));

    // A PATCH naming an undeclared attribute does nothing for it.
    let r = scim(
        &one,
        "PATCH",
        &format!("/Users/{id}"),
        &connector,
        Some(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "hatSize", "value": "7"},
            {"op": "replace", "path": format!("{EXT}:costCenterCode"), "value": "CC-10"},
            {"op": "add", "value": {"favoriteColor": "teal", "title": "Boss"}}
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()[EXT]["costCenterCode"], "CC-10");
    assert_eq!(r.json()["title"], "Boss");
    assert!(r.json().get("hatSize").is_none() && r.json().get("favoriteColor").is_none());

    let log = get(&one.url("/api/v1/audit?resource_type=User"), Some(&auditor)).json();
    let entries = log["entries"].as_array().unwrap();
    let patch = &entries[0];
    assert_eq!(patch["action"], "user.patch", "{log}");
    assert_eq!(
        patch["details"]["ignored_attributes"],
        json!(["hatSize", "favoriteColor"]),
        "{patch}"
    );
    let create = &entries[1];
    let listed: Vec<&str> = create["details"]["ignored_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for want in [
        "schemas: urn:example:unknown:1.0:User",
        "shoeSize",
        "name.middleInitial",
        &format!("{EXT}:floor"),
        "urn:example:unknown:1.0:User",
    ] {
        assert!(listed.contains(&want), "{want} not in {listed:?}");
    }
    let settings = get(
        &one.url("/api/v1/audit?resource_type=Organization"),
        Some(&auditor),
    )
    .json();
    assert_eq!(
        settings["entries"][0]["details"]["undeclared_attributes"], "ignore",
        "{settings}"
    );

    // Back to reject: refused again, on the other instance too.
    let r = admin(
        &two,
        "PUT",
        "/settings",
        &admin_token,
        Some(&json!({"undeclared_attributes": "reject"})),
    );
    assert_eq!(r.status, 200);
    let r = scim(
        &one,
        "PATCH",
        &format!("/Users/{id}"),
        &connector,
        Some(
            &json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "hatSize", "value": "7"}]}),
        ),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidPath");
}

/// Characteristics the built-in User has no attribute of the right shape
/// for: `immutable` (set once, then refused when changed), `returned:
/// "request"` (only when asked for) and `"always"`; and declared
/// attributes through Bulk, with ETags moving on each write.
#[test]
fn immutable_returned_and_bulk_work_on_declared_attributes() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    let connector = seed_token(&db, &["admin:scim"]);
    let body = contoso(json!([
        {"name": "employeeId", "type": "string", "mutability": "immutable"},
        {"name": "clearance", "type": "integer", "returned": "request"},
        {"name": "region", "type": "string", "returned": "always"}
    ]));
    assert_eq!(declare(&app, &writer, &body).status, 201);
    let id = user_with(
        &app,
        &connector,
        "imm",
        json!({"employeeId": "E-1", "clearance": 3, "region": "emea"}),
    );
    let r = scim(&app, "GET", &format!("/Users/{id}"), &connector, None);
    let v1 = r.header("ETag").unwrap().to_string();
    assert_eq!(
        r.json()[EXT],
        json!({"employeeId": "E-1", "region": "emea"}),
        "{}",
        r.body
    );
    let r = scim(
        &app,
        "GET",
        &format!("/Users/{id}?attributes={EXT}:clearance"),
        &connector,
        None,
    );
    assert_eq!(
        r.json()[EXT],
        json!({"clearance": 3, "region": "emea"}),
        "{}",
        r.body
    );
    let r = scim(
        &app,
        "GET",
        &format!("/Users/{id}?attributes=userName"),
        &connector,
        None,
    );
    assert_eq!(
        r.json()[EXT],
        json!({"region": "emea"}),
        "always is always: {}",
        r.body
    );

    let change = |value: &str| {
        json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{EXT}:employeeId"), "value": value}
        ]})
    };
    let r = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &connector,
        Some(&change("E-2")),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "mutability");
    let r = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &connector,
        Some(&change("E-1")),
    );
    assert_eq!(r.status, 200, "the same value is no change: {}", r.body);

    // Bulk: create with the extension, then patch it by bulkId reference.
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "b1",
             "data": {"schemas": [USER, EXT], "userName": "bulky", EXT: {"employeeId": "E-9", "region": "apac"}}},
            {"method": "PATCH", "path": "/Users/bulkId:b1",
             "data": {"schemas": [PATCH], "Operations": [
                 {"op": "add", "path": format!("{EXT}:clearance"), "value": 5}]}},
            {"method": "PATCH", "path": format!("/Users/{id}"), "version": v1,
             "data": {"schemas": [PATCH], "Operations": [
                 {"op": "replace", "path": format!("{EXT}:region"), "value": "amer"}]}}
        ]
    });
    let r = scim(&app, "POST", "/Bulk", &connector, Some(&bulk));
    assert_eq!(r.status, 200, "{}", r.body);
    let ops = r.json()["Operations"].as_array().unwrap().clone();
    assert_eq!(ops[0]["status"], "201", "{ops:?}");
    assert_eq!(ops[1]["status"], "200", "{ops:?}");
    // v1 still holds: the same-value PATCH above changed nothing.
    assert_eq!(ops[2]["status"], "200", "{ops:?}");
    let r = scim(
        &app,
        "GET",
        &format!("/Users?filter={EXT}:employeeId%20eq%20%22E-9%22&attributes={EXT}:clearance"),
        &connector,
        None,
    );
    assert_eq!(r.json()["Resources"][0][EXT]["clearance"], 5, "{}", r.body);
    let r = scim(&app, "GET", &format!("/Users/{id}"), &connector, None);
    assert_ne!(r.header("ETag"), Some(v1.as_str()));
    assert_eq!(r.json()[EXT]["region"], "amer");
}

/// `SCIMD_MAX_SCHEMAS_PER_ORG` caps declarations per organization: one
/// more is `409` saying the limit.
#[test]
fn the_schema_limit_is_configurable_and_refused_with_409() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.max_schemas_per_org = 1;
    let app = TestApp::with_config(config);
    let writer = seed_token(&db, &["all"]);
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    let second = json!({"extends": "Group", "schema": {"id": "urn:okta:acme:1.0:group",
        "attributes": [{"name": "a", "type": "string"}]}});
    let r = declare(&app, &writer, &second);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("1 schemas"), "{}", r.body);
}

/// Discovery needs no credential (the `default` organization's view), but
/// a credential that is sent must be good: a bad one is a 401 there too,
/// not an anonymous answer.
#[test]
fn discovery_is_open_but_refuses_a_bad_credential() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let writer = seed_token(&db, &["all"]);
    assert_eq!(
        declare(&app, &writer, &contoso(default_attributes())).status,
        201
    );
    for path in ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig"] {
        let url = app.url(&format!("/scim/v2{path}"));
        assert_eq!(get(&url, None).status, 200, "{path}");
        assert_eq!(
            get(&url, Some("scimd_not-a-real-token")).status,
            401,
            "{path}"
        );
    }
    // Anonymous callers see the default organization's declarations.
    let r = get(&app.url(&format!("/scim/v2/Schemas/{EXT}")), None);
    assert_eq!(r.status, 200, "{}", r.body);
}
