//! Change events (issue 18). Every committed change to a resource writes
//! an event row with it (`store::events`); here: the dispatcher that numbers
//! them once committed, the subscriptions that say where they go, and the
//! workers that deliver them.
//!
//! Every `scimd serve` runs a dispatcher and delivery workers; they share
//! the work through the database (an advisory lock for numbering, leases
//! for subscriptions), so any number of instances deliver each event once
//! per subscription, barring a crash mid-delivery (then again, with the
//! same id).

pub mod deliver;
pub mod guard;
pub mod subscriptions;
pub mod transport;
pub mod webhook;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::service::secretbox::Sealer;
use crate::store::{self, events as outbox, PgPool};
use guard::Allowed;
use transport::Transport;

/// What the operator sets for events and their delivery.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// Delivery threads per instance.
    pub workers: usize,
    /// Events one webhook POST carries at most.
    pub batch: i64,
    /// How long a delivery may take.
    pub timeout: Duration,
    /// How long a failing batch is retried before it is parked.
    pub retry_window: Duration,
    /// How long numbered events are kept (for replays).
    pub retention: chrono::Duration,
    /// Most bytes of a receiver's answer read.
    pub max_response: usize,
    /// The first retry's wait; each failure doubles it (to an hour).
    pub backoff_base: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            workers: 4,
            batch: 100,
            timeout: Duration::from_secs(10),
            retry_window: Duration::from_secs(3 * 24 * 3600),
            retention: chrono::Duration::days(7),
            max_response: 64 * 1024,
            backoff_base: Duration::from_secs(1),
        }
    }
}

/// What a running server holds for events: the key that opens secrets,
/// the destinations it may call, and the HTTP client.
pub struct Events {
    pub config: Arc<EventsConfig>,
    pub sealer: Arc<Sealer>,
    pub allowed: Allowed,
    pub transport: Arc<Transport>,
}

impl Events {
    /// Sets up what `config` says: the sealing key (loaded or created), the
    /// allowed destinations, the HTTP client.
    pub fn load(config: &crate::config::Config) -> Result<Events, String> {
        let sealer = Sealer::load(
            &config.data_dir,
            config.secrets_key.as_ref().map(|k| k.expose()),
            config.secrets_key_file.as_deref(),
        )?;
        let allowed = guard::parse_allowed(&config.webhook_allowed_hosts)
            .map_err(|e| format!("SCIMD_WEBHOOK_ALLOWED_HOSTS: {e}"))?;
        let transport = Transport::new(
            allowed.clone(),
            config.events.timeout,
            config.events.max_response,
        )?;
        Ok(Events {
            config: Arc::new(config.events.clone()),
            sealer: Arc::new(sealer),
            allowed,
            transport: Arc::new(transport),
        })
    }
}

/// How many events one dispatcher statement numbers, and how long it waits
/// when there were none.
const DISPATCH_BATCH: i64 = 1000;
const DISPATCH_IDLE: Duration = Duration::from_millis(50);
/// How often events past retention are deleted, and the backlog measured.
const TRIM_EVERY: Duration = Duration::from_secs(600);
const TRIM_BATCH: i64 = 10_000;
const BACKLOG_EVERY: Duration = Duration::from_secs(15);

/// This instance's dispatcher and delivery workers, running until it is
/// dropped.
pub struct Running {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops the threads and waits up to `wait` for them to finish what
    /// they are doing (a delivery in flight may take its whole timeout; it
    /// is then abandoned, and delivered again by whoever runs next: at
    /// least once). Call before the database goes away.
    pub fn shutdown(mut self, wait: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + wait;
        while self.threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.threads.clear();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts this instance's dispatcher and delivery workers.
pub fn start(pool: &PgPool, events: &Events, clock: &Clock, metrics: &Arc<Metrics>) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    {
        let (pool, clock, metrics) = (pool.clone(), clock.clone(), Arc::clone(metrics));
        let retention = events.config.retention;
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("event-dispatch".into())
            .spawn(move || dispatch_loop(&pool, &clock, &metrics, retention, &stop))
            .map_err(|e| log::error!("event dispatcher not started: {e}"))
            .map(|t| threads.push(t))
            .ok();
    }
    for n in 0..events.config.workers {
        let worker = deliver::Worker {
            pool: pool.clone(),
            config: Arc::clone(&events.config),
            sealer: Arc::clone(&events.sealer),
            transport: Arc::clone(&events.transport),
            clock: clock.clone(),
            metrics: Arc::clone(metrics),
            stop: Arc::clone(&stop),
            id: Uuid::new_v4(),
        };
        std::thread::Builder::new()
            .name(format!("event-deliver-{n}"))
            .spawn(move || worker.run())
            .map_err(|e| log::error!("event delivery worker not started: {e}"))
            .map(|t| threads.push(t))
            .ok();
    }
    Running { stop, threads }
}

fn dispatch_loop(
    pool: &PgPool,
    clock: &Clock,
    metrics: &Metrics,
    retention: chrono::Duration,
    stop: &AtomicBool,
) {
    let mut trimmed = Instant::now() - TRIM_EVERY;
    let mut measured = Instant::now() - BACKLOG_EVERY;
    while !stop.load(Ordering::Relaxed) {
        match store::run_here(pool, |conn| outbox::dispatch(conn, DISPATCH_BATCH)) {
            Ok(n) if n > 0 => {
                metrics.events_numbered(u64::try_from(n).unwrap_or(0));
                // More may be waiting: no pause.
                continue;
            }
            Ok(_) => {}
            Err(e) => log::warn!("event dispatch failed: {e}"),
        }
        if measured.elapsed() >= BACKLOG_EVERY {
            measured = Instant::now();
            backlog(pool, clock, metrics);
        }
        if trimmed.elapsed() >= TRIM_EVERY {
            trimmed = Instant::now();
            trim(pool, clock, retention);
        }
        std::thread::sleep(DISPATCH_IDLE);
    }
}

fn backlog(pool: &PgPool, clock: &Clock, metrics: &Metrics) {
    let now = clock.now();
    let read = store::run_here(pool, |conn| {
        Ok((outbox::unnumbered(conn)?, store::subscriptions::lag(conn)?))
    });
    match read {
        Ok((unnumbered, subs)) => {
            let subs: Vec<(String, i64, i64)> = subs
                .into_iter()
                .map(|(id, _, lag, oldest)| {
                    let age = oldest.map_or(0, |t| (now - t).num_seconds().max(0));
                    (id.to_string(), lag.max(0), if lag > 0 { age } else { 0 })
                })
                .collect();
            metrics.set_event_backlog(unnumbered, &subs);
        }
        Err(e) => log::warn!("event backlog not measured: {e}"),
    }
}

fn trim(pool: &PgPool, clock: &Clock, retention: chrono::Duration) {
    let before = clock.now() - retention;
    loop {
        match store::run_here(pool, |conn| outbox::trim(conn, before, TRIM_BATCH)) {
            Ok(n) if (n as i64) < TRIM_BATCH => return,
            Ok(_) => {}
            Err(e) => {
                log::warn!("change events not trimmed: {e}");
                return;
            }
        }
    }
}
