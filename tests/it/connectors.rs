//! Connectors (issue 17): the connector as an object with its own tokens,
//! the organization's policies, ownership across two connectors on every
//! write route (Bulk included), `externalId` per connector, provenance,
//! transfer, and each connector's compatibility profile.

use serde_json::{json, Value};

use crate::harness::{api, connector, created_id, org_with_token, scim, scimd, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PROVENANCE: &str = "urn:scimd:params:scim:schemas:extension:1.0:Provenance";

fn user(name: &str) -> Value {
    json!({"schemas": [USER], "userName": name, "active": true})
}

#[test]
fn a_connector_is_created_with_a_token_and_managed_through_the_api() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);

    let r = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "Entra ID", "kind": "entra"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(c["name"], "Entra ID");
    assert_eq!(c["kind"], "entra");
    // A kind's own profile unless another is asked for.
    assert_eq!(c["profile"], "entra");
    assert_eq!(c["effective_ownership"], "owned");
    assert!(c["scim_url"].as_str().unwrap().ends_with("/scim/v2"), "{c}");
    let (id, token) = (c["id"].as_str().unwrap(), c["token"].as_str().unwrap());

    // The token is an admin:scim token: SCIM yes, the admin API no.
    assert_eq!(scim(&app, "GET", "/Users", token, None).status, 200);
    assert_eq!(api(&app, "GET", "/connectors", token, None).status, 403);

    // Listed, read, and its tokens listed with it.
    let list = api(&app, "GET", "/connectors", &admin, None).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("token").is_none(), "values are shown once");
    let one = api(&app, "GET", &format!("/connectors/{id}"), &admin, None);
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["name"], "Entra ID");
    let toks = api(
        &app,
        "GET",
        &format!("/connectors/{id}/tokens"),
        &admin,
        None,
    )
    .json();
    assert_eq!(toks.as_array().unwrap().len(), 1);
    assert_eq!(toks[0]["connector_id"], id);
    assert_eq!(toks[0]["scopes"], json!(["admin:scim"]));

    // Bad fields are named; a second "entra id" is a conflict.
    let bad = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "", "kind": "azure", "rate_limit": {"per_second": 0, "burst": 1}})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields: Vec<String> = bad.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    for f in ["name", "kind", "rate_limit.per_second"] {
        assert!(fields.contains(&f.to_string()), "{f}: {}", bad.body);
    }
    let dup = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "entra id", "kind": "entra"})),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    let unknown = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "x", "kind": "okta", "colour": "red"})),
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    // PATCH changes only what it names; null clears.
    let p = api(
        &app,
        "PATCH",
        &format!("/connectors/{id}"),
        &admin,
        Some(
            &json!({"profile": "strict", "ownership": "shared", "rate_limit": {"per_second": 5, "burst": 10}}),
        ),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let p = p.json();
    assert_eq!(
        (p["profile"].as_str(), p["ownership"].as_str()),
        (Some("strict"), Some("shared"))
    );
    assert_eq!(p["rate_limit"], json!({"per_second": 5.0, "burst": 10}));
    let p = api(
        &app,
        "PATCH",
        &format!("/connectors/{id}"),
        &admin,
        Some(&json!({"ownership": null})),
    )
    .json();
    assert_eq!(p["ownership"], Value::Null);
    assert_eq!(p["effective_ownership"], "owned");
    assert_eq!(p["profile"], "strict");

    // Another token for it works too.
    let t2 = api(
        &app,
        "POST",
        &format!("/connectors/{id}/tokens"),
        &admin,
        None,
    );
    assert_eq!(t2.status, 201, "{}", t2.body);
    let t2 = t2.json()["token"].as_str().unwrap().to_string();
    assert_eq!(scim(&app, "GET", "/Users", &t2, None).status, 200);

    // Another organization's admin does not see it.
    let (_, other) = org_with_token(&db, "fabrikam", &["all"]);
    assert_eq!(
        api(&app, "GET", &format!("/connectors/{id}"), &other, None).status,
        404
    );
    assert_eq!(
        api(&app, "DELETE", &format!("/connectors/{id}"), &other, None).status,
        404
    );

    // Deleting it ends its tokens from the next request.
    assert_eq!(
        api(&app, "DELETE", &format!("/connectors/{id}"), &admin, None).status,
        204
    );
    assert_eq!(scim(&app, "GET", "/Users", token, None).status, 401);
    assert_eq!(scim(&app, "GET", "/Users", &t2, None).status, 401);
    assert_eq!(
        api(&app, "GET", &format!("/connectors/{id}"), &admin, None).status,
        404
    );
    // Audited.
    let audit = api(&app, "GET", "/audit?limit=50", &admin, None).json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "connector.create",
        "connector.update",
        "connector.delete",
        "token.create",
    ] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
}

#[test]
fn under_owned_a_connector_changes_only_its_own_on_every_write_route() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (a_id, a) = connector(&app, &admin, "entra", "entra");
    let (_, b) = connector(&app, &admin, "okta", "okta");

    let u = created_id(&scim(&app, "POST", "/Users", &a, Some(&user("ann"))));
    let g = created_id(&scim(
        &app,
        "POST",
        "/Groups",
        &a,
        Some(&json!({"schemas": [GROUP], "displayName": "eng"})),
    ));

    // B reads everything…
    let got = scim(&app, "GET", &format!("/Users/{u}"), &b, None);
    assert_eq!(got.status, 200);
    let prov = &got.json()[PROVENANCE];
    assert_eq!(
        prov["createdBy"],
        json!({"value": a_id, "display": "entra"})
    );
    assert_eq!(prov["owner"]["display"], "entra");
    assert!(got.json()["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(PROVENANCE)));

    // …but changes nothing of A's, on any route, and the refusal names A.
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]});
    let refusals = [
        scim(&app, "PATCH", &format!("/Users/{u}"), &b, Some(&patch)),
        scim(&app, "PUT", &format!("/Users/{u}"), &b, Some(&user("ann"))),
        scim(&app, "DELETE", &format!("/Users/{u}"), &b, None),
        scim(
            &app,
            "PATCH",
            &format!("/Groups/{g}"),
            &b,
            Some(
                &json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]}),
            ),
        ),
        scim(
            &app,
            "PUT",
            &format!("/Groups/{g}"),
            &b,
            Some(&json!({"schemas": [GROUP], "displayName": "eng"})),
        ),
        scim(&app, "DELETE", &format!("/Groups/{g}"), &b, None),
    ];
    for r in &refusals {
        assert_eq!(r.status, 403, "{}", r.body);
        let e = r.json();
        assert_eq!(e["status"], "403");
        assert!(
            e["detail"].as_str().unwrap().contains("connector 'entra'"),
            "{e}"
        );
    }
    // Bulk: the same answer per operation.
    let bulk = scim(
        &app,
        "POST",
        "/Bulk",
        &b,
        Some(&json!({"schemas": [BULK], "Operations": [
            {"method": "PATCH", "path": format!("/Users/{u}"), "data": patch},
            {"method": "DELETE", "path": format!("/Groups/{g}")},
            {"method": "POST", "path": "/Users", "bulkId": "b1", "data": user("bob")},
        ]})),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let ops = bulk.json()["Operations"].clone();
    assert_eq!(ops[0]["status"], "403", "{ops}");
    assert_eq!(ops[1]["status"], "403", "{ops}");
    assert_eq!(ops[2]["status"], "201", "{ops}");
    let bob = ops[2]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    // Nothing of A's changed.
    let still = scim(&app, "GET", &format!("/Users/{u}"), &a, None).json();
    assert_eq!(still["meta"]["version"], json!("W/\"1\""), "{still}");

    // B may put A's user (and its own) into B's group.
    let gb = created_id(&scim(
        &app,
        "POST",
        "/Groups",
        &b,
        Some(&json!({"schemas": [GROUP], "displayName": "okta-eng", "members": [{"value": bob}]})),
    ));
    let add = scim(
        &app,
        "PATCH",
        &format!("/Groups/{gb}"),
        &b,
        Some(
            &json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]}),
        ),
    );
    assert_eq!(add.status, 204, "{}", add.body);

    // A still changes its own; an administrator's token changes anything.
    assert_eq!(
        scim(&app, "PATCH", &format!("/Users/{u}"), &a, Some(&patch)).status,
        200
    );
    assert_eq!(
        scim(
            &app,
            "PATCH",
            &format!("/Users/{bob}"),
            &admin,
            Some(&patch)
        )
        .status,
        200
    );

    // Under `shared` (the organization's, or B's own) B may change A's user.
    let r = api(
        &app,
        "PATCH",
        "/org",
        &admin,
        Some(&json!({"ownership": "shared"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["ownership"], "shared");
    assert_eq!(
        scim(&app, "PATCH", &format!("/Users/{u}"), &b, Some(&patch)).status,
        200
    );
}

#[test]
fn an_administrator_transfers_what_a_connector_owns() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let (a_id, a) = connector(&app, &admin, "old-idp", "okta");
    let (b_id, b) = connector(&app, &admin, "new-idp", "entra");
    let ids: Vec<String> = (0..3)
        .map(|i| created_id(&scim(&app, "POST", "/Users", &a, Some(&json!({"schemas": [USER], "userName": format!("u{i}"), "externalId": format!("x{i}")})))))
        .collect();
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]});

    // A connector that owns resources cannot be deleted.
    let del = api(&app, "DELETE", &format!("/connectors/{a_id}"), &admin, None);
    assert_eq!(del.status, 409, "{}", del.body);
    assert!(del.body.contains("3 resources"), "{}", del.body);

    // One resource, then everything else.
    let one = api(
        &app,
        "POST",
        "/ownership/transfer",
        &admin,
        Some(&json!({"to": b_id, "resource_type": "User", "resource_id": ids[0]})),
    );
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["transferred"], 1);
    assert_eq!(
        scim(
            &app,
            "PATCH",
            &format!("/Users/{}", ids[0]),
            &b,
            Some(&patch)
        )
        .status,
        200
    );
    assert_eq!(
        scim(
            &app,
            "PATCH",
            &format!("/Users/{}", ids[0]),
            &a,
            Some(&patch)
        )
        .status,
        403
    );
    assert_eq!(
        scim(
            &app,
            "PATCH",
            &format!("/Users/{}", ids[1]),
            &b,
            Some(&patch)
        )
        .status,
        403
    );

    let all = api(
        &app,
        "POST",
        "/ownership/transfer",
        &admin,
        Some(&json!({"from": a_id, "to": b_id})),
    );
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.json()["transferred"], 2);
    assert_eq!(
        scim(
            &app,
            "PATCH",
            &format!("/Users/{}", ids[2]),
            &b,
            Some(&patch)
        )
        .status,
        200
    );
    // The externalIds went with them: the new owner finds them.
    let found = scim(
        &app,
        "GET",
        "/Users?filter=externalId%20eq%20%22x1%22",
        &b,
        None,
    )
    .json();
    assert_eq!(found["totalResults"], 1, "{found}");
    // Who created it is kept; who owns it moved.
    let prov = api(
        &app,
        "GET",
        &format!("/provenance/User/{}", ids[1]),
        &admin,
        None,
    );
    assert_eq!(prov.status, 200, "{}", prov.body);
    let prov = prov.json();
    assert_eq!(prov["created_by"]["name"], "old-idp");
    assert_eq!(prov["owner"]["name"], "new-idp");
    assert_eq!(prov["external_id"]["value"], "x1");
    assert_eq!(prov["external_id"]["connector"]["name"], "new-idp");

    // Unknown connectors and types are named.
    let bad = api(
        &app,
        "POST",
        "/ownership/transfer",
        &admin,
        Some(&json!({"from": a_id, "to": uuid::Uuid::now_v7()})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = api(
        &app,
        "POST",
        "/ownership/transfer",
        &admin,
        Some(&json!({"from": a_id, "to": b_id, "resource_type": "Device"})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);

    // Now empty, the old connector can go.
    assert_eq!(
        api(&app, "DELETE", &format!("/connectors/{a_id}"), &admin, None).status,
        204
    );
    let audit = api(&app, "GET", "/audit?limit=50", &admin, None).json();
    let transfers = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ownership.transfer")
        .count();
    assert_eq!(transfers, 2);
}

#[test]
fn external_id_belongs_to_the_connector_that_set_it() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    // Shared, so that B may write A's users: the externalId rule holds even so.
    assert_eq!(
        api(
            &app,
            "PATCH",
            "/org",
            &admin,
            Some(&json!({"ownership": "shared"}))
        )
        .status,
        200
    );
    let (a_id, a) = connector(&app, &admin, "entra", "entra");
    let (b_id, b) = connector(&app, &admin, "okta", "okta");

    // Two connectors, one externalId, two users.
    let ua = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &a,
        Some(&json!({"schemas": [USER], "userName": "ann", "externalId": "E1"})),
    ));
    let ub = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &b,
        Some(&json!({"schemas": [USER], "userName": "bob", "externalId": "E1"})),
    ));
    let filter = "/Users?filter=externalId%20eq%20%22E1%22";
    let from_a = scim(&app, "GET", filter, &a, None).json();
    assert_eq!(from_a["totalResults"], 1, "{from_a}");
    assert_eq!(from_a["Resources"][0]["id"], ua.as_str());
    let from_b = scim(&app, "GET", filter, &b, None).json();
    assert_eq!(from_b["Resources"][0]["id"], ub.as_str());
    // A credential with no connector sees both.
    assert_eq!(
        scim(&app, "GET", filter, &admin, None).json()["totalResults"],
        2
    );
    // `pr`, `ne` and `not` agree with what each is shown.
    let pr = scim(&app, "GET", "/Users?filter=externalId%20pr", &a, None).json();
    assert_eq!(pr["totalResults"], 1, "{pr}");
    let ne = scim(
        &app,
        "GET",
        "/Users?filter=externalId%20ne%20%22E1%22",
        &a,
        None,
    )
    .json();
    assert_eq!(ne["totalResults"], 1, "{ne}");
    assert_eq!(ne["Resources"][0]["id"], ub.as_str());
    // `/.search` too.
    let s = scim(&app, "POST", "/.search", &a, Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "externalId eq \"E1\""}))).json();
    assert_eq!(s["totalResults"], 1, "{s}");

    // A does not see B's value.
    let seen = scim(&app, "GET", &format!("/Users/{ub}"), &a, None).json();
    assert!(seen.get("externalId").is_none(), "{seen}");
    assert_eq!(
        scim(&app, "GET", &format!("/Users/{ub}"), &admin, None).json()["externalId"],
        "E1"
    );

    // A writes B's user without naming externalId: B's value stays, B still finds it.
    let put = scim(
        &app,
        "PUT",
        &format!("/Users/{ub}"),
        &a,
        Some(&json!({"schemas": [USER], "userName": "bob", "displayName": "Bob"})),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert!(put.json().get("externalId").is_none());
    let rm = scim(
        &app,
        "PATCH",
        &format!("/Users/{ub}"),
        &a,
        Some(&json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "externalId"}]})),
    );
    assert_eq!(rm.status, 200, "{}", rm.body);
    assert_eq!(
        scim(&app, "GET", filter, &b, None).json()["Resources"][0]["id"],
        ub.as_str()
    );
    let prov = api(&app, "GET", &format!("/provenance/User/{ub}"), &admin, None).json();
    assert_eq!(
        prov["external_id"],
        json!({"value": "E1", "connector": {"id": b_id, "name": "okta"}})
    );

    // A names one: it is A's now, and B no longer matches on it.
    let mine = scim(
        &app,
        "PATCH",
        &format!("/Users/{ub}"),
        &a,
        Some(
            &json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "externalId", "value": "A-bob"}]}),
        ),
    );
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.json()["externalId"], "A-bob");
    assert_eq!(
        scim(&app, "GET", filter, &b, None).json()["totalResults"],
        0
    );
    let prov = api(&app, "GET", &format!("/provenance/User/{ub}"), &admin, None).json();
    assert_eq!(prov["external_id"]["connector"]["id"], a_id.as_str());
    assert_eq!(prov["created_by"]["id"], b_id.as_str());
}

#[test]
fn a_connector_is_held_to_its_profile() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let r = api(
        &app,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "script", "kind": "generic", "profile": "strict"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, strict) = (
        r.json()["id"].as_str().unwrap().to_string(),
        r.json()["token"].as_str().unwrap().to_string(),
    );
    let (_, entra) = connector(&app, &admin, "entra", "entra");

    // Entra ID's string boolean: refused under strict, accepted for Entra
    // and for a token without a connector (lenient).
    let body = json!({"schemas": [USER], "userName": "ann", "active": "True"});
    let refused = scim(&app, "POST", "/Users", &strict, Some(&body));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["scimType"], "invalidValue");
    assert!(refused.body.contains("strict"), "{}", refused.body);
    assert_eq!(
        scim(&app, "POST", "/Users", &entra, Some(&body)).status,
        201
    );
    let body2 = json!({"schemas": [USER], "userName": "bob", "active": "True"});
    assert_eq!(
        scim(&app, "POST", "/Users", &admin, Some(&body2)).status,
        201
    );

    // Capitalised ops the same way, in PATCH.
    let u = created_id(&scim(&app, "POST", "/Users", &strict, Some(&user("cat"))));
    let op = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "displayName", "value": "Cat"}]});
    let r = scim(&app, "PATCH", &format!("/Users/{u}"), &strict, Some(&op));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidSyntax");

    // The profile changes with the connector, from the next request.
    let p = api(
        &app,
        "PATCH",
        &format!("/connectors/{id}"),
        &admin,
        Some(&json!({"profile": "lenient"})),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        scim(&app, "PATCH", &format!("/Users/{u}"), &strict, Some(&op)).status,
        200
    );
}

#[test]
fn a_profile_change_on_one_instance_is_served_by_another_at_once() {
    let db = TestDb::new();
    let one = TestApp::new(&db);
    let two = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let r = api(
        &one,
        "POST",
        "/connectors",
        &admin,
        Some(&json!({"name": "s", "kind": "generic", "profile": "lenient"})),
    );
    let (id, token) = (
        r.json()["id"].as_str().unwrap().to_string(),
        r.json()["token"].as_str().unwrap().to_string(),
    );
    let body = |n: &str| json!({"schemas": [USER], "userName": n, "active": "True"});
    // Instance two learns the connector (and caches its registry).
    assert_eq!(
        scim(&two, "POST", "/Users", &token, Some(&body("a"))).status,
        201
    );
    assert_eq!(
        api(
            &one,
            "PATCH",
            &format!("/connectors/{id}"),
            &admin,
            Some(&json!({"profile": "strict"}))
        )
        .status,
        200
    );
    assert_eq!(
        scim(&two, "POST", "/Users", &token, Some(&body("b"))).status,
        400
    );
}

#[test]
fn organization_policies_are_read_and_set() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let org = api(&app, "GET", "/org", &admin, None);
    assert_eq!(org.status, 200);
    let org = org.json();
    assert_eq!(
        (
            org["name"].as_str(),
            org["ownership"].as_str(),
            org["delete"].as_str()
        ),
        (Some("contoso"), Some("owned"), Some("hard"))
    );
    assert_eq!(org["retention_days"], 30);
    let bad = api(
        &app,
        "PATCH",
        "/org",
        &admin,
        Some(&json!({"ownership": "mine", "delete": "later", "retention_days": 0})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        bad.json()["fields"].as_array().unwrap().len(),
        3,
        "{}",
        bad.body
    );
    let ok = api(
        &app,
        "PATCH",
        "/org",
        &admin,
        Some(&json!({"delete": "soft", "retention_days": 7})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["delete"], "soft");
    assert_eq!(ok.json()["ownership"], "owned");
    // Needs scope `all`.
    let (_, scim_only) = crate::harness::create_token(&app, &admin, &["admin:scim"]);
    assert_eq!(api(&app, "GET", "/org", &scim_only, None).status, 403);

    // The default organization existed before connectors: it stays shared.
    let out = scimd(&db, &["org", "configure", "default"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Ownership:      shared"));
    let out = scimd(
        &db,
        &[
            "org",
            "configure",
            "contoso",
            "--ownership",
            "shared",
            "--retention-days",
            "90",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let org = api(&app, "GET", "/org", &admin, None).json();
    assert_eq!(
        (org["ownership"].as_str(), org["retention_days"].as_i64()),
        (Some("shared"), Some(90))
    );
    let out = scimd(
        &db,
        &["org", "configure", "contoso", "--delete", "sometimes"],
    );
    assert!(!out.status.success());
}

#[test]
fn the_cli_creates_a_connector_and_prints_its_token_last() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let out = scimd(
        &db,
        &[
            "connector",
            "create",
            "Entra ID",
            "--kind",
            "entra",
            "--rate-limit",
            "20/s",
            "--burst",
            "40",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("/scim/v2"), "{stdout}");
    assert!(stdout.contains("20/s, burst 40"), "{stdout}");
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(scim(&app, "GET", "/Users", &token, None).status, 200);
    let out = scimd(&db, &["connector", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Entra ID"));
    let out = scimd(&db, &["connector", "token", "entra id"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(scim(&app, "GET", "/Users", &second, None).status, 200);
    let out = scimd(
        &db,
        &[
            "connector",
            "update",
            "Entra ID",
            "--profile",
            "strict",
            "--ownership",
            "shared",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Profile:   strict"));
    let out = scimd(&db, &["connector", "create", "x", "--kind", "azure"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kind"));
    let out = scimd(&db, &["connector", "delete", "Entra ID"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(scim(&app, "GET", "/Users", &token, None).status, 401);
}

#[test]
fn declared_types_follow_the_same_ownership_and_external_id_rules() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/agents.json");
    let out = scimd(&db, &["schema", "add", file, "--org", "contoso"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, a) = connector(&app, &admin, "entra", "entra");
    let (_, b) = connector(&app, &admin, "okta", "okta");
    let agent = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Agent"], "name": "helper", "externalId": "ag-1"});
    let id = created_id(&scim(&app, "POST", "/Agents", &a, Some(&agent)));
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]});
    let r = scim(&app, "PATCH", &format!("/Agents/{id}"), &b, Some(&patch));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("connector 'entra'"), "{}", r.body);
    assert_eq!(
        scim(&app, "DELETE", &format!("/Agents/{id}"), &b, None).status,
        403
    );
    assert_eq!(
        scim(&app, "PATCH", &format!("/Agents/{id}"), &a, Some(&patch)).status,
        200
    );
    // B reads it without A's externalId, and does not match on it.
    let seen = scim(&app, "GET", &format!("/Agents/{id}"), &b, None).json();
    assert!(seen.get("externalId").is_none(), "{seen}");
    assert_eq!(seen[PROVENANCE]["owner"]["display"], "entra", "{seen}");
    let rt = scim(&app, "GET", "/ResourceTypes/Agent", &b, None).json();
    assert!(
        rt["schemaExtensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["schema"] == PROVENANCE),
        "{rt}"
    );
    let f = "/Agents?filter=externalId%20eq%20%22ag-1%22";
    assert_eq!(scim(&app, "GET", f, &b, None).json()["totalResults"], 0);
    assert_eq!(scim(&app, "GET", f, &a, None).json()["totalResults"], 1);
    let prov = api(
        &app,
        "GET",
        &format!("/provenance/Agent/{id}"),
        &admin,
        None,
    )
    .json();
    assert_eq!(prov["owner"]["name"], "entra");
}
