//! The hot read statements keep PostgreSQL's generic plan. A prepared
//! statement is planned again on every execution while PostgreSQL estimates
//! a custom plan cheaper, which made planning about 20% of all CPU under the
//! W2 benchmark: `OFFSET $n`, and `= ANY($1)` over a short array, kept
//! statements custom forever. Each statement here runs twelve times on one
//! connection; `pg_prepared_statements` then says how it was planned.

use diesel::prelude::*;

use crate::harness::TestDb;
use scimd::scim::filter::Filter;
use scimd::scim::list::ListQuery;
use scimd::scim::profile::Profile;
use scimd::scim::schema::Registry;
use scimd::store::orgs::DEFAULT_ORG_ID;

#[derive(QueryableByName, Debug)]
#[allow(dead_code)] // read through Debug in the failure message
struct Ps {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

#[test]
fn hot_read_statements_are_planned_once_not_on_every_execution() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let id = uuid::Uuid::now_v7();
    for _ in 0..12 {
        scimd::store::tokens::for_auth(&mut conn, id).unwrap();
        let _not_found = scimd::store::users::get(&mut conn, DEFAULT_ORG_ID, id);
        let _not_found = scimd::store::users::get_with_groups(&mut conn, DEFAULT_ORG_ID, id, None);
        scimd::store::members::groups_of(&mut conn, DEFAULT_ORG_ID, &[id]).unwrap();
        let many: Vec<uuid::Uuid> = (0..100).map(|_| uuid::Uuid::now_v7()).collect();
        scimd::store::members::groups_of(&mut conn, DEFAULT_ORG_ID, &many).unwrap();
        let reg = Registry::new();
        let now = scimd::clock::Clock::default().now();
        let filtered = ListQuery {
            filter: Some(Filter::parse("userName eq \"x\"", Profile::Lenient).unwrap()),
            count: Some(10),
            ..Default::default()
        };
        scimd::store::query::list_users(&mut conn, DEFAULT_ORG_ID, &reg, &filtered, now).unwrap();
        let page = ListQuery {
            count: Some(100),
            ..Default::default()
        };
        scimd::store::query::list_users(&mut conn, DEFAULT_ORG_ID, &reg, &page, now).unwrap();
    }
    let rows: Vec<Ps> = diesel::sql_query(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
    )
    .load(&mut conn)
    .unwrap();
    assert!(rows.len() >= 7, "{rows:?}");
    // PostgreSQL always makes five custom plans before it compares.
    let replanned: Vec<&Ps> = rows.iter().filter(|r| r.custom_plans > 5).collect();
    assert!(
        replanned.is_empty(),
        "planned on every execution: {replanned:#?}"
    );
}
