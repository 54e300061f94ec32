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

pub mod archive;
pub mod audit;
pub mod backup;
pub mod connectors;
pub mod counts;
pub mod custom;
pub mod embedded;
pub mod events;
pub mod groups;
pub mod members;
pub mod migrate;
pub mod orgs;
mod pool;
pub mod query;
pub mod rates;
pub mod request_log;
pub mod resources;
pub mod schema;
pub mod schemas;
pub mod subscriptions;
pub mod tokens;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;

use crate::scim::error::ScimError;

/// The connection the functions here take; outside `store` it is only
/// passed along, never queried.
pub use diesel::pg::PgConnection;

pub use pool::{
    build_pool, build_pool_observed, in_tx, read, read_blocking, read_if_idle, read_snapshot, run,
    run_here, single, snapshot, transaction, PgPool, PoolSettings,
};
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
    /// The connection a statement ran on turned out dead (closed by the
    /// server or the network). The pool helpers discard the connection and,
    /// where that is safe, run the work again on another; what reaches a
    /// caller is answered like `Unavailable`.
    #[error("database connection lost: {0}")]
    ConnectionLost(String),
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
    /// The token check a statement carried (`tokens::Probe`) found the
    /// caller's token not live; the statement wrote nothing. The caller
    /// reads the token in full to learn why and refuses the request.
    #[error("the caller's token is no longer live")]
    TokenNotLive,
    /// The organization's schemas changed after the request's registry was
    /// built (another instance, or another request, committed a change):
    /// nothing was read or written with it; the next request sees the
    /// change.
    #[error("the organization's schemas changed during the request")]
    RegistryStale,
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

/// How a `StoreError::Conflict` on a declared attribute marked unique ends:
/// `urn:…:attr is declared unique`.
pub(crate) const DECLARED_UNIQUE: &str = " is declared unique";

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        if let Some(reason) = transient(&e) {
            return StoreError::Transient {
                reason,
                cause: e.to_string(),
            };
        }
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
                if info.constraint_name() == Some("scim_attr_values_unique") =>
            {
                // The detail reads `Key (org_id, resource_type, path,
                // value)=(…, User, urn:…:attr, …) already exists`: name the
                // attribute, not the value (it may be another user's).
                let path = info
                    .details()
                    .and_then(|d| d.split(", ").nth(5))
                    .filter(|p| p.starts_with("urn:"))
                    .unwrap_or("a declared attribute");
                StoreError::Conflict(format!("{path}{DECLARED_UNIQUE}"))
            }
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or("unique").to_string())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::ConnectionLost(info.message().to_string())
            }
            DieselError::DatabaseError(_, ref info) if is_connection_failure(info.message()) => {
                StoreError::ConnectionLost(info.message().to_string())
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
        || m.contains("could not send data")
        || m.contains("could not receive data")
        || m.contains("connection reset")
        || m.contains("broken pipe")
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
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
