//! Latency samples, their summary, and the Markdown tables the benchmark
//! prints (the format of BENCHMARKS.md).

use std::time::{Duration, Instant};

use super::client::Reply;
use super::Res;

/// Requests sent before measuring, to open connections and warm caches.
pub const WARMUP: usize = 10;

/// One table row: a measured request, or why it could not be measured.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Measured(Summary),
    NotAvailable(String),
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub median: Duration,
    pub p99: Duration,
    pub count: usize,
    /// Requests per second of the measured loop (wall clock).
    pub rate: f64,
    /// Extra facts: result sizes, non-2xx answers (which are included in
    /// the latencies) and the first of them.
    pub note: String,
}

impl Row {
    pub fn measured(label: impl Into<String>, s: Summary) -> Row {
        Row {
            label: label.into(),
            outcome: Outcome::Measured(s),
        }
    }

    pub fn not_available(label: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            label: label.into(),
            outcome: Outcome::NotAvailable(why.into()),
        }
    }

    pub fn median(&self) -> Option<Duration> {
        match &self.outcome {
            Outcome::Measured(s) => Some(s.median),
            Outcome::NotAvailable(_) => None,
        }
    }
}

/// Nearest-rank percentile of sorted samples (`p` in 0..=100).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn summarize(mut lat: Vec<Duration>, wall: Duration, note: String) -> Summary {
    lat.sort_unstable();
    let count = lat.len();
    Summary {
        median: percentile(&lat, 50.0),
        p99: percentile(&lat, 99.0),
        count,
        rate: count as f64 / wall.as_secs_f64().max(1e-9),
        note,
    }
}

/// Runs `one` [`WARMUP`] times untimed, then `iterations` times, and
/// summarizes the latencies it reports. `one` times what it wants measured
/// (so it can do untimed set-up or clean-up around the request).
pub fn measure(iterations: usize, mut one: impl FnMut() -> Res<(Duration, Reply)>) -> Res<Summary> {
    for _ in 0..WARMUP {
        one()?;
    }
    let mut lat = Vec::with_capacity(iterations);
    let (mut errors, mut first_error) = (0, String::new());
    let start = Instant::now();
    for _ in 0..iterations {
        let (d, reply) = one()?;
        if !reply.ok() {
            errors += 1;
            if first_error.is_empty() {
                first_error = reply.describe();
            }
        }
        lat.push(d);
    }
    let note = if errors > 0 {
        format!("{errors} errors, first: {first_error}")
    } else {
        String::new()
    };
    Ok(summarize(lat, start.elapsed(), note))
}

/// Milliseconds, with precision that suits the magnitude.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.3} ms")
    } else if v < 1000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// Thousands separated by commas, as BENCHMARKS.md writes them.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn rate(r: f64) -> String {
    if r >= 100.0 {
        thousands(r.round() as u64)
    } else {
        format!("{r:.1}")
    }
}

/// A Markdown table of `rows` under a heading.
pub fn print_table(title: &str, rows: &[Row]) {
    println!("### {title}\n");
    println!("| request | median | p99 | count | req/s | note |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        match &r.outcome {
            Outcome::Measured(s) => println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.label,
                ms(s.median),
                ms(s.p99),
                s.count,
                rate(s.rate),
                s.note
            ),
            Outcome::NotAvailable(why) => {
                println!("| {} | not available | | | | {} |", r.label, why)
            }
        }
    }
    println!();
}
