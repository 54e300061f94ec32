//! Storage: the only module that talks to PostgreSQL (through diesel). It owns
//! the pool, the migrations, and the transaction helpers ([`run`],
//! [`read_snapshot`], [`in_tx`]) the application layer composes its
//! operations in; callers get typed rows and [`StoreError`]s. The one diesel
//! type they see is the connection ([`Conn`]), handed to their closure and
//! passed back to functions here, never queried directly.

/// The query for one row of `$table` (a `schema` module) in `$org` by id,
/// selecting `$row`; the caller adds `.for_update()` to lock it. Users and
/// groups share this shape but not their diesel types, hence a macro.
macro_rules! row_in_org {
    ($table:ident, $row:ty, $org:expr, $id:expr) => {
        $table::table
            .filter($table::org_id.eq($org))
            .filter($table::id.eq($id))
            .select(<$row>::as_select())
    };
}

pub mod audit;
pub mod backup;
pub mod counts;
pub mod embedded;
pub mod groups;
pub mod members;
pub mod migrate;
pub mod orgs;
pub mod query;
pub mod resources;
pub mod schema;
pub mod tokens;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;

use crate::scim::error::ScimError;

/// The connection the functions here take; outside `store` it is only
/// passed along, never queried.
pub use diesel::pg::PgConnection;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;
/// The connection the store's functions take, as the application layer
/// names it when it composes them inside one transaction: an opaque handle
/// it passes on, never a query interface.
pub type Conn = PgConnection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (pool timeout, lost connection); the
    /// request may succeed if retried later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The row the caller asked for does not exist (in this organization).
    /// Decided by the caller (`.optional()`), never by mapping diesel's
    /// `NotFound`, which a query that was expected to return a row (a
    /// count, a RETURNING) would otherwise turn into a 404.
    #[error("not found")]
    NotFound,
    /// `If-Match` named another version than the locked row has (RFC 7644
    /// §3.14): nothing was changed.
    #[error("the resource has changed (If-Match does not match its version)")]
    PreconditionFailed,
    /// The token is revoked or expired, so it cannot change any more (be
    /// rotated); it still exists, which is why this is not `NotFound`.
    #[error("the token is revoked or expired")]
    Revoked,
    /// A uniqueness constraint was violated; the string names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    /// PostgreSQL rolled the transaction back (a deadlock, a serialization
    /// failure) such that running it again may succeed; `in_tx` does.
    #[error("transaction rolled back ({}): {cause}", reason.as_str())]
    Transient { reason: RetryReason, cause: String },
    /// Anything else the database refused: a bug or a broken database, not
    /// the client's doing. The cause is for the log only.
    #[error("database error: {0}")]
    Db(String),
    /// The write was refused for a protocol reason decided inside the
    /// transaction (a failed precondition, an invalid change).
    #[error("{0}")]
    Rejected(ScimError),
}

impl From<ScimError> for StoreError {
    fn from(e: ScimError) -> Self {
        StoreError::Rejected(e)
    }
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        if let Some(reason) = transient(&e) {
            return StoreError::Transient {
                reason,
                cause: e.to_string(),
            };
        }
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or("unique").to_string())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_string())
            }
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if is_connection_failure(info.message()) =>
            {
                StoreError::Unavailable(info.message().to_string())
            }
            DieselError::DatabaseError(_, ref info) if is_nul_refusal(info.message()) => {
                // Every client string is checked for NUL before it is bound;
                // this is the net under those checks, so a missed place is a
                // 400 and not a 500.
                StoreError::Rejected(ScimError::invalid_value(
                    "a value contains the NUL character (U+0000), which cannot be stored",
                ))
            }
            DieselError::DatabaseError(_, ref info) if is_timeout(info.message()) => {
                StoreError::Unavailable(info.message().to_string())
            }
            other => StoreError::Db(other.to_string()),
        }
    }
}

/// PostgreSQL's refusal of U+0000 in text (SQLSTATE 22021) and in jsonb
/// (22P05).
fn is_nul_refusal(message: &str) -> bool {
    message.contains("invalid byte sequence for encoding \"UTF8\": 0x00")
        || message.contains("unsupported Unicode escape sequence")
}

/// `statement_timeout` and `lock_timeout` (SQLSTATE 57014, 55P03): the
/// statement was cancelled and its transaction rolled back, so the request
/// may succeed when retried; a 503 with `Retry-After`, not a 500.
fn is_timeout(message: &str) -> bool {
    message.contains("canceling statement due to statement timeout")
        || message.contains("canceling statement due to lock timeout")
}

fn is_connection_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("server closed the connection")
        || m.contains("connection refused")
        || m.contains("no connection to the server")
        || m.contains("terminating connection")
        || m.contains("could not connect")
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Settings applied to every new connection: a statement timeout, so no
/// request can hold a worker longer than that.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout: Duration,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
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
///
/// r2d2 tests each connection at check-out (one `SELECT 1`, about 0.1 ms on
/// a local socket). That is what lets the very first request after a
/// database restart succeed instead of failing on a dead pooled connection;
/// dropping it needs a retry-on-failed-BEGIN first (see BENCHMARKS.md).
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
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout: s.statement_timeout,
        }))
        .build_unchecked(ConnectionManager::new(url))
}

/// Runs `f` on a pooled connection on the blocking thread pool, so diesel's
/// synchronous calls never stall the async workers.
pub async fn run<T, F>(pool: &PgPool, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    // The runtime's blocking pool (actix's `web::block` is this call).
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("blocking pool: {e}")))?
}

/// Like [`run`], with every read `f` makes in one snapshot (a read-only
/// REPEATABLE READ transaction): a list's `totalResults` and its page, or a
/// resource and its groups, then describe the same moment even while other
/// requests write.
pub async fn read_snapshot<T, F>(pool: &PgPool, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| {
        conn.build_transaction()
            .repeatable_read()
            .read_only()
            .run(f)
    })
    .await
}

/// How often a transaction that lost a serialization conflict or a deadlock
/// is tried in all, before the client is told to retry (503).
const TX_ATTEMPTS: usize = 3;

/// Like [`run`], inside one transaction: everything `f` writes commits
/// together or not at all. A transaction that PostgreSQL aborts for a
/// serialization failure or a deadlock rolled back completely, so it is
/// simply run again, a bounded number of times.
pub async fn in_tx<T, F>(pool: &PgPool, retries: &Arc<TxRetries>, mut f: F) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let retries = Arc::clone(retries);
    run(pool, move |conn| {
        let mut attempt = 1;
        loop {
            match conn.transaction(&mut f) {
                Err(StoreError::Transient { reason, cause }) => {
                    if attempt >= TX_ATTEMPTS {
                        return Err(StoreError::Unavailable(format!(
                            "transaction aborted {attempt} times: {cause}"
                        )));
                    }
                    retries.count(reason);
                    log::info!("retrying a transaction after: {cause}");
                    attempt += 1;
                }
                other => return other,
            }
        }
    })
    .await
}

/// Why PostgreSQL rolled a transaction back such that running it again may
/// succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    Deadlock,
    Serialization,
}

impl RetryReason {
    pub const ALL: [RetryReason; 2] = [RetryReason::Deadlock, RetryReason::Serialization];

    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::Deadlock => "deadlock",
            RetryReason::Serialization => "serialization",
        }
    }
}

/// Transactions retried by [`in_tx`], by reason: one per server, for
/// `scimd_db_transaction_retries_total{reason}`.
#[derive(Debug, Default)]
pub struct TxRetries {
    deadlock: AtomicU64,
    serialization: AtomicU64,
}

impl TxRetries {
    fn count(&self, reason: RetryReason) {
        self.counter(reason).fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, reason: RetryReason) -> u64 {
        self.counter(reason).load(Ordering::Relaxed)
    }

    fn counter(&self, reason: RetryReason) -> &AtomicU64 {
        match reason {
            RetryReason::Deadlock => &self.deadlock,
            RetryReason::Serialization => &self.serialization,
        }
    }
}

/// Errors after which the whole transaction was rolled back by the server
/// and running it again may succeed.
fn transient(e: &DieselError) -> Option<RetryReason> {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            Some(RetryReason::Serialization)
        }
        DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
            Some(RetryReason::Deadlock)
        }
        _ => None,
    }
}

/// `If-Match` against the locked row's version (RFC 7644 §3.14): a stale
/// one refuses the write before anything changes.
pub fn check_precondition(
    cond: Option<&crate::scim::etag::EtagCondition>,
    version: i64,
) -> Result<(), StoreError> {
    match cond {
        Some(c) if !c.matches(version) => Err(StoreError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Checks the database answers; `/ready` uses it.
pub fn ping(conn: &mut PgConnection) -> Result<(), StoreError> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Creates `dbname` on the server `admin_url` points at, if it is missing.
pub fn ensure_database(admin_url: &str, dbname: &str) -> Result<(), StoreError> {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let mut conn =
        PgConnection::establish(admin_url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(dbname)
            .get_result(&mut conn)?;
    if !found.exists {
        // CREATE DATABASE takes no bind parameters; the name is ours, not a
        // client's, and is quoted as an identifier.
        conn.batch_execute(&format!(
            "CREATE DATABASE \"{}\"",
            dbname.replace('"', "\"\"")
        ))?;
    }
    Ok(())
}
