//! The connection pool, and the helpers every operation runs its SQL in:
//! [`run`], [`read`], [`read_snapshot`] and [`in_tx`], each on the runtime's
//! blocking pool so diesel's synchronous calls never stall an async worker.
//!
//! Connections are not tested at check-out (r2d2's `SELECT 1` was a round
//! trip on every request). A connection that turns out dead when it is used
//! (the database restarted, a proxy dropped it) is discarded, and the work
//! runs again on another one where that is safe: reads always, and writes
//! whose transaction never began. After a restart every idle connection is
//! dead; each fails on first use in microseconds, so trying through them is
//! cheap.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool};
use diesel::Connection;

use super::{PgConnection, StoreError, TxRetries};

pub type PgPool = Pool<Manager>;

/// diesel's connection manager, with connections that can be marked lost.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
}

/// A pooled connection, and whether it was found dead while in use (then
/// the pool discards it instead of handing it out again).
pub struct Pooled {
    pg: PgConnection,
    lost: bool,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        Ok(Pooled {
            pg: self.inner.connect()?,
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        self.inner.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.lost || self.inner.has_broken(&mut conn.pg)
    }
}

/// Settings applied to every new connection: a statement timeout, so no
/// request can hold a worker longer than that.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout: Duration,
}

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        conn.pg
            .batch_execute(&format!(
                "SET statement_timeout = {}; SET lock_timeout = {}",
                self.statement_timeout.as_millis(),
                self.statement_timeout.as_millis()
            ))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

pub struct PoolSettings {
    pub size: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

/// Builds the pool without waiting for a first connection, so a database
/// that is down at start-up is reported by the first query, not by a hang.
pub fn build_pool(url: &str, s: &PoolSettings) -> PgPool {
    build_pool_observed(url, s, None)
}

/// [`build_pool`] reporting check-out waits and timeouts to `events` (the
/// server passes its metrics; storage does not know about them).
pub fn build_pool_observed(
    url: &str,
    s: &PoolSettings,
    events: Option<Box<dyn r2d2::HandleEvent>>,
) -> PgPool {
    let builder = Pool::builder();
    let builder = match events {
        Some(e) => builder.event_handler(e),
        None => builder,
    };
    builder
        .max_size(s.size)
        .min_idle(Some(1.min(s.size)))
        .connection_timeout(s.acquire_timeout)
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout: s.statement_timeout,
        }))
        .build_unchecked(Manager {
            inner: ConnectionManager::new(url),
        })
}

/// Runs `f` on a pooled connection, once: for work that must not run twice
/// (a statement outside a transaction that may have been applied before
/// the connection died). A lost connection is a 503.
pub async fn run<T, F>(pool: &PgPool, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    blocking(move || {
        let mut f = Some(f);
        on_live_connection(&pool, |conn| match f.take() {
            Some(f) => (f(conn), false),
            // Unreachable: an attempt that may not repeat ends the loop.
            None => (Err(StoreError::Db("run's closure ran twice".into())), false),
        })
    })
    .await
}

/// Runs the reads `f` makes, again on another connection if the first one
/// turns out dead: a read changes nothing, so repeating it is safe.
pub async fn read<T, F>(pool: &PgPool, mut f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    blocking(move || on_live_connection(&pool, |conn| (f(conn), true))).await
}

/// Runs the read `f` on a connection the pool has idle now, once; `None`
/// when it has none (it neither waits nor opens one). For a check that may
/// be skipped when the database is busy or away, where waiting for a
/// connection would cost more than the check is worth.
pub async fn read_if_idle<T, F>(pool: &PgPool, f: F) -> Option<Result<T, StoreError>>
where
    F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.try_get()?;
        let result = f(&mut conn.pg);
        if matches!(result, Err(StoreError::ConnectionLost(_))) {
            conn.lost = true;
        }
        Some(result)
    })
    .await
    .ok()
    .flatten()
}

/// [`read`] on the calling thread, for start-up work done before the
/// server runs (outside any async runtime).
pub fn read_blocking<T, F>(pool: &PgPool, f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError>,
{
    let mut f = f;
    on_live_connection(pool, |conn| (f(conn), true))
}

/// Runs `f`, a single statement outside any transaction (atomic on its
/// own, so it needs no `BEGIN`/`COMMIT`), again on another connection when
/// the first turns out dead. Whether the lost attempt was applied cannot be
/// known, so `f` is told when it runs again (`true`) and must make that
/// safe itself: a create writes the same client-chosen id both times and
/// reads a primary-key conflict on the repeat as "already done".
pub async fn single<T, F>(pool: &PgPool, mut f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection, bool) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    blocking(move || {
        let mut again = false;
        on_live_connection(&pool, |conn| {
            let result = f(conn, again);
            again = true;
            (result, true)
        })
    })
    .await
}

/// Like [`read`], with every read `f` makes in one snapshot (a read-only
/// REPEATABLE READ transaction): a list's `totalResults` and its page, or a
/// resource and its groups, then describe the same moment even while other
/// requests write.
pub async fn read_snapshot<T, F>(pool: &PgPool, mut f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    read(pool, move |conn| snapshot(conn, &mut f)).await
}

/// Runs `f`'s reads in one read-only REPEATABLE READ transaction on `conn`.
pub fn snapshot<T>(
    conn: &mut PgConnection,
    f: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(f)
}

/// Runs `f` in a transaction on a connection the caller already holds
/// (inside [`single`], say), for a fallback that must take row locks.
pub fn transaction<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.transaction(f)
}

/// How often a transaction that lost a serialization conflict or a deadlock
/// is tried in all, before the client is told to retry (503).
const TX_ATTEMPTS: usize = 3;

/// Runs `f` inside one transaction: everything it writes commits together
/// or not at all. A transaction that PostgreSQL aborts for a serialization
/// failure or a deadlock rolled back completely, so it is simply run again,
/// a bounded number of times; one whose `BEGIN` found the connection dead
/// runs on another connection.
pub async fn in_tx<T, F>(pool: &PgPool, retries: &Arc<TxRetries>, mut f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let retries = Arc::clone(retries);
    let pool = pool.clone();
    blocking(move || {
        on_live_connection(&pool, |conn| {
            let mut began = false;
            let mut attempt = 1;
            let result = loop {
                match conn.transaction(|c| {
                    began = true;
                    f(c)
                }) {
                    Err(StoreError::Transient { reason, cause }) => {
                        if attempt >= TX_ATTEMPTS {
                            break Err(StoreError::Unavailable(format!(
                                "transaction aborted {attempt} times: {cause}"
                            )));
                        }
                        retries.count(reason);
                        log::info!("retrying a transaction after: {cause}");
                        attempt += 1;
                    }
                    other => break other,
                }
            };
            // Once BEGIN went through, a lost connection leaves the outcome
            // to the server: never run the writes a second time.
            (result, !began)
        })
    })
    .await
}

/// Runs `f` on this thread (one outside the async runtime, such as a
/// periodic job), again on another connection if the first turns out dead:
/// only for work that may be repeated, like an idempotent delete.
pub fn run_here<T>(
    pool: &PgPool,
    mut f: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    on_live_connection(pool, |conn| (f(conn), true))
}

async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    // The runtime's blocking pool (actix's `web::block` is this call).
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unavailable(format!("blocking pool: {e}")))?
}

/// Runs `attempt` on pooled connections until one is alive: a connection
/// found lost is marked so the pool drops it, and the attempt is repeated
/// when it says that is safe. Every pooled connection can be dead at once
/// (after a restart), so up to the pool's size plus one are tried; a
/// database that is really down ends the loop at check-out instead, when
/// no new connection can be made within the acquire timeout.
fn on_live_connection<T>(
    pool: &PgPool,
    mut attempt: impl FnMut(&mut PgConnection) -> (Result<T, StoreError>, bool),
) -> Result<T, StoreError> {
    let mut last = String::new();
    for _ in 0..=pool.max_size() {
        let mut conn = pool.get()?;
        let (result, may_repeat) = attempt(&mut conn.pg);
        match result {
            Err(StoreError::ConnectionLost(cause)) => {
                conn.lost = true;
                if !may_repeat {
                    return Err(StoreError::Unavailable(cause));
                }
                last = cause;
            }
            other => return other,
        }
    }
    Err(StoreError::Unavailable(format!(
        "every pooled connection was lost: {last}"
    )))
}
