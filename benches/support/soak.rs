//! Scenario `soak` (issue 9): a mixed workload from 16 client threads for
//! `--soak-secs`, with per-operation latency and throughput, and scimd's
//! resident memory over time. scimd runs as its own process here (the
//! release binary, `scimd serve`), so the figure is the server's alone: not
//! the clients' latency records, not PostgreSQL's.
//!
//! The directory's size is held steady: each worker deletes the users it
//! created (oldest first) as often as it creates, and member adds draw from
//! the seeded users, so group sizes saturate. Memory growth then means the
//! server holds on to something, not that the data grew.

use std::collections::{BTreeMap, VecDeque};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::client::{query, Client, Request};
use super::env::ChildServer;
use super::rng::Rng;
use super::seed::{create_group, user_doc, user_name};
use super::stats::{print_table, summarize, Row};
use super::{fail, Bench, Res};

const THREADS: usize = 16;
const GROUPS: usize = 4;
/// RSS is compared against its value this far into the run.
const SETTLE: Duration = Duration::from_secs(60);
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Read,
    Filter,
    Patch,
    Create,
    Delete,
    List,
    AddMember,
}

/// The mix, in relative weights.
const MIX: [(Op, u64); 7] = [
    (Op::Read, 35),
    (Op::Filter, 20),
    (Op::Patch, 15),
    (Op::Create, 8),
    (Op::Delete, 8),
    (Op::List, 9),
    (Op::AddMember, 5),
];

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::Read => "read `GET /Users/{id}`",
            Op::Filter => "filter `userName eq`",
            Op::Patch => "`PATCH /Users/{id}` replace displayName",
            Op::Create => "create `POST /Users`",
            Op::Delete => "`DELETE /Users/{id}` (one this worker created)",
            Op::List => "list page `startIndex≤1000&count=50`",
            Op::AddMember => "`PATCH /Groups/{id}` add member",
        }
    }

    fn pick(rng: &mut Rng) -> Op {
        let total: u64 = MIX.iter().map(|(_, w)| w).sum();
        let mut x = rng.next_u64() % total;
        for (op, w) in MIX {
            if x < w {
                return op;
            }
            x -= w;
        }
        Op::Read
    }
}

/// What one worker needs to build requests.
struct Targets<'a> {
    ids: &'a [Uuid],
    groups: &'a [Uuid],
}

/// `created`: the users this worker created and has not deleted yet, oldest
/// first. A delete with none left creates instead, so the mix stays even.
fn request(
    op: Op,
    t: &Targets,
    rng: &mut Rng,
    worker: usize,
    seq: usize,
    created: &mut VecDeque<Uuid>,
) -> (Op, Request) {
    let victim = if op == Op::Delete {
        created.pop_front()
    } else {
        None
    };
    match victim {
        Some(id) => (op, Request::delete(format!("/scim/v2/Users/{id}"))),
        None if op == Op::Delete => (Op::Create, build(Op::Create, t, rng, worker, seq)),
        None => (op, build(op, t, rng, worker, seq)),
    }
}

fn build(op: Op, t: &Targets, rng: &mut Rng, worker: usize, seq: usize) -> Request {
    let n = t.ids.len();
    let user = t.ids[rng.below(n)];
    match op {
        Op::Read => Request::get(format!("/scim/v2/Users/{user}")),
        Op::Filter => {
            let f = format!("userName eq \"{}\"", user_name(rng.below(n)));
            Request::get(query("/scim/v2/Users", &[("filter", &f)]))
        }
        Op::Patch => {
            let body = json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "displayName", "value": format!("Soak {worker}-{seq}")}
            ]});
            Request::with_body("PATCH", format!("/scim/v2/Users/{user}"), &body)
        }
        // A delete reaches here only when there is nothing to delete.
        Op::Create | Op::Delete => {
            let doc = user_doc(n + seq, &format!("soak-{worker}-{seq}@example.com"));
            Request::with_body("POST", "/scim/v2/Users", &doc)
        }
        Op::List => {
            let start = (rng.below(n.min(1000)) + 1).to_string();
            Request::get(query(
                "/scim/v2/Users",
                &[("startIndex", &start), ("count", "50")],
            ))
        }
        Op::AddMember => {
            let group = t.groups[rng.below(t.groups.len())];
            let body = json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": user.to_string()}]}
            ]});
            let path = format!("/scim/v2/Groups/{group}?excludedAttributes=members");
            Request::with_body("PATCH", path, &body)
        }
    }
}

#[derive(Default)]
struct OpStats {
    lat: Vec<Duration>,
    errors: usize,
    first_error: String,
}

impl OpStats {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_empty() {
            self.first_error = what;
        }
    }
}

type Tally = BTreeMap<Op, OpStats>;

/// One client thread: random operations until `deadline`.
fn worker(base: &Client, t: &Targets, id: usize, deadline: Instant) -> Tally {
    let mut client = base.fresh();
    let mut rng = Rng::new(0x5EED_0000 + id as u64);
    let mut tally = Tally::new();
    let mut seq = 0;
    let mut created = VecDeque::new();
    while Instant::now() < deadline {
        seq += 1;
        let (op, req) = request(Op::pick(&mut rng), t, &mut rng, id, seq, &mut created);
        let stats = tally.entry(op).or_default();
        match client.timed(&req) {
            Ok((d, reply)) => {
                stats.lat.push(d);
                if !reply.ok() {
                    stats.error(reply.describe());
                } else if op == Op::Create {
                    if let Some(new) = reply.id() {
                        created.push_back(new);
                    }
                }
            }
            Err(e) => {
                stats.error(e.to_string());
                client = base.fresh();
            }
        }
    }
    tally
}

/// RSS samples: at the start, after [`SETTLE`] (or half-way through a
/// shorter run), and at the end.
struct Memory {
    start: u64,
    settled: u64,
    settled_at: Duration,
    end: u64,
    peak: u64,
    /// (seconds into the run, KiB) every [`SAMPLE_EVERY`], to show the curve.
    curve: Vec<(u64, u64)>,
}

const SAMPLE_EVERY: Duration = Duration::from_secs(60);

fn watch_memory(server: &ChildServer, deadline: Instant) -> Memory {
    let rss_kib = || server.rss_kib();
    let began = Instant::now();
    let settle_at = SETTLE.min(deadline.saturating_duration_since(began) / 2);
    let start = rss_kib();
    let mut m = Memory {
        start,
        settled: start,
        settled_at: settle_at,
        end: start,
        peak: start,
        curve: vec![(0, start)],
    };
    let mut next_sample = SAMPLE_EVERY;
    let mut settled = false;
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(250));
        let now = rss_kib();
        m.peak = m.peak.max(now);
        if began.elapsed() >= next_sample {
            m.curve.push((next_sample.as_secs(), now));
            next_sample += SAMPLE_EVERY;
        }
        if !settled && began.elapsed() >= settle_at {
            (m.settled, settled) = (now, true);
        }
    }
    m.end = rss_kib();
    m
}

fn merge(into: &mut Tally, from: Tally) {
    for (op, s) in from {
        let e = into.entry(op).or_default();
        e.lat.extend(s.lat);
        e.errors += s.errors;
        if e.first_error.is_empty() {
            e.first_error = s.first_error;
        }
    }
}

fn rows(tally: Tally, wall: Duration) -> Vec<Row> {
    let mut all = Vec::new();
    let mut rows = Vec::new();
    let mut errors = 0;
    for (op, s) in tally {
        all.extend_from_slice(&s.lat);
        errors += s.errors;
        let note = if s.errors > 0 {
            format!("{} errors, first: {}", s.errors, s.first_error)
        } else {
            String::new()
        };
        rows.push(Row::measured(op.label(), summarize(s.lat, wall, note)));
    }
    let note = format!("{errors} errors");
    rows.push(Row::measured(
        "**all operations**",
        summarize(all, wall, note),
    ));
    rows
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn print_memory(m: &Memory) {
    let growth = (m.end as f64 - m.settled as f64) / (m.settled.max(1) as f64) * 100.0;
    println!(
        "| RSS at start | after {} s | at end | peak | growth after {} s |",
        m.settled_at.as_secs(),
        m.settled_at.as_secs()
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {growth:+.1}% |\n",
        mib(m.start),
        mib(m.settled),
        mib(m.end),
        mib(m.peak)
    );
    let curve: Vec<String> = m
        .curve
        .iter()
        .map(|(t, kib)| format!("{t} s: {}", mib(*kib)))
        .collect();
    println!("RSS over time: {}.\n", curve.join(", "));
    println!("(RSS of the `scimd serve` process alone; the clients and PostgreSQL are separate processes.)\n");
}

pub fn run(b: &mut Bench, secs: u64) -> Res<()> {
    let server = ChildServer::start(&b.db_url)?;
    let client = b.client.at(&server.base);
    let groups: Vec<Uuid> = (0..GROUPS)
        .map(|g| create_group(&client, &format!("soak-{g}")))
        .collect::<Res<_>>()?;
    let targets = Targets {
        ids: &b.seeded.ids,
        groups: &groups,
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let (tallies, memory) = thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                let (t, client) = (&targets, &client);
                s.spawn(move || worker(client, t, i, deadline))
            })
            .collect();
        let memory = watch_memory(&server, deadline);
        let tallies: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        (tallies, memory)
    });
    let wall = started.elapsed();
    let mut tally = Tally::new();
    for t in tallies {
        match t {
            Ok(t) => merge(&mut tally, t),
            Err(_) => return fail("a soak worker panicked"),
        }
    }
    let title = format!(
        "Soak: {THREADS} client threads, {} s, {} users seeded",
        wall.as_secs(),
        b.seeded.len()
    );
    print_table(&title, &rows(tally, wall));
    print_memory(&memory);
    Ok(())
}

/// The mix, for the report.
pub fn describe_mix() -> String {
    let parts: Vec<String> = MIX
        .iter()
        .map(|(op, w)| format!("{w}% {}", op.label()))
        .collect();
    parts.join(", ")
}
