//! Resource types declared at runtime, with their own endpoints: the agent
//! types of the SCIM agent drafts, loaded from `schemas/agents.json` with
//! one `scimd schema add`, are first-class resources: CRUD with ETags,
//! filters, sorting and paging, `/.search`, audit entries, and isolation
//! between organizations.

use serde_json::{json, Value};

use crate::harness::client::{request, Resp};
use crate::harness::{get, org_with_token, scimd, seed_token, TestApp, TestDb};

const AGENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn scim(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    request(
        method,
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        body,
    )
}

fn agents_file() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/agents.json")
}

fn agent(name: &str) -> Value {
    json!({"schemas": [AGENT], "name": name, "displayName": format!("Agent {name}"), "active": true,
           "agentType": "assistant", "protocols": ["mcp"],
           "owners": [{"value": "0190a5b0-0000-7000-8000-000000000001", "type": "User"}]})
}

#[test]
fn the_agent_types_load_with_one_command_and_are_first_class() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let connector = seed_token(&db, &["admin:scim"]);
    let auditor = seed_token(&db, &["admin:read"]);
    let (_, other) = org_with_token(&db, "fabrikam", &["all"]);
    assert_eq!(scim(&app, "GET", "/Agents", &connector, None).status, 404);

    let out = scimd(&db, &["schema", "add", agents_file()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Discovery shows both types and their schemas.
    let rts = scim(&app, "GET", "/ResourceTypes", &connector, None).json();
    let names: Vec<&str> = rts["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Agent") && names.contains(&"AgenticApplication"),
        "{names:?}"
    );
    let rt = scim(&app, "GET", "/ResourceTypes/Agent", &connector, None).json();
    assert_eq!(rt["endpoint"], "/Agents");
    assert_eq!(rt["schema"], AGENT);
    assert_eq!(
        scim(&app, "GET", &format!("/Schemas/{AGENT}"), &connector, None).status,
        200
    );

    // Create, read, replace, patch.
    let r = scim(&app, "POST", "/Agents", &connector, Some(&agent("alpha")));
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["meta"]["resourceType"], "Agent");
    assert!(created["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Agents/{id}")));
    assert_eq!(r.header("Location"), created["meta"]["location"].as_str());
    let etag = r.header("ETag").unwrap().to_string();
    assert_eq!(created["protocols"], json!(["mcp"]));

    let r = scim(&app, "GET", &format!("/Agents/{id}"), &connector, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "alpha");

    let mut put = created.clone();
    put.as_object_mut().unwrap().remove("meta");
    put["displayName"] = json!("Renamed");
    let r = scim(
        &app,
        "PUT",
        &format!("/Agents/{id}"),
        &connector,
        Some(&put),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["displayName"], "Renamed");
    assert_ne!(r.header("ETag"), Some(etag.as_str()));

    let r = request(
        "PATCH",
        &app.url(&format!("/scim/v2/Agents/{id}")),
        Some(&connector),
        Some(
            &json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    // A stale If-Match is refused.
    let r = ureq::request("PATCH", &app.url(&format!("/scim/v2/Agents/{id}")))
        .set("Authorization", &format!("Bearer {connector}"))
        .set("If-Match", &etag)
        .set("Content-Type", "application/scim+json")
        .send_string(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": true}]}).to_string());
    assert_eq!(crate::harness::client::finish(r).status, 412);

    // Validation by the declared core schema.
    let r = scim(
        &app,
        "POST",
        "/Agents",
        &connector,
        Some(&json!({"schemas": [AGENT], "displayName": "no name"})),
    );
    assert_eq!(r.status, 400, "name is required: {}", r.body);
    let r = scim(
        &app,
        "POST",
        "/Agents",
        &connector,
        Some(&json!({"schemas": [AGENT], "name": "b", "shoeSize": 3})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = scim(
        &app,
        "POST",
        "/Agents",
        &connector,
        Some(&json!({"schemas": [AGENT], "name": "b", "active": "perhaps"})),
    );
    assert_eq!(r.status, 400, "{}", r.body);

    // Filters, sorting, paging and .search.
    for n in ["beta", "gamma", "delta"] {
        assert_eq!(
            scim(&app, "POST", "/Agents", &connector, Some(&agent(n))).status,
            201
        );
    }
    let r = scim(
        &app,
        "GET",
        "/Agents?filter=name%20eq%20%22GAMMA%22",
        &connector,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 1, "{r}");
    let r = scim(
        &app,
        "GET",
        "/Agents?filter=protocols%20eq%20%22mcp%22%20and%20active%20eq%20true&sortBy=name&count=2",
        &connector,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 3, "{r}");
    let names: Vec<&str> = r["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beta", "delta"]);
    let r = scim(
        &app,
        "POST",
        "/Agents/.search",
        &connector,
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "owners.type eq \"User\"", "attributes": ["name"], "sortBy": "name", "sortOrder": "descending"
        })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["totalResults"], 4);
    assert_eq!(body["Resources"][0]["name"], "gamma");
    assert!(body["Resources"][0].get("displayName").is_none());
    let r = scim(
        &app,
        "GET",
        "/Agents?filter=bogus%20eq%201",
        &connector,
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["scimType"], "invalidFilter");
    let page = scim(
        &app,
        "GET",
        "/Agents?cursor&count=3&sortBy=name",
        &connector,
        None,
    )
    .json();
    assert_eq!(page["Resources"].as_array().unwrap().len(), 3, "{page}");
    let next = page["nextCursor"].as_str().expect("cursor");
    let rest = scim(
        &app,
        "GET",
        &format!("/Agents?cursor={next}&count=3&sortBy=name"),
        &connector,
        None,
    )
    .json();
    assert_eq!(rest["Resources"].as_array().unwrap().len(), 1, "{rest}");

    // The root /.search finds them beside users, in one ListResponse.
    scim(
        &app,
        "POST",
        "/Users",
        &connector,
        Some(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "gamma"}),
        ),
    );
    let r = scim(
        &app,
        "POST",
        "/.search",
        &connector,
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName eq \"gamma\" or displayName eq \"Agent gamma\"", "count": 10
        })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["totalResults"], 2, "{body}");
    let types: Vec<&str> = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "Agent"]);
    let r = scim(
        &app,
        "POST",
        "/.search",
        &connector,
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "agentType eq \"assistant\"", "startIndex": 2, "count": 2
        })),
    );
    let body = r.json();
    assert_eq!(body["totalResults"], 4, "{body}");
    assert_eq!(body["Resources"].as_array().unwrap().len(), 2, "{body}");

    // Another organization has no such endpoint, and cannot reach the agent.
    assert_eq!(scim(&app, "GET", "/Agents", &other, None).status, 404);
    assert_eq!(
        scim(&app, "GET", &format!("/Agents/{id}"), &other, None).status,
        404
    );

    // Delete; the audit log saw every change.
    assert_eq!(
        scim(&app, "DELETE", &format!("/Agents/{id}"), &connector, None).status,
        204
    );
    assert_eq!(
        scim(&app, "GET", &format!("/Agents/{id}"), &connector, None).status,
        404
    );
    let log = get(
        &app.url("/api/v1/audit?resource_type=Agent"),
        Some(&auditor),
    )
    .json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "agent.create",
        "agent.replace",
        "agent.patch",
        "agent.delete",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }

    // The type cannot go while it has resources, unless forced.
    let out = scimd(&db, &["schema", "remove", "Agent"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 Agent resources"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = scimd(&db, &["schema", "remove", "Agent", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(scim(&app, "GET", "/Agents", &connector, None).status, 404);
}

#[test]
fn a_resource_type_definition_is_checked_and_needs_all() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let writer = seed_token(&db, &["admin:write"]);
    let body = |endpoint: &str| {
        json!({"resourceType": {"name": "Device", "endpoint": endpoint, "schema": "urn:acme:device:1.0"},
               "schema": {"id": "urn:acme:device:1.0", "attributes": [{"name": "serial", "type": "string", "required": true}]}})
    };
    let post = |token: &str, b: &Value| {
        request(
            "POST",
            &app.url("/api/v1/resource-types"),
            Some(token),
            Some(b),
        )
    };
    assert_eq!(post(&writer, &body("/Devices")).status, 403);
    for bad in ["/Users", "/Schemas", "Devices", "/Dev ices"] {
        let r = post(&admin, &body(bad));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.contains("resourceType.endpoint"), "{}", r.body);
    }
    let r = post(&admin, &body("/Devices"));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(&admin, &body("/Devices"));
    assert_eq!(r.status, 400, "declared twice: {}", r.body);
    let r = scim(
        &app,
        "POST",
        "/Devices",
        &admin,
        Some(&json!({"schemas": ["urn:acme:device:1.0"], "serial": "S-1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    // Dropping an attribute the device holds: refused with the count, then forced.
    let narrower = json!({"resourceType": {"name": "Device", "endpoint": "/Devices", "schema": "urn:acme:device:1.0"},
        "schema": {"id": "urn:acme:device:1.0", "attributes": [{"name": "model", "type": "string"}]}});
    let r = request(
        "PUT",
        &app.url("/api/v1/resource-types/device"),
        Some(&admin),
        Some(&narrower),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("1 resources"), "{}", r.body);
    let r = request(
        "PUT",
        &app.url("/api/v1/resource-types/Device?force=true"),
        Some(&admin),
        Some(&narrower),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(&app, "GET", &format!("/Devices/{id}"), &admin, None);
    assert!(r.json().get("serial").is_none(), "{}", r.body);
    let listed = request(
        "GET",
        &app.url("/api/v1/resource-types"),
        Some(&admin),
        None,
    )
    .json();
    assert_eq!(listed[0]["endpoint"], "/Devices", "{listed}");
}

/// Bulk reaches declared types like Users and Groups, bulkId references
/// included.
#[test]
fn bulk_creates_patches_and_deletes_declared_resources() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let connector = seed_token(&db, &["admin:scim"]);
    let out = scimd(&db, &["schema", "add", agents_file()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Agents", "bulkId": "a1", "data": agent("bulk-one")},
            {"method": "POST", "path": "/AgenticApplications", "bulkId": "app",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:AgenticApplication"], "name": "suite",
                      "agents": [{"value": "bulkId:a1"}]}},
            {"method": "PATCH", "path": "/Agents/bulkId:a1",
             "data": {"schemas": [PATCH], "Operations": [{"op": "add", "path": "applications", "value": [{"value": "bulkId:app"}]}]}},
            {"method": "POST", "path": "/Agents", "bulkId": "bad", "data": {"schemas": [AGENT]}},
            {"method": "POST", "path": "/Nowhere", "bulkId": "x", "data": {"schemas": [AGENT], "name": "n"}}
        ]
    });
    let r = scim(&app, "POST", "/Bulk", &connector, Some(&bulk));
    assert_eq!(r.status, 200, "{}", r.body);
    let ops = r.json()["Operations"].as_array().unwrap().clone();
    assert_eq!(ops[0]["status"], "201", "{ops:?}");
    assert_eq!(ops[1]["status"], "201", "{ops:?}");
    assert_eq!(ops[2]["status"], "200", "{ops:?}");
    assert_eq!(ops[3]["status"], "400", "name is required: {ops:?}");
    assert_eq!(ops[4]["status"], "400", "{ops:?}");
    let location = ops[0]["location"].as_str().unwrap();
    let id = location.rsplit('/').next().unwrap();
    let app_id = ops[1]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let agent = scim(&app, "GET", &format!("/Agents/{id}"), &connector, None).json();
    assert_eq!(agent["applications"][0]["value"], app_id, "{agent}");
    let suite = scim(
        &app,
        "GET",
        &format!("/AgenticApplications/{app_id}"),
        &connector,
        None,
    )
    .json();
    assert_eq!(suite["agents"][0]["value"], id, "{suite}");
    let del = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "DELETE", "path": format!("/Agents/{id}")}]});
    let r = scim(&app, "POST", "/Bulk", &connector, Some(&del));
    assert_eq!(r.json()["Operations"][0]["status"], "204", "{}", r.body);
    assert_eq!(
        scim(&app, "GET", &format!("/Agents/{id}"), &connector, None).status,
        404
    );
}

/// Two organizations declaring the same type each see their own resources
/// only, on every route.
#[test]
fn organizations_with_the_same_declared_type_never_see_each_others_resources() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let mine = seed_token(&db, &["admin:scim"]);
    let (_, theirs) = org_with_token(&db, "other", &["all"]);
    for org in ["default", "other"] {
        let out = scimd(&db, &["schema", "add", agents_file(), "--org", org]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let r = scim(&app, "POST", "/Agents", &mine, Some(&agent("shared")));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let path = format!("/Agents/{id}");
    assert_eq!(scim(&app, "GET", &path, &theirs, None).status, 404);
    assert_eq!(
        scim(&app, "PUT", &path, &theirs, Some(&agent("stolen"))).status,
        404
    );
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(
        scim(&app, "PATCH", &path, &theirs, Some(&patch)).status,
        404
    );
    assert_eq!(scim(&app, "DELETE", &path, &theirs, None).status, 404);
    assert_eq!(
        scim(&app, "GET", "/Agents", &theirs, None).json()["totalResults"],
        0
    );
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"Agent shared\""});
    assert_eq!(
        scim(&app, "POST", "/.search", &theirs, Some(&search)).json()["totalResults"],
        0
    );
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "DELETE", "path": path}]});
    let r = scim(&app, "POST", "/Bulk", &theirs, Some(&bulk));
    assert_eq!(r.json()["Operations"][0]["status"], "404", "{}", r.body);
    // Still mine, untouched.
    let r = scim(&app, "GET", &path, &mine, None);
    assert_eq!((r.status, r.json()["active"].clone()), (200, json!(true)));
    assert_eq!(
        scim(&app, "POST", "/Agents", &theirs, Some(&agent("shared"))).status,
        201
    );
}

/// `uniqueness: "server"` on a declared type's core attribute holds under
/// concurrency, and `eq` on its core attributes uses the value rows.
#[test]
fn a_declared_type_can_have_unique_core_attributes() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let body = json!({"resourceType": {"name": "Device", "endpoint": "/Devices", "schema": "urn:acme:device:1.0"},
        "schema": {"id": "urn:acme:device:1.0", "attributes": [
            {"name": "serial", "type": "string", "required": true, "uniqueness": "server"},
            {"name": "model", "type": "string"}]}});
    let r = request(
        "POST",
        &app.url("/api/v1/resource-types"),
        Some(&admin),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let device =
        |serial: &str| json!({"schemas": ["urn:acme:device:1.0"], "serial": serial, "model": "M1"});
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (app, admin) = (&app, &admin);
                s.spawn(move || scim(app, "POST", "/Devices", admin, Some(&device("SN-1"))).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
    let r = scim(&app, "POST", "/Devices", &admin, Some(&device("sn-1")));
    assert_eq!(r.status, 409, "case folds: {}", r.body);
    assert_eq!(r.json()["scimType"], "uniqueness");
    assert_eq!(
        scim(&app, "POST", "/Devices", &admin, Some(&device("SN-2"))).status,
        201
    );
    let r = scim(
        &app,
        "GET",
        "/Devices?filter=serial%20eq%20%22sn-2%22",
        &admin,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 1, "{r}");
    let r = scim(
        &app,
        "GET",
        "/Devices?filter=model%20sw%20%22m%22",
        &admin,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 2, "{r}");
}

/// A declared type can be extended like User and Group: the extension is
/// listed under it, validated, filtered through its value rows, patched by
/// URN path, and removed with its values only when forced; the type cannot
/// go while an extension names it.
#[test]
fn a_declared_type_can_be_extended() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let admin = seed_token(&db, &["all"]);
    let ext = "urn:acme:device:ext:1.0";
    let post = |path: &str, b: &Value| request("POST", &app.url(path), Some(&admin), Some(b));
    let r = post(
        "/api/v1/resource-types",
        &json!({
        "resourceType": {"name": "Device", "endpoint": "/Devices", "schema": "urn:acme:device:1.0"},
        "schema": {"id": "urn:acme:device:1.0", "attributes": [{"name": "serial", "type": "string", "required": true}]}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(
        "/api/v1/schemas",
        &json!({"extends": "device", "schema": {"id": ext,
        "attributes": [{"name": "site", "type": "string"}, {"name": "rack", "type": "integer"}]}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(
        "/api/v1/schemas",
        &json!({"extends": "Toaster", "schema": {"id": "urn:acme:t:1.0",
        "attributes": [{"name": "a", "type": "string"}]}}),
    );
    assert_eq!(r.status, 400, "no such type: {}", r.body);
    let rt = scim(&app, "GET", "/ResourceTypes/Device", &admin, None).json();
    assert_eq!(rt["schemaExtensions"][0]["schema"], ext, "{rt}");

    let r = scim(
        &app,
        "POST",
        "/Devices",
        &admin,
        Some(&json!({
        "schemas": ["urn:acme:device:1.0", ext], "serial": "S-1", ext: {"site": "Lyon", "rack": 4}})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()[ext]["site"], "Lyon");
    let r = scim(
        &app,
        "POST",
        "/Devices",
        &admin,
        Some(&json!({
        "schemas": ["urn:acme:device:1.0", ext], "serial": "S-2", ext: {"rack": "four"}})),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = scim(
        &app,
        "GET",
        &format!("/Devices?filter={ext}:site%20eq%20%22LYON%22"),
        &admin,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 1, "{r}");
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": format!("{ext}:rack"), "value": 5}]});
    let r = scim(
        &app,
        "PATCH",
        &format!("/Devices/{id}"),
        &admin,
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()[ext]["rack"], 5);

    // Replacing the type's core schema keeps the extension's value rows.
    let r = request(
        "PUT",
        &app.url("/api/v1/resource-types/Device"),
        Some(&admin),
        Some(&json!({
            "resourceType": {"name": "Device", "endpoint": "/Devices", "schema": "urn:acme:device:1.0"},
            "schema": {"id": "urn:acme:device:1.0", "attributes": [
                {"name": "serial", "type": "string", "required": true},
                {"name": "model", "type": "string"}]}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim(
        &app,
        "GET",
        &format!("/Devices?filter={ext}:rack%20eq%205"),
        &admin,
        None,
    )
    .json();
    assert_eq!(r["totalResults"], 1, "{r}");

    let r = request(
        "DELETE",
        &app.url("/api/v1/resource-types/Device?force=true"),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 409, "extended: {}", r.body);
    let r = request(
        "DELETE",
        &app.url(&format!("/api/v1/schemas/{ext}")),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 409, "held: {}", r.body);
    assert!(
        r.body.contains("1 Device resources") || r.body.contains("1 device resources"),
        "{}",
        r.body
    );
    let r = request(
        "DELETE",
        &app.url(&format!("/api/v1/schemas/{ext}?force=true")),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let d = scim(&app, "GET", &format!("/Devices/{id}"), &admin, None).json();
    assert!(d.get(ext).is_none(), "{d}");
    let r = request(
        "DELETE",
        &app.url("/api/v1/resource-types/Device?force=true"),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
}
