//! Scenario `membership` (issue 5): adding one member should cost the same
//! in a group of 10 as in a group of 100,000. Then a PUT that replaces a
//! 100,000-member list, checked in the database afterwards.

use std::time::Instant;

use serde_json::{json, Value};
use uuid::Uuid;

use super::client::Request;
use super::seed::{add_members, create_group, member_counts, GROUP_SCHEMA};
use super::stats::{measure, ms, print_table, Row};
use super::{fail, Bench, Res};

const SMALL: usize = 10;
const LARGE: usize = 100_000;
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn add_member(id: Uuid) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": id.to_string()}]}
    ]})
}

fn remove_member(id: Uuid) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{id}\"]")}
    ]})
}

fn group_path(group: Uuid) -> String {
    format!("/scim/v2/Groups/{group}?excludedAttributes=members")
}

/// Times PATCH-adding a user who is not yet a member (one of
/// `ids[outside_from..]`), then removes that user again, untimed, so the
/// group keeps its size.
fn time_adds(b: &mut Bench, group: Uuid, outside_from: usize) -> Res<Row> {
    let path = group_path(group);
    let n = b.seeded.len();
    let s = measure(b.iterations, || {
        let user = b.seeded.ids[b.rng.range(outside_from, n)];
        let timed = b
            .client
            .timed(&Request::with_body("PATCH", &path, &add_member(user)))?;
        b.client
            .expect_ok(&Request::with_body("PATCH", &path, &remove_member(user)))?;
        Ok(timed)
    })?;
    Ok(Row::measured("", s))
}

pub fn run(b: &mut Bench) -> Res<()> {
    let n = b.seeded.len();
    // The large group takes most users, leaving some outside it to add.
    let large = LARGE.min(n * 3 / 4);
    if large <= SMALL {
        return fail(format!("membership needs more users (--users {n})"));
    }
    let small_group = create_group(&b.client, "bench-small")?;
    let large_group = create_group(&b.client, "bench-large")?;
    add_members(&b.db_url, small_group, &b.seeded.ids[..SMALL])?;
    add_members(&b.db_url, large_group, &b.seeded.ids[..large])?;

    let mut small = time_adds(b, small_group, SMALL)?;
    small.label = format!("`PATCH` add 1 member, group of {SMALL}");
    let mut big = time_adds(b, large_group, large)?;
    big.label = format!("`PATCH` add 1 member, group of {large}");
    let ratio = match (small.median(), big.median()) {
        (Some(s), Some(l)) if !s.is_zero() => l.as_secs_f64() / s.as_secs_f64(),
        _ => f64::NAN,
    };
    let title = format!("Membership changes ({n} users, `?excludedAttributes=members`)");
    print_table(&title, &[small, big]);
    println!("Median ratio, group of {large} : group of {SMALL} = {ratio:.2}\n");

    put_large(b, large_group, large)
}

/// Replaces the large group's members with another `size` users (half of
/// them already members), times the PUT once and checks the result in SQL.
fn put_large(b: &mut Bench, group: Uuid, size: usize) -> Res<()> {
    let n = b.seeded.len();
    let first = (size / 2).min(n - size);
    let wanted: Vec<Uuid> = b.seeded.ids[first..first + size].to_vec();
    let members: Vec<Value> = wanted
        .iter()
        .map(|id| json!({"value": id.to_string()}))
        .collect();
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "bench-large", "members": members});
    let req = Request::with_body("PUT", group_path(group), &body);
    let bytes = req.body.as_ref().map_or(0, String::len);
    let start = Instant::now();
    let reply = b.client.send(&req)?;
    let took = start.elapsed();
    let (rows, matching, counted) = member_counts(&b.db_url, group, &wanted)?;
    let verdict = if reply.ok() && rows == size as i64 && matching == rows && counted == rows {
        "verified"
    } else {
        "MISMATCH"
    };
    println!("### PUT of a {size}-member list\n");
    println!("| request | time | body | answer | members in SQL | of them in the list | member_count | check |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| `PUT /scim/v2/Groups/{{id}}?excludedAttributes=members` | {} | {:.2} MB | {} | {rows} | {matching} | {counted} | {verdict} |\n",
        ms(took),
        bytes as f64 / 1e6,
        if reply.ok() { format!("HTTP {}", reply.status) } else { reply.describe() },
    );
    Ok(())
}
