//! Scenario `bulk` (issue 5): 1,000 user creations in Bulk requests
//! (RFC 7644 §3.7), split only if `/ServiceProviderConfig` advertises a
//! lower `maxOperations`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::Request;
use super::seed::USER_SCHEMA;
use super::stats::{ms, rate};
use super::{Bench, Res};

const OPERATIONS: usize = 1000;
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn operation(k: usize) -> Value {
    let name = format!("bulk{k:05}@example.com");
    json!({
        "method": "POST",
        "path": "/Users",
        "bulkId": format!("b{k}"),
        "data": {
            "schemas": [USER_SCHEMA],
            "userName": name,
            "externalId": format!("bulk-ext-{k:05}"),
            "displayName": format!("Bulk User {k}"),
            "name": {"givenName": "Bulk", "familyName": format!("User{k}")},
            "emails": [{"value": name, "type": "work", "primary": true}],
            "active": true,
        }
    })
}

/// Operations per request: `maxOperations` when the server advertises
/// bulk support with a lower limit, else all of them at once.
fn chunk_size(b: &Bench) -> Res<usize> {
    let spc = b
        .client
        .expect_ok(&Request::get("/scim/v2/ServiceProviderConfig"))?
        .json()?;
    let max = spc["bulk"]["maxOperations"].as_u64().unwrap_or(0) as usize;
    Ok(if spc["bulk"]["supported"] == json!(true) && max > 0 {
        max.min(OPERATIONS)
    } else {
        OPERATIONS
    })
}

/// Created users (status 201) in a BulkResponse.
fn created(body: &Value) -> usize {
    body["Operations"].as_array().map_or(0, |ops| {
        ops.iter()
            .filter(|o| o["status"].as_str() == Some("201") || o["status"].as_u64() == Some(201))
            .count()
    })
}

pub fn run(b: &mut Bench) -> Res<()> {
    let chunk = chunk_size(b)?;
    let ops: Vec<Value> = (0..OPERATIONS).map(operation).collect();
    let (mut took, mut requests, mut ok_users) = (Duration::ZERO, 0, 0);
    println!("### Bulk: {OPERATIONS} user POSTs\n");
    for part in ops.chunks(chunk) {
        let body = json!({"schemas": [BULK_REQUEST], "Operations": part});
        let req = Request::with_body("POST", "/scim/v2/Bulk", &body);
        let start = Instant::now();
        let reply = b.client.send(&req)?;
        took += start.elapsed();
        requests += 1;
        if !reply.ok() {
            println!(
                "not available: `POST /scim/v2/Bulk` answered {}\n",
                reply.describe()
            );
            return Ok(());
        }
        ok_users += created(&reply.json()?);
    }
    println!("| requests | operations per request | total time | users created | users/s |");
    println!("|---|---|---|---|---|");
    println!(
        "| {requests} | {chunk} | {} | {ok_users} | {} |\n",
        ms(took),
        rate(ok_users as f64 / took.as_secs_f64().max(1e-9))
    );
    Ok(())
}
