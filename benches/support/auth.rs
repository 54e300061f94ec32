//! Scenario `auth`: what authentication and one read cost, against a
//! request that needs neither.

use super::client::Request;
use super::stats::{measure, print_table, Row};
use super::{Bench, Res};

pub fn run(b: &mut Bench) -> Res<()> {
    let health = measure(b.iterations, || b.client.timed(&Request::get("/health")))?;
    let mut rows = vec![Row::measured(
        "`GET /health` (no auth, no database)",
        health,
    )];
    for (label, suffix) in [
        ("`GET /scim/v2/Users/{id}` (token + user + groups)", ""),
        (
            "`GET /scim/v2/Users/{id}?excludedAttributes=groups` (token + user)",
            "?excludedAttributes=groups",
        ),
    ] {
        let s = measure(b.iterations, || {
            let id = b.seeded.ids[b.rng.below(b.seeded.len())];
            b.client
                .timed(&Request::get(format!("/scim/v2/Users/{id}{suffix}")))
        })?;
        rows.push(Row::measured(label, s));
    }
    print_table("Authentication cost (sequential, one connection)", &rows);
    Ok(())
}
