//! The scimd benchmark: starts a throwaway PostgreSQL cluster and scimd in
//! this process, seeds users straight into the database, and measures
//! scenarios over real HTTP on loopback. Prints Markdown tables for
//! BENCHMARKS.md.
//!
//! ```sh
//! cargo bench --bench scimd -- [--scenario NAME]... [--users N] \
//!     [--iterations N] [--soak-secs N]
//! ```
//!
//! Scenarios: `auth`, `filters`, `membership`, `bulk`, `forged`, `patch`,
//! `soak` (default: all,
//! run in that order).

mod support;

use std::process::ExitCode;
use std::time::Instant;

use support::client::Client;
use support::env::{self, ClusterGuard, ServerGuard};
use support::{
    auth, bulk, declared, filters, forged, membership, patch_limits, seed, soak, Bench, Res,
};

const SCENARIOS: [&str; 8] = [
    "auth",
    "filters",
    "declared",
    "membership",
    "bulk",
    "forged",
    "patch",
    "soak",
];

#[derive(Debug)]
struct Args {
    scenarios: Vec<String>,
    users: usize,
    iterations: usize,
    soak_secs: u64,
}

const USAGE: &str =
    "usage: cargo bench --bench scimd -- [--scenario auth|filters|declared|membership|bulk|forged|patch|soak]... \
[--users N (1000)] [--iterations N (200)] [--soak-secs N (600)]";

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Res<T> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a number\n{USAGE}").into())
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        scenarios: Vec::new(),
        users: 1000,
        iterations: 200,
        soak_secs: 600,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            // cargo passes `--bench` to every benchmark binary.
            "--bench" => {}
            "--scenario" => match it.next() {
                Some(s) if SCENARIOS.contains(&s.as_str()) => args.scenarios.push(s),
                other => return Err(format!("unknown scenario {other:?}\n{USAGE}").into()),
            },
            "--users" => args.users = number(&a, it.next())?,
            "--iterations" => args.iterations = number(&a, it.next())?,
            "--soak-secs" => args.soak_secs = number(&a, it.next())?,
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}").into()),
        }
    }
    if args.scenarios.is_empty() {
        args.scenarios = SCENARIOS.iter().map(|s| s.to_string()).collect();
    }
    if args.users == 0 || args.iterations == 0 {
        return Err(format!("--users and --iterations must be at least 1\n{USAGE}").into());
    }
    Ok(args)
}

fn print_header(args: &Args, seeding_secs: f64) {
    println!("## scimd benchmark\n");
    println!("- machine: {}", env::machine());
    println!(
        "- setup: release build; scimd in-process (2 HTTP workers, pool of 10, default \
         config), its own throwaway embedded PostgreSQL cluster (Unix socket), \
         blocking `ureq` clients on loopback in the same process"
    );
    println!(
        "- data: {} users seeded in {seeding_secs:.1} s (multi-row INSERTs + VACUUM ANALYZE)",
        args.users
    );
    println!(
        "- per measured request row: {} warm-up requests, then {} sequential requests, random targets",
        support::stats::WARMUP,
        args.iterations
    );
    println!("- scenarios: {}\n", args.scenarios.join(", "));
}

fn run_scenarios(args: &Args, b: &mut Bench) -> Res<()> {
    let wants = |s: &str| args.scenarios.iter().any(|x| x == s);
    for name in SCENARIOS.iter().filter(|s| wants(s)) {
        eprintln!("running scenario {name}");
        match *name {
            "auth" => auth::run(b)?,
            "filters" => filters::run(b)?,
            "declared" => declared::run(b)?,
            "membership" => membership::run(b)?,
            "bulk" => bulk::run(b)?,
            "forged" => forged::run(b)?,
            "patch" => patch_limits::run(b)?,
            _ => {
                println!("Soak mix: {}.\n", soak::describe_mix());
                soak::run(b, args.soak_secs)?
            }
        }
    }
    Ok(())
}

fn run(args: &Args) -> Res<()> {
    eprintln!("starting a throwaway PostgreSQL cluster");
    let cluster = ClusterGuard::start()?;
    let db_url = cluster.prepare_database()?;
    let server = ServerGuard::start(&db_url)?;
    let token = env::mint_token(&db_url)?;
    eprintln!("seeding {} users", args.users);
    let started = Instant::now();
    let seeded = seed::seed_users(&db_url, args.users)?;
    print_header(args, started.elapsed().as_secs_f64());
    let mut bench = Bench {
        client: Client::new(&server.base, &token),
        db_url,
        seeded,
        iterations: args.iterations,
        rng: support::rng::Rng::new(0x5C1D),
    };
    let result = run_scenarios(args, &mut bench);
    // Server first, then the cluster under it (reverse order of creation).
    drop(server);
    drop(cluster);
    result
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
