//! Reading the audit log (`GET /api/v1/audit`, `GET /api/v1/overview`) and
//! its retention: entries older than `SCIMD_AUDIT_RETENTION_DAYS` are
//! deleted by the server, at start and hourly. The entries themselves are
//! written by each operation, in its own transaction.

use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::store::audit::{AuditQuery, Entry};
use crate::store::{self, audit, PgPool, StoreError};

/// One page of entries, newest first.
#[derive(Debug)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    /// Whether older entries follow the last one.
    pub more: bool,
}

/// The entries of `org` that `query` selects, at most `query.limit`.
pub async fn list(
    pool: &PgPool,
    org: Uuid,
    mut query: AuditQuery,
) -> Result<AuditPage, StoreError> {
    let limit = query.limit;
    // One more than asked says whether there is a next page.
    query.limit += 1;
    let mut entries = store::read(pool, move |conn| audit::list(conn, org, &query)).await?;
    let more = entries.len() as i64 > limit;
    if more {
        entries.truncate(limit as usize);
    }
    Ok(AuditPage { entries, more })
}

/// An organization at a glance: how many users and groups it holds, and
/// each of its tokens with the last change made with it.
#[derive(Debug)]
pub struct Overview {
    pub users: i64,
    pub groups: i64,
    pub tokens: Vec<TokenActivity>,
}

#[derive(Debug)]
pub struct TokenActivity {
    pub id: Uuid,
    pub name: String,
    pub last_change: Option<Entry>,
}

pub async fn overview(pool: &PgPool, org: Uuid) -> Result<Overview, StoreError> {
    let (o, tokens) = store::read(pool, move |conn| {
        Ok((audit::overview(conn, org)?, store::tokens::list(conn, org)?))
    })
    .await?;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenActivity {
            last_change: o
                .last_by_token
                .iter()
                .find(|e| e.actor_token_id == Some(t.id))
                .cloned(),
            id: t.id,
            name: t.name,
        })
        .collect();
    Ok(Overview {
        users: o.users,
        groups: o.groups,
        tokens,
    })
}

/// How often the server looks for entries past retention.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Deletes audit entries past `keep`, now and then hourly, on a thread of
/// its own. Several instances may do it at once; the deletes are
/// idempotent.
pub fn spawn_retention(pool: PgPool, clock: Clock, keep: chrono::Duration) {
    std::thread::spawn(move || loop {
        let before = clock.now() - keep;
        match store::run_here(&pool, |conn| audit::purge(conn, before)) {
            Ok(0) => {}
            Ok(n) => log::info!("audit retention: deleted {n} entries older than {before}"),
            Err(e) => log::warn!("audit retention failed: {e}"),
        }
        std::thread::sleep(RETENTION_EVERY);
    });
}
