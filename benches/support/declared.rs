//! Scenario `declared` (issue 16): a filter `eq` on a declared extension
//! attribute, at the organization's size. The extension is declared over
//! the admin API; every seeded user then gets a value for it in one
//! statement (the trigger of migration 10 writes the value rows, as it does
//! for a SCIM write), and the filter is measured like the built-in ones,
//! with the plan the store runs.

use diesel::pg::PgConnection;
use diesel::Connection;
use scimd::clock::Clock;
use scimd::scim::list::ListQuery;
use scimd::scim::profile::Profile;
use scimd::scim::schema::define::{parse_schema, Declared};
use scimd::scim::schema::Registry;
use scimd::store::orgs::DEFAULT_ORG_ID;
use scimd::store::query::explain_users;
use serde_json::{json, Value};

use super::client::{query, Request};
use super::env;
use super::seed::user_name;
use super::stats::{measure, print_table, Row};
use super::{fail, Bench, Res};

const URN: &str = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User";

fn schema() -> Value {
    json!({"id": URN, "attributes": [
        {"name": "costCenterCode", "type": "string"},
        {"name": "badgeNumber", "type": "integer", "uniqueness": "server"}
    ]})
}

fn filter_for(i: usize) -> String {
    format!("{URN}:costCenterCode eq \"cc-{}\"", user_name(i))
}

pub fn run(b: &mut Bench) -> Res<()> {
    let r = b.client.send(&Request::with_body(
        "POST",
        "/api/v1/schemas",
        &json!({"extends": "User", "schema": schema()}),
    ))?;
    if !r.ok() {
        return fail(format!("declaring the schema: {}", r.describe()));
    }
    eprintln!("giving {} users a declared value", b.seeded.len());
    let started = std::time::Instant::now();
    // Literal SQL: the URN is this file's constant, nothing else varies.
    env::sql(
        &b.db_url,
        &format!(
            "UPDATE scim_users SET doc = jsonb_set(doc, '{{schemas}}', (doc -> 'schemas') || '[\"{URN}\"]'::jsonb) \
             || jsonb_build_object('{URN}', jsonb_build_object('costCenterCode', 'CC-' || user_name, \
                'badgeNumber', (substring(user_name from 5 for 7))::int))"
        ),
    )?;
    env::sql(&b.db_url, "VACUUM ANALYZE scim_users")?;
    env::sql(&b.db_url, "VACUUM ANALYZE scim_attr_values")?;
    let filled = started.elapsed().as_secs_f64();
    let n = b.seeded.len();
    let probe = b.client.send(&Request::get(query(
        "/scim/v2/Users",
        &[("filter", &filter_for(n / 2))],
    )))?;
    let body = probe.json()?;
    if !probe.ok() || body["totalResults"] != 1 {
        return fail(format!("the declared filter found {}", probe.describe()));
    }
    let s = measure(b.iterations, || {
        let i = b.rng.below(n);
        b.client.timed(&Request::get(query(
            "/scim/v2/Users",
            &[("filter", &filter_for(i))],
        )))
    })?;
    let mut rows = vec![Row::measured(
        "declared `costCenterCode eq` (random user, case-insensitive)",
        s,
    )];
    // A search-box substring: the same 100 users match at any size.
    let co = format!("{URN}:costCenterCode co \"user00001\"");
    let probe = b.client.send(&Request::get(query(
        "/scim/v2/Users",
        &[("filter", &co), ("count", "10")],
    )))?;
    let note = probe.json()?["totalResults"].to_string();
    let mut s = measure(b.iterations, || {
        b.client.timed(&Request::get(query(
            "/scim/v2/Users",
            &[("filter", &co), ("count", "10")],
        )))
    })?;
    s.note = format!("totalResults {note}");
    rows.push(Row::measured(
        "declared `costCenterCode co \"user00001\"`, count=10",
        s,
    ));
    print_table(
        &format!("Declared attribute filter ({n} users; values written in {filled:.1} s)"),
        &rows,
    );
    let decl = Declared {
        extends: "User",
        required: false,
        schema: parse_schema(&schema(), "schema").map_err(|e| format!("{e:?}"))?,
    };
    let reg = Registry::new().with_declared(&[decl]);
    let q = ListQuery::from_pairs(
        &[("filter".to_string(), filter_for(n / 3))],
        Profile::Lenient,
    )
    .map_err(|e| format!("{e:?}"))?;
    let mut conn = PgConnection::establish(&b.db_url)?;
    let e = explain_users(&mut conn, DEFAULT_ORG_ID, &reg, &q, Clock::default().now())
        .map_err(|e| format!("{e}"))?;
    println!("```text\n{}\n\n{}\n```\n", e.sql, e.plan.join("\n"));
    Ok(())
}
