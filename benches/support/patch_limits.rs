//! Scenario `patch` (issue 13): the slowest PATCH of a user that the limits
//! allow (`SCIMD_MAX_VALUES_PER_ATTRIBUTE` = 1000 values per attribute,
//! 1000 operations per request, 10 MiB per body), and what a request past
//! them costs to refuse. Every one runs inside the transaction that holds
//! the user's row lock, so its time is how long other writers of that user
//! wait.

use serde_json::{json, Value};

use super::client::Request;
use super::seed::user_doc;
use super::stats::{print_table, Row};
use super::{fail, Bench, Res};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const MAX: usize = 1000;

fn emails(from: usize, n: usize) -> Value {
    Value::Array(
        (from..from + n)
            .map(|i| json!({"value": format!("p{i}@example.com"), "type": "other"}))
            .collect(),
    )
}

fn patch(ops: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// A new user holding `stored` emails; returns its path.
fn user_with(b: &Bench, n: usize, stored: usize) -> Res<String> {
    let mut doc = user_doc(10_000_000 + n, &format!("patch-limits-{n}@example.com"));
    doc["emails"] = emails(0, stored);
    let r = b
        .client
        .expect_ok(&Request::with_body("POST", "/scim/v2/Users", &doc))?;
    match r.id() {
        Some(id) => Ok(format!("/scim/v2/Users/{id}")),
        None => fail("created user has no id"),
    }
}

/// Times one PATCH on a new user (fresh each time, so every iteration does
/// the same work) and checks its status.
fn measure(
    b: &Bench,
    label: &str,
    stored: usize,
    body: &Value,
    want: u16,
    iterations: usize,
) -> Res<Row> {
    let mut lat = Vec::with_capacity(iterations);
    let started = std::time::Instant::now();
    let size = body.to_string().len();
    for i in 0..iterations {
        let path = user_with(b, lat.len() * 1000 + i + label.len() * 100_000, stored)?;
        let (d, r) = b.client.timed(&Request::with_body("PATCH", path, body))?;
        if r.status != want {
            return fail(format!("{label}: {}", r.describe()));
        }
        lat.push(d);
    }
    Ok(Row::measured(
        label,
        super::stats::summarize(
            lat,
            started.elapsed(),
            format!("body {:.1} KiB", size as f64 / 1024.0),
        ),
    ))
}

pub fn run(b: &mut Bench) -> Res<()> {
    let n = b.iterations.clamp(1, 20);
    let add_all = patch(vec![
        json!({"op": "add", "path": "emails", "value": emails(0, MAX)}),
    ]);
    let one_by_one = patch(
        (0..MAX)
            .map(|i| json!({"op": "add", "path": "emails", "value": [{"value": format!("o{i}@example.com")}]}))
            .collect(),
    );
    let filtered: Vec<Value> = (0..MAX)
        .map(|i| {
            json!({"op": "replace", "path": format!("emails[value eq \"p{}@example.com\"].type", MAX - 1 - i), "value": "work"})
        })
        .collect();
    let filtered = patch(filtered);
    let dedup_all = patch(
        (0..MAX)
            .map(|_| json!({"op": "add", "path": "emails", "value": emails(0, 8)}))
            .collect(),
    );
    let too_many = patch(vec![
        json!({"op": "add", "path": "emails", "value": emails(0, 100_000)}),
    ]);
    let rows = vec![
        measure(
            b,
            "1 op adding 1,000 emails (0 → 1,000)",
            0,
            &add_all,
            200,
            n,
        )?,
        measure(
            b,
            "1,000 ops adding 1 email each (0 → 1,000)",
            0,
            &one_by_one,
            200,
            n,
        )?,
        measure(
            b,
            "1,000 ops `emails[value eq …].type` over 1,000 stored",
            MAX,
            &filtered,
            200,
            n,
        )?,
        measure(
            b,
            "1,000 ops re-adding 8 present emails over 1,000 stored",
            MAX,
            &dedup_all,
            200,
            n,
        )?,
        measure(
            b,
            "1 op adding 100,000 emails (refused: 400)",
            0,
            &too_many,
            400,
            n,
        )?,
    ];
    print_table(
        "PATCH /Users/{id} at the limits (a new user per request)",
        &rows,
    );
    Ok(())
}
