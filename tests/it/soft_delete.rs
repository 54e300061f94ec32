//! What DELETE means (issue 17): under `delete: soft` a deleted resource
//! answers 404 everywhere, leaves lists, filters, `/.search`, member lists
//! and `User.groups`, and frees its userName; its row, id and memberships
//! are kept for the retention period. The connector that deleted it gets
//! it back (id, memberships) by creating it again with the same
//! externalId; admins list, restore and purge; a job purges what expired.

use diesel::RunQueryDsl;
use serde_json::json;

use crate::harness::{api, connector, created_id, org_with_token, scim, scimd, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn members(app: &TestApp, token: &str, g: &str) -> Vec<String> {
    let j = scim(app, "GET", &format!("/Groups/{g}"), token, None).json();
    j["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn total(app: &TestApp, token: &str, query: &str) -> i64 {
    scim(app, "GET", &format!("/Users?{query}"), token, None).json()["totalResults"]
        .as_i64()
        .unwrap()
}

#[test]
fn a_soft_deleted_user_is_gone_from_scim_and_comes_back_when_recreated() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let r = api(
        &app,
        "PATCH",
        "/org",
        &admin,
        Some(&json!({"delete": "soft", "retention_days": 30})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let a = connector(&app, &admin, "hr", "generic").1;
    let b = connector(&app, &admin, "other", "generic").1;

    let u = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &a,
        Some(
            &json!({"schemas": [USER], "userName": "ann", "externalId": "e1", "displayName": "Ann"}),
        ),
    ));
    let g = created_id(&scim(
        &app,
        "POST",
        "/Groups",
        &a,
        Some(&json!({"schemas": [GROUP], "displayName": "eng", "members": [{"value": u}]})),
    ));
    assert_eq!(members(&app, &a, &g), vec![u.clone()]);

    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{u}"), &a, None).status,
        204
    );
    // Gone everywhere a client looks.
    assert_eq!(
        scim(&app, "GET", &format!("/Users/{u}"), &a, None).status,
        404
    );
    assert_eq!(scim(&app, "PATCH", &format!("/Users/{u}"), &a, Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}))).status, 404);
    assert_eq!(total(&app, &a, "filter=userName%20eq%20%22ann%22"), 0);
    assert_eq!(total(&app, &admin, ""), 0);
    let s = scim(&app, "POST", "/.search", &a, Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "externalId eq \"e1\""}))).json();
    assert_eq!(s["totalResults"], 0, "{s}");
    assert!(members(&app, &a, &g).is_empty());
    // Its userName is free: another connector takes it, then lets it go.
    let other = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &b,
        Some(&json!({"schemas": [USER], "userName": "ann"})),
    ));
    assert_ne!(other, u);
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{other}"), &b, None).status,
        204
    );

    // Listed for an administrator, with what held it.
    let list = api(&app, "GET", "/deleted?resource_type=User", &admin, None);
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    let rows = list["resources"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    let mine = rows.iter().find(|r| r["id"] == u.as_str()).unwrap();
    assert_eq!(mine["display"], "ann");
    assert_eq!(mine["member_of"], json!([g]));

    // The same connector creates it again: the old id and memberships.
    let back = scim(
        &app,
        "POST",
        "/Users",
        &a,
        Some(
            &json!({"schemas": [USER], "userName": "ann", "externalId": "e1", "displayName": "Ann Again"}),
        ),
    );
    assert_eq!(back.status, 201, "{}", back.body);
    let back = back.json();
    assert_eq!(back["id"], u.as_str());
    assert_eq!(back["displayName"], "Ann Again");
    assert_eq!(back["groups"][0]["value"], g.as_str(), "{back}");
    assert_eq!(members(&app, &a, &g), vec![u.clone()]);
    // Another connector's same externalId is another user.
    let theirs = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &b,
        Some(&json!({"schemas": [USER], "userName": "ann.b", "externalId": "e1"})),
    ));
    assert_ne!(theirs, u);
    // No longer listed as deleted; audited as a restoring create.
    let list = api(&app, "GET", "/deleted", &admin, None).json();
    assert!(
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != u.as_str()),
        "{list}"
    );
    let audit = api(
        &app,
        "GET",
        &format!("/audit?resource_id={u}"),
        &admin,
        None,
    )
    .json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["restored"] == true),
        "{audit}"
    );
}

#[test]
fn administrators_restore_and_purge_and_the_job_purges_what_expired() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    assert_eq!(
        api(
            &app,
            "PATCH",
            "/org",
            &admin,
            Some(&json!({"delete": "soft"}))
        )
        .status,
        200
    );
    let u = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &admin,
        Some(&json!({"schemas": [USER], "userName": "bo"})),
    ));
    let v = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &admin,
        Some(&json!({"schemas": [USER], "userName": "cy"})),
    ));
    let g = created_id(&scim(
        &app,
        "POST",
        "/Groups",
        &admin,
        Some(
            &json!({"schemas": [GROUP], "displayName": "all", "members": [{"value": u}, {"value": v}]}),
        ),
    ));

    // A group: its members lose it from `groups`, and get it back.
    assert_eq!(
        scim(&app, "DELETE", &format!("/Groups/{g}"), &admin, None).status,
        204
    );
    let bo = scim(&app, "GET", &format!("/Users/{u}"), &admin, None).json();
    assert!(
        bo.get("groups")
            .is_none_or(|g| g.as_array().unwrap().is_empty()),
        "{bo}"
    );
    let r = api(&app, "POST", &format!("/deleted/{g}/restore"), &admin, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut m = members(&app, &admin, &g);
    m.sort();
    let mut want = vec![u.clone(), v.clone()];
    want.sort();
    assert_eq!(m, want);
    let grp = scim(&app, "GET", &format!("/Groups/{g}"), &admin, None).json();
    assert_eq!(
        grp["meta"]["version"], "W/\"2\"",
        "a restore is a new version: {grp}"
    );

    // A restore that would take a userName now held is refused, nothing changes.
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{u}"), &admin, None).status,
        204
    );
    let again = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &admin,
        Some(&json!({"schemas": [USER], "userName": "bo"})),
    ));
    let r = api(&app, "POST", &format!("/deleted/{u}/restore"), &admin, None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        scim(&app, "GET", &format!("/Users/{again}"), &admin, None).status,
        200
    );
    // Purged now: gone for good.
    assert_eq!(
        api(&app, "DELETE", &format!("/deleted/{u}"), &admin, None).status,
        204
    );
    assert_eq!(
        api(&app, "POST", &format!("/deleted/{u}/restore"), &admin, None).status,
        404
    );
    assert_eq!(
        api(&app, "DELETE", &format!("/deleted/{u}"), &admin, None).status,
        404
    );

    // Past retention, the purge job takes it.
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{v}"), &admin, None).status,
        204
    );
    let mut conn = db.conn();
    diesel::sql_query("UPDATE deleted_resources SET deleted_at = now() - interval '31 days'")
        .execute(&mut conn)
        .unwrap();
    let out = scimd(&db, &["deleted", "purge", "--expired"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Purged 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        api(&app, "GET", "/deleted", &admin, None).json()["resources"],
        json!([])
    );

    // Bad parameters are named.
    assert_eq!(
        api(&app, "GET", "/deleted?limit=0", &admin, None).status,
        400
    );
    assert_eq!(
        api(&app, "GET", "/deleted?colour=red", &admin, None).status,
        400
    );
    assert_eq!(
        api(&app, "GET", "/deleted?cursor=nope", &admin, None).status,
        400
    );
}

#[test]
fn hard_delete_keeps_nothing() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let (_, admin) = org_with_token(&db, "contoso", &["all"]);
    let a = connector(&app, &admin, "hr", "generic").1;
    let u = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &a,
        Some(&json!({"schemas": [USER], "userName": "dee", "externalId": "e9"})),
    ));
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{u}"), &a, None).status,
        204
    );
    assert_eq!(
        api(&app, "GET", "/deleted", &admin, None).json()["resources"],
        json!([])
    );
    let again = created_id(&scim(
        &app,
        "POST",
        "/Users",
        &a,
        Some(&json!({"schemas": [USER], "userName": "dee", "externalId": "e9"})),
    ));
    assert_ne!(again, u);
}

#[test]
fn a_declared_resource_comes_back_when_its_connector_creates_it_again() {
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
    assert_eq!(
        api(
            &app,
            "PATCH",
            "/org",
            &admin,
            Some(&json!({"delete": "soft"}))
        )
        .status,
        200
    );
    let a = connector(&app, &admin, "hr", "generic").1;
    let agent = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Agent"], "name": name, "externalId": "ag-7"});
    let id = created_id(&scim(&app, "POST", "/Agents", &a, Some(&agent("helper"))));
    assert_eq!(
        scim(&app, "DELETE", &format!("/Agents/{id}"), &a, None).status,
        204
    );
    assert_eq!(
        scim(&app, "GET", &format!("/Agents/{id}"), &a, None).status,
        404
    );
    let list = api(&app, "GET", "/deleted", &admin, None).json();
    assert_eq!(list["resources"][0]["id"], id.as_str(), "{list}");
    let back = scim(&app, "POST", "/Agents", &a, Some(&agent("helper-2")));
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(back.json()["id"], id.as_str());
    assert_eq!(back.json()["name"], "helper-2");
    assert_eq!(
        api(&app, "GET", "/deleted", &admin, None).json()["resources"],
        json!([])
    );
}
