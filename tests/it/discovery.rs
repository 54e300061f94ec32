//! The discovery endpoints (RFC 7644 §4) over HTTP: what the
//! ServiceProviderConfig claims, and `attributes` / `excludedAttributes` on
//! it, on `/Schemas` and on `/ResourceTypes`.

use serde_json::{json, Value};

use crate::harness::client::get;
use crate::harness::{TestApp, TestDb};

const SCHEMA_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn read(app: &TestApp, path: &str) -> Value {
    let r = get(&app.url(&format!("/scim/v2{path}")), None);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[test]
fn the_service_provider_config_claims_what_is_served() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let spc = read(&app, "/ServiceProviderConfig");
    for feature in ["patch", "bulk", "filter", "sort", "etag", "changePassword"] {
        assert_eq!(spc[feature]["supported"], true, "{feature}: {spc}");
    }
    assert!(spc["bulk"]["maxOperations"].as_u64().unwrap() > 0);
    assert!(spc["filter"]["maxResults"].as_u64().unwrap() > 0);
    assert_eq!(spc["pagination"]["cursor"], true, "{spc}");
}

#[test]
fn discovery_resources_apply_attributes_and_excluded_attributes() {
    let db = TestDb::new();
    let app = TestApp::new(&db);

    let spc = read(
        &app,
        "/ServiceProviderConfig?attributes=patch,bulk.maxOperations",
    );
    assert_eq!(keys(&spc), ["bulk", "patch", "schemas"]);
    assert_eq!(keys(&spc["bulk"]), ["maxOperations"]);
    let spc = read(
        &app,
        "/ServiceProviderConfig?excludedAttributes=authenticationSchemes,meta",
    );
    assert!(spc.get("authenticationSchemes").is_none() && spc.get("meta").is_none());
    assert_eq!(spc["patch"]["supported"], true);

    let list = read(&app, "/Schemas?attributes=name");
    let resources = list["Resources"].as_array().unwrap();
    assert_eq!(list["totalResults"], resources.len());
    for s in resources {
        assert_eq!(keys(s), ["id", "name", "schemas"], "{s}");
    }
    let user = read(
        &app,
        &format!("/Schemas/{SCHEMA_USER}?attributes=attributes.name"),
    );
    assert_eq!(keys(&user), ["attributes", "id", "schemas"]);
    assert_eq!(user["attributes"][0], json!({"name": "userName"}));
    let user = read(
        &app,
        &format!("/Schemas/{SCHEMA_USER}?excludedAttributes=attributes"),
    );
    assert!(
        user.get("attributes").is_none() && user["name"] == "User",
        "{user}"
    );

    let types = read(&app, "/ResourceTypes?attributes=endpoint");
    for rt in types["Resources"].as_array().unwrap() {
        assert_eq!(keys(rt), ["endpoint", "id", "schemas"], "{rt}");
    }
    let group = read(
        &app,
        "/ResourceTypes/Group?excludedAttributes=schemaExtensions,meta,description",
    );
    assert_eq!(
        keys(&group),
        ["endpoint", "id", "name", "schema", "schemas"]
    );

    // Anything but projection is refused, not ignored.
    let r = get(
        &app.url("/scim/v2/Schemas?filter=name%20eq%20%22User%22"),
        None,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidValue");
    let r = get(&app.url("/scim/v2/ResourceTypes/User?sortBy=name"), None);
    assert_eq!(r.status, 400, "{}", r.body);
}
