pub mod app;
pub mod chaos;
pub mod client;
pub mod pg;
pub mod receiver;
pub mod wire;

use serde_json::json;

pub use app::{test_config, TestApp};
pub use client::{delete, get, post};
pub use pg::TestDb;

/// Creates a token over the admin API with `admin_token`; returns (id, value).
pub fn create_token(app: &TestApp, admin: &str, scopes: &[&str]) -> (String, String) {
    let r = post(
        &app.url("/api/v1/tokens"),
        Some(admin),
        &json!({ "name": "test", "scopes": scopes }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    (
        j["id"].as_str().expect("id").to_string(),
        j["token"].as_str().expect("token").to_string(),
    )
}

/// A token minted straight into the database (as `scimd token create` does),
/// for bootstrapping tests; returns the value.
pub fn seed_token(db: &TestDb, scopes: &[&str]) -> String {
    issue_in(&mut db.conn(), scimd::store::orgs::DEFAULT_ORG_ID, scopes)
}

/// A new organization `name` (as `scimd org create` makes one) and a token
/// of it with `scopes`; returns the organization's id and the token value.
pub fn org_with_token(db: &TestDb, name: &str, scopes: &[&str]) -> (uuid::Uuid, String) {
    let mut conn = db.conn();
    let org = scimd::store::orgs::create(&mut conn, name, scimd::clock::Clock::default().now())
        .expect("create organization");
    (org.id, issue_in(&mut conn, org.id, scopes))
}

fn issue_in(conn: &mut diesel::PgConnection, org: uuid::Uuid, scopes: &[&str]) -> String {
    use scimd::auth::scope::Scope;
    use scimd::service::tokens::{issue, NewToken};
    let created = issue(
        conn,
        org,
        NewToken {
            name: "seed".into(),
            scopes: scopes
                .iter()
                .map(|s| s.parse::<Scope>().expect("scope"))
                .collect(),
            expires_at: None,
            connector: None,
            rate: None,
        },
        "test",
        scimd::clock::Clock::default().now(),
    )
    .expect("issue token");
    created.token
}

/// Runs the `scimd` binary with `args` against `db` (a command such as
/// `token create` or `schema add`, as an operator types it).
pub fn scimd(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("AUTH_SECRET")
        .output()
        .expect("run scimd")
}

/// A request to the admin API (`/api/v1{path}`) with `token`.
pub fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> client::Resp {
    client::request(
        method,
        &app.url(&format!("/api/v1{path}")),
        Some(token),
        body,
    )
}

/// A SCIM request (`/scim/v2{path}`) with `token`.
pub fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> client::Resp {
    client::request(
        method,
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        body,
    )
}

/// The id of what a `201` created.
pub fn created_id(r: &client::Resp) -> String {
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().expect("id").to_string()
}

/// A connector `name` of `kind`, made over the admin API with `admin`;
/// returns its (id, first token).
pub fn connector(app: &TestApp, admin: &str, name: &str, kind: &str) -> (String, String) {
    let r = api(
        app,
        "POST",
        "/connectors",
        admin,
        Some(&json!({"name": name, "kind": kind})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let j = r.json();
    (
        j["id"].as_str().expect("id").to_string(),
        j["token"].as_str().expect("token").to_string(),
    )
}
