//! The connectors' request log (issue 17): what each request made with a
//! connector's token sent and got, so an administrator can answer "why did
//! Entra say this user failed?" without a packet capture.
//!
//! The HTTP layer hands a [`Record`] to [`RequestLog::push`], which never
//! waits: records go into a bounded queue, and when it is full they are
//! dropped and counted (`scimd_request_log_dropped_total`). One thread per
//! instance takes them off in batches, masks them (`mask`) with their
//! organization's key and writes each batch in one statement; it also
//! trims the log by age and by row count.

pub mod mask;

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::RequestLogConfig;
use crate::metrics::Metrics;
use crate::store::request_log::{self as rows, LoggedRequest, RequestQuery};
use crate::store::{self, PgPool, StoreError};
use mask::Masker;

/// One request, as captured: bodies still raw (masked by the writer, off
/// the request path).
#[derive(Debug)]
pub struct Record {
    pub org: Uuid,
    pub connector: Uuid,
    pub at: DateTime<Utc>,
    pub method: String,
    pub route: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration: Duration,
    pub request_id: String,
    pub resource_id: Option<Uuid>,
    pub request_body: Option<bytes::Bytes>,
    pub response_body: Option<bytes::Bytes>,
}

/// Most records one statement writes, and how long a batch waits to fill.
const BATCH: usize = 500;
const BATCH_WAIT: Duration = Duration::from_millis(200);
/// How often the log is trimmed.
const TRIM_EVERY: Duration = Duration::from_secs(600);

pub struct RequestLog {
    tx: SyncSender<Record>,
    metrics: Arc<Metrics>,
}

impl RequestLog {
    /// The log of this instance, its writer thread started.
    pub fn start(
        pool: PgPool,
        config: RequestLogConfig,
        clock: Clock,
        metrics: Arc<Metrics>,
        registries: Arc<crate::service::schemas::Registries>,
    ) -> RequestLog {
        let (tx, rx) = sync_channel(config.queue);
        let m = Arc::clone(&metrics);
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || write_loop(&pool, &config, &clock, &m, &registries, &rx))
            .map_err(|e| log::error!("request log writer not started: {e}"))
            .ok();
        RequestLog { tx, metrics }
    }

    /// Queues `r`; drops (and counts) it when the queue is full.
    pub fn push(&self, r: Record) {
        match self.tx.try_send(r) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.metrics.request_log_dropped(1);
            }
        }
    }
}

fn write_loop(
    pool: &PgPool,
    config: &RequestLogConfig,
    clock: &Clock,
    metrics: &Metrics,
    registries: &crate::service::schemas::Registries,
    rx: &Receiver<Record>,
) {
    let mut keys: HashMap<Uuid, Masker> = HashMap::new();
    let mut trimmed = Instant::now() - TRIM_EVERY;
    loop {
        if trimmed.elapsed() >= TRIM_EVERY {
            trimmed = Instant::now();
            let before = clock.now() - config.retention;
            match store::run_here(pool, |conn| rows::trim(conn, before, config.max_rows)) {
                Ok(0) => {}
                Ok(n) => log::info!("request log: trimmed {n} rows"),
                Err(e) => log::warn!("request log trim failed: {e}"),
            }
        }
        let first = match rx.recv_timeout(TRIM_EVERY) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => continue,
            // Every sender is gone: the server stopped.
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        let deadline = Instant::now() + BATCH_WAIT;
        while batch.len() < BATCH {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if let Err(e) = write(pool, config, registries, &mut keys, batch) {
            log::warn!("request log: {n} records not written: {e}");
            metrics.request_log_dropped(n as u64);
        }
    }
}

fn write(
    pool: &PgPool,
    config: &RequestLogConfig,
    registries: &crate::service::schemas::Registries,
    keys: &mut HashMap<Uuid, Masker>,
    batch: Vec<Record>,
) -> Result<(), StoreError> {
    let keep = Masker::new(None);
    if !config.keep_pii {
        let mut missing: Vec<Uuid> = batch
            .iter()
            .map(|r| r.org)
            .filter(|o| !keys.contains_key(o))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let found = store::run_here(pool, |conn| rows::keys(conn, &missing))?;
            keys.extend(
                found
                    .into_iter()
                    .map(|(org, k)| (org, Masker::new(Some(k)))),
            );
        }
        // What each organization marks sensitive now: the request being
        // logged was served with this registry, so this process holds it.
        for (org, m) in keys.iter_mut() {
            if batch.iter().any(|r| r.org == *org) {
                let names = registries
                    .cached_registry(*org)
                    .map(|r| r.sensitive_attributes())
                    .unwrap_or_default();
                m.with_declared(names);
            }
        }
    }
    let rows: Vec<LoggedRequest> = batch
        .into_iter()
        .filter_map(|r| {
            // An organization deleted meanwhile has no key: nothing to log.
            let m = if config.keep_pii {
                &keep
            } else {
                keys.get(&r.org)?
            };
            Some(masked(m, r))
        })
        .collect();
    store::run_here(pool, |conn| rows::insert(conn, &rows))?;
    Ok(())
}

fn masked(m: &Masker, r: Record) -> LoggedRequest {
    let inbound = r
        .request_body
        .as_deref()
        .map(|b| m.body(b))
        .unwrap_or_default();
    let outbound = r
        .response_body
        .as_deref()
        .map(|b| m.body(b))
        .unwrap_or_default();
    // A create names its resource only in the answer.
    let resource_id = r
        .resource_id
        .or_else(|| Uuid::parse_str(outbound.id.as_deref()?).ok());
    LoggedRequest {
        id: Uuid::now_v7(),
        org_id: r.org,
        connector_id: r.connector,
        at: r.at,
        method: r.method,
        route: r.route,
        path: r.path,
        query: (!r.query.is_empty()).then(|| query(m, &r.query)),
        status: i16::try_from(r.status).unwrap_or(i16::MAX),
        duration_ms: r.duration.as_secs_f64() * 1000.0,
        request_id: r.request_id,
        resource_id,
        truncated: inbound.cut || outbound.cut,
        request_body: inbound.text,
        response_body: outbound.text,
    }
}

/// The query string, decoded, with a filter's literals masked.
fn query(m: &Masker, raw: &str) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).unwrap_or_else(|_| vec![(raw.to_string(), String::new())]);
    pairs
        .into_iter()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("filter") {
                m.literals(&v)
            } else {
                v
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A page of a connector's requests, newest first.
#[derive(Debug, serde::Serialize)]
pub struct RequestPage {
    pub requests: Vec<LoggedRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub async fn list(
    pool: &PgPool,
    org: Uuid,
    connector: Uuid,
    mut q: RequestQuery,
) -> Result<RequestPage, StoreError> {
    let limit = q.limit;
    q.limit += 1;
    let mut rows = store::read(pool, move |conn| rows::list(conn, org, connector, &q)).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(RequestPage {
        next_cursor: more
            .then(|| rows.last().map(|r| super::keyset::encode(r.at, r.id)))
            .flatten(),
        requests: rows,
    })
}
