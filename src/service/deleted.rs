//! Soft-deleted resources (issue 17): list, restore and purge them (API,
//! CLI), and the purge job that removes them once their organization's
//! retention period has ended. What a soft DELETE does is in
//! `service::resources::delete` and `store::archive`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Requester;
use crate::clock::Clock;
use crate::store::archive::{self, Archived};
use crate::store::audit::{self, Entry};
use crate::store::{self, PgPool, StoreError, TxRetries};

/// One page of soft-deleted resources, newest first.
#[derive(Debug, Serialize)]
pub struct DeletedPage {
    pub resources: Vec<Archived>,
    /// Give as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub async fn list(
    pool: &PgPool,
    org: Uuid,
    resource_type: Option<String>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<DeletedPage, StoreError> {
    let key = resource_type.map(|t| archive::type_key(&t));
    let mut rows = store::read(pool, move |conn| {
        archive::list(conn, org, key.as_deref(), before, limit + 1)
    })
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(DeletedPage {
        next_cursor: more
            .then(|| {
                rows.last()
                    .map(|a| super::keyset::encode(a.deleted_at, a.id))
            })
            .flatten(),
        resources: rows,
    })
}

/// Why a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("no such deleted resource")]
    NotFound,
    #[error("cannot restore: another resource now holds one of its unique values ({0})")]
    Taken(String),
    #[error(transparent)]
    Store(StoreError),
}

/// Puts a soft-deleted resource back (same id, memberships in the groups
/// that still exist), audited.
pub async fn restore(
    pool: &PgPool,
    retries: &std::sync::Arc<TxRetries>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Archived, RestoreError> {
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        let a = archive::restore(conn, actor.org_id, id, now)?;
        let (resource_type, version) = store::events::restored(conn, actor.org_id, id)?
            .map_or((a.resource_type.clone(), None), |(t, v)| (t, Some(v)));
        let entry = Entry::new(
            &actor,
            "resource.restore",
            &resource_type,
            &id.to_string(),
            200,
            now,
        );
        let change = store::events::Change {
            external_id: a.external_id.clone(),
            version,
            ..store::events::Change::default()
        };
        store::events::record(conn, &entry, id, &change)?;
        Ok(a)
    })
    .await
    .map_err(|e| match e {
        StoreError::NotFound => RestoreError::NotFound,
        StoreError::Conflict(c) => RestoreError::Taken(c),
        other => RestoreError::Store(other),
    })
}

/// Removes a soft-deleted resource for good, audited; `false`: there was none.
pub async fn purge(
    pool: &PgPool,
    retries: &std::sync::Arc<TxRetries>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        let gone = archive::purge(conn, actor.org_id, id)?;
        if gone {
            audit::insert(
                conn,
                &Entry::new(
                    &actor,
                    "resource.purge",
                    "Deleted",
                    &id.to_string(),
                    204,
                    now,
                ),
            )?;
        }
        Ok(gone)
    })
    .await
}

/// How often the server looks for soft-deleted resources past retention,
/// and how many one statement removes.
const PURGE_EVERY: Duration = Duration::from_secs(600);
const PURGE_BATCH: i64 = 1000;

/// Removes what is past retention, in batches, until nothing is left.
pub fn purge_expired(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let n = store::run_here(pool, |conn| archive::purge_expired(conn, now, PURGE_BATCH))?;
        total += n;
        if (n as i64) < PURGE_BATCH {
            return Ok(total);
        }
    }
}

/// The purge job: now, then every ten minutes, on a thread of its own.
/// Several instances may run it at once; the deletes are idempotent.
pub fn spawn_purge(pool: PgPool, clock: Clock) {
    std::thread::spawn(move || loop {
        match purge_expired(&pool, clock.now()) {
            Ok(0) => {}
            Ok(n) => log::info!("purged {n} soft-deleted resources past retention"),
            Err(e) => log::warn!("soft-delete purge failed: {e}"),
        }
        std::thread::sleep(PURGE_EVERY);
    });
}
