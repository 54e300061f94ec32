//! The audit log's retention: entries older than
//! `SCIMD_AUDIT_RETENTION_DAYS` are deleted by the server, at start and
//! hourly. (The entries themselves are written by each operation, in its
//! own transaction.)

use std::time::Duration;

use crate::clock::Clock;
use crate::store::{audit, PgPool};

/// How often the server looks for entries past retention.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Deletes audit entries past `keep`, now and then hourly, on a thread of
/// its own. Several instances may do it at once; the deletes are
/// idempotent.
pub fn spawn_retention(pool: PgPool, clock: Clock, keep: chrono::Duration) {
    std::thread::spawn(move || loop {
        let before = clock.now() - keep;
        match pool.get() {
            Ok(mut conn) => match audit::purge(&mut conn, before) {
                Ok(0) => {}
                Ok(n) => log::info!("audit retention: deleted {n} entries older than {before}"),
                Err(e) => log::warn!("audit retention failed: {e}"),
            },
            Err(e) => log::warn!("audit retention: no database connection: {e}"),
        }
        std::thread::sleep(RETENTION_EVERY);
    });
}
