//! Scenario `forged` (issue 13): a flood of bad credentials from 32
//! connections against a fresh `scimd serve` process (the release binary,
//! so its memory is its own), while a legitimate token makes requests on a
//! new connection each. Three floods, each on its own fresh server:
//!
//! - values with a wrong checksum (refused before any database work);
//! - one forged value that names a real token id with the right prefix,
//!   length and checksum (anyone who has read an access log can build one);
//! - a new forged value per request for that id (each costs its primary-key
//!   read; a repeated one is remembered as refused);
//! - forged values, a new one per request, against a token still stored
//!   with argon2 by an earlier release (the bounded legacy path).
//!
//! "A new value per request" also means a new connection per request, so
//! those floods are slower at the client than the others.
//!
//! Reported per flood: its answers per second, the legitimate request's
//! p50/p99 on a new connection, and the server's peak resident memory
//! (`VmHWM`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::client::{Client, Request};
use super::env::{self, ChildServer};
use super::stats::percentile;
use super::{fail, Bench, Res};

const FLOOD_THREADS: usize = 32;
const FLOOD_SECS: u64 = 10;
/// Pause between legitimate requests, so they sample the flood rather than
/// add to it.
const PROBE_EVERY: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flood {
    WrongChecksum,
    ForgedOne,
    ForgedFresh,
    ForgedLegacy,
}

impl Flood {
    fn label(self) -> &'static str {
        match self {
            Flood::WrongChecksum => "wrong checksum (refused before the database)",
            Flood::ForgedOne => "one forged value naming a real token id",
            Flood::ForgedFresh => "a new forged value per request naming a real token id",
            Flood::ForgedLegacy => "new forged values naming a legacy (argon2) token id",
        }
    }
}

struct Outcome {
    flood_rate: f64,
    /// 503s: legacy verifications shed beyond the waiting limit.
    shed: usize,
    other: usize,
    legit: Vec<Duration>,
    legit_errors: usize,
    peak_kib: u64,
}

/// A value with the right format around `id` but a secret nobody issued.
fn forge(id: uuid::Uuid) -> Res<String> {
    Ok(scimd::auth::token::generate(id)
        .map_err(|e| e.to_string())?
        .expose()
        .to_string())
}

fn wrong_checksum(token: &str) -> String {
    let mut v = token.to_string();
    let last = if v.ends_with('A') { 'B' } else { 'A' };
    v.pop();
    v.push(last);
    v
}

fn run_one(b: &Bench, flood: Flood) -> Res<Outcome> {
    let server = ChildServer::start(&b.db_url)?;
    let legit = env::mint_token(&b.db_url)?;
    let victim = env::mint_token(&b.db_url)?;
    let victim_id = scimd::auth::token::parse(&victim)
        .map_err(|e| e.to_string())?
        .0;
    if flood == Flood::ForgedLegacy {
        // As a release before the change stored it.
        let phc = scimd::auth::hash::hash(&victim).map_err(|e| e.to_string())?;
        env::sql(
            &b.db_url,
            &format!("UPDATE api_tokens SET secret_hash = '{phc}' WHERE id = '{victim_id}'"),
        )?;
    }
    let user = b.seeded.ids[0];
    let path = format!("/scim/v2/Users/{user}?excludedAttributes=groups");
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let shed = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(AtomicUsize::new(0));
    let one_forged = forge(victim_id)?;
    let flooders: Vec<_> = (0..FLOOD_THREADS)
        .map(|_| {
            let (stop, answered, shed, other) =
                (stop.clone(), answered.clone(), shed.clone(), other.clone());
            let (base, path, victim, one_forged) = (
                server.base.clone(),
                path.clone(),
                victim.clone(),
                one_forged.clone(),
            );
            thread::spawn(move || -> Res<()> {
                let mut client = Client::new(&base, &value_for(flood, &victim, &one_forged)?);
                while !stop.load(Ordering::Relaxed) {
                    if matches!(flood, Flood::ForgedLegacy | Flood::ForgedFresh) {
                        client = Client::new(&base, &forge(victim_id)?);
                    }
                    match client.send(&Request::get(path.clone())) {
                        Ok(r) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            match r.status {
                                401 => {}
                                503 => {
                                    shed.fetch_add(1, Ordering::Relaxed);
                                }
                                _ => {
                                    other.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        Err(_) => client = client.fresh(),
                    }
                }
                Ok(())
            })
        })
        .collect();
    // Let the flood reach its steady state before sampling.
    thread::sleep(Duration::from_secs(1));
    let counted_from = answered.load(Ordering::Relaxed);
    let started = Instant::now();
    let probe = Client::new(&server.base, &legit);
    let (mut lat, mut legit_errors) = (Vec::new(), 0);
    while started.elapsed() < Duration::from_secs(FLOOD_SECS) {
        // A new connection each time, as a connector's next request would be.
        let fresh = probe.fresh();
        match fresh.timed(&Request::get(path.clone())) {
            Ok((d, r)) if r.ok() => lat.push(d),
            _ => legit_errors += 1,
        }
        thread::sleep(PROBE_EVERY);
    }
    let wall = started.elapsed();
    let flood_count = answered.load(Ordering::Relaxed) - counted_from;
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        match f.join() {
            Ok(r) => r?,
            Err(_) => return fail("a flood thread panicked"),
        }
    }
    lat.sort_unstable();
    Ok(Outcome {
        flood_rate: flood_count as f64 / wall.as_secs_f64(),
        shed: shed.load(Ordering::Relaxed),
        other: other.load(Ordering::Relaxed),
        legit: lat,
        legit_errors,
        peak_kib: server.peak_kib(),
    })
}

fn value_for(flood: Flood, victim: &str, one_forged: &str) -> Res<String> {
    Ok(match flood {
        Flood::WrongChecksum => wrong_checksum(victim),
        Flood::ForgedOne | Flood::ForgedFresh | Flood::ForgedLegacy => one_forged.to_string(),
    })
}

pub fn run(b: &mut Bench) -> Res<()> {
    println!("### Forged-token flood\n");
    println!(
        "{FLOOD_THREADS} flooding connections for {FLOOD_SECS} s against a fresh `scimd serve` \
         (release) each time; meanwhile one legitimate `GET /Users/{{id}}` every \
         {} ms, each on a new connection.\n",
        PROBE_EVERY.as_millis()
    );
    println!("| flood | flood answers/s | of them 503 (shed) | legitimate p50 | legitimate p99 | legitimate errors | peak RSS (VmHWM) |");
    println!("|---|---|---|---|---|---|---|");
    for flood in [
        Flood::WrongChecksum,
        Flood::ForgedOne,
        Flood::ForgedFresh,
        Flood::ForgedLegacy,
    ] {
        let o = run_one(b, flood)?;
        if o.other > 0 {
            return fail(format!("{} answered {} non-401s", flood.label(), o.other));
        }
        println!(
            "| {} | {:.0} | {} | {:.2} ms | {:.2} ms | {} of {} | {:.1} MiB |",
            flood.label(),
            o.flood_rate,
            o.shed,
            percentile(&o.legit, 50.0).as_secs_f64() * 1000.0,
            percentile(&o.legit, 99.0).as_secs_f64() * 1000.0,
            o.legit_errors,
            o.legit.len() + o.legit_errors,
            o.peak_kib as f64 / 1024.0,
        );
    }
    println!();
    Ok(())
}
