//! Schema migrations: SQL files under `migrations/`, embedded in the binary and
//! applied at start-up under an advisory lock, so several scimd instances
//! starting at once against one database apply each migration exactly once.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::StoreError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An arbitrary constant that names "scimd migrations" among advisory locks.
const MIGRATION_LOCK: i64 = 0x5C1D_0001;

pub fn run_pending(url: &str) -> Result<usize, StoreError> {
    let mut conn =
        PgConnection::establish(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")));
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
    result
}

/// Reverts every migration; used by the up → down → up test.
pub fn revert_all(url: &str) -> Result<(), StoreError> {
    let mut conn =
        PgConnection::establish(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.revert_all_migrations(MIGRATIONS)
        .map_err(|e| StoreError::Unavailable(format!("revert failed: {e}")))?;
    Ok(())
}
