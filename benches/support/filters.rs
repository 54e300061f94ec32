//! Scenario `filters` (issue 4): filtered, sorted and paged lists over the
//! seeded users, through the query engine. A query the server refuses (for
//! instance while filtering is not wired up) is reported as not available.
//! Afterwards, PostgreSQL's plan for each query, from the store's own
//! `explain_users` (the SQL the list endpoint runs).

use diesel::pg::PgConnection;
use diesel::Connection;
use scimd::clock::Clock;
use scimd::scim::list::ListQuery;
use scimd::scim::profile::Profile;
use scimd::scim::schema::Registry;
use scimd::store::orgs::DEFAULT_ORG_ID;
use scimd::store::query::explain_users;
use serde_json::Value;

use super::client::{query, Client, Request};
use super::rng::Rng;
use super::seed::{email, external_id, user_name, Seeded};
use super::stats::{measure, print_table, Row};
use super::{fail, Bench, Res};

const USERS: &str = "/scim/v2/Users";
/// Page size of the (untimed) cursor walk to the 90% position.
const WALK_PAGE: usize = 1000;

/// Query-string parameters, decoded.
type Params = Vec<(String, String)>;

/// One list query: how to label it, and its parameters for a random target.
struct Case {
    label: String,
    params: Box<dyn Fn(&mut Rng) -> Params>,
}

impl Case {
    fn fixed(label: &str, params: Params) -> Case {
        Case {
            label: label.to_string(),
            params: Box::new(move |_| params.clone()),
        }
    }

    fn random(label: &str, n: usize, filter: fn(usize) -> String) -> Case {
        Case {
            label: label.to_string(),
            params: Box::new(move |rng| vec![pair("filter", &filter(rng.below(n)))]),
        }
    }
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn path_of(params: &[(String, String)]) -> String {
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    query(USERS, &refs)
}

fn cases(seeded: &Seeded) -> Vec<Case> {
    let n = seeded.len();
    // Timestamps near the newest: `gt` the 11th newest selects the 10 newest.
    let since = seeded
        .last_modified(n.saturating_sub(11))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let offset = (n * 9 / 10).max(1);
    vec![
        Case::random("`userName eq` (random user)", n, |i| {
            format!("userName eq \"{}\"", user_name(i))
        }),
        Case::random("`externalId eq` (random user)", n, |i| {
            format!("externalId eq \"{}\"", external_id(i))
        }),
        Case::random("`emails.value eq` (random user)", n, |i| {
            format!("emails.value eq \"{}\"", email(i))
        }),
        Case::fixed(
            "`meta.lastModified gt` (10 newest)",
            vec![pair("filter", &format!("meta.lastModified gt \"{since}\""))],
        ),
        Case::fixed(
            "`userName co \"00012\"`",
            vec![pair("filter", "userName co \"00012\"")],
        ),
        Case::fixed(
            "`sortBy=userName&count=100` (first page)",
            vec![pair("sortBy", "userName"), pair("count", "100")],
        ),
        Case::fixed(
            &format!("`startIndex={offset}&count=100` (offset paging at 90%)"),
            vec![
                pair("startIndex", &offset.to_string()),
                pair("count", "100"),
            ],
        ),
    ]
}

/// `totalResults` of a list response, for the note column.
fn total_of(body: &Value) -> String {
    body.get("totalResults")
        .and_then(Value::as_i64)
        .map_or_else(|| "no totalResults".into(), |t| format!("totalResults {t}"))
}

/// Probes `case` once; if the server accepts it, measures it.
fn run_case(b: &mut Bench, case: &Case) -> Res<Row> {
    let probe = b
        .client
        .send(&Request::get(path_of(&(case.params)(&mut b.rng))))?;
    if !probe.ok() {
        return Ok(Row::not_available(&case.label, probe.describe()));
    }
    let note = total_of(&probe.json()?);
    let mut s = measure(b.iterations, || {
        let params = (case.params)(&mut b.rng);
        b.client.timed(&Request::get(path_of(&params)))
    })?;
    s.note = if s.note.is_empty() {
        note
    } else {
        format!("{note}; {}", s.note)
    };
    Ok(Row::measured(&case.label, s))
}

/// Walks cursor pages (untimed) to the row at `target`; returns the
/// `nextCursor` that continues from there.
fn cursor_at(client: &Client, target: usize) -> Res<Result<String, String>> {
    let (mut seen, mut cursor) = (0, String::new());
    while seen < target {
        let count = WALK_PAGE.min(target - seen).to_string();
        let path = query(
            USERS,
            &[("cursor", &cursor), ("count", &count), ("attributes", "id")],
        );
        let reply = client.send(&Request::get(path))?;
        if !reply.ok() {
            return Ok(Err(reply.describe()));
        }
        let body = reply.json()?;
        let got = body["Resources"].as_array().map_or(0, Vec::len);
        match body.get("nextCursor").and_then(Value::as_str) {
            Some(next) if got > 0 => cursor = next.to_string(),
            _ => return Ok(Err(format!("no nextCursor after {seen} rows"))),
        }
        seen += got;
    }
    Ok(Ok(cursor))
}

fn cursor_case(b: &mut Bench) -> Res<(Row, Option<Params>)> {
    let target = (b.seeded.len() * 9 / 10).max(1);
    let label = format!("`cursor=…&count=100` (cursor page at row {target}, 90%)");
    let cursor = match cursor_at(&b.client, target)? {
        Ok(c) => c,
        Err(why) => return Ok((Row::not_available(label, why), None)),
    };
    let params = vec![pair("cursor", &cursor), pair("count", "100")];
    let path = path_of(&params);
    let probe = b.client.send(&Request::get(path.clone()))?;
    if !probe.ok() {
        return Ok((Row::not_available(label, probe.describe()), None));
    }
    let s = measure(b.iterations, || b.client.timed(&Request::get(path.clone())))?;
    Ok((Row::measured(label, s), Some(params)))
}

pub fn run(b: &mut Bench) -> Res<()> {
    let cases = cases(&b.seeded);
    let mut rows = Vec::new();
    let mut explained = Vec::new();
    for case in &cases {
        rows.push(run_case(b, case)?);
        explained.push((case.label.clone(), (case.params)(&mut b.rng)));
    }
    let (cursor_row, cursor_params) = cursor_case(b)?;
    rows.insert(cases.len() - 1, cursor_row);
    if let Some(p) = cursor_params {
        explained.push(("cursor page at 90%".into(), p));
    }
    let title = format!(
        "Filters and paging ({} users, sequential, one connection)",
        b.seeded.len()
    );
    print_table(&title, &rows);
    print_plans(&b.db_url, &explained);
    Ok(())
}

/// Prints the SQL and `EXPLAIN` plan of each query, as the store runs it.
fn print_plans(db_url: &str, queries: &[(String, Params)]) {
    println!("### Query plans (EXPLAIN, without ANALYZE)\n");
    for (label, params) in queries {
        println!("{label}: `{}`\n", path_of(params));
        match explain(db_url, params) {
            Ok((sql, plan)) => println!("```text\n{sql}\n\n{}\n```\n", plan.join("\n")),
            Err(e) => println!("(no plan: {e})\n"),
        }
    }
}

fn explain(db_url: &str, params: &[(String, String)]) -> Res<(String, Vec<String>)> {
    let q = match ListQuery::from_pairs(params, Profile::Lenient) {
        Ok(q) => q,
        Err(e) => return fail(format!("{e:?}")),
    };
    let mut conn = PgConnection::establish(db_url)?;
    let reg = Registry::new();
    let e = explain_users(&mut conn, DEFAULT_ORG_ID, &reg, &q, Clock::default().now())
        .map_err(|e| format!("{e}"))?;
    Ok((e.sql, e.plan))
}
