//! Subscriptions (issue 18): create, list, read, change, delete, replay
//! and rotate the secret of where an organization's change events go.
//! Each change is one transaction with its audit entry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::guard::{self, Allowed};
use super::webhook;
use crate::service::secretbox::Sealer;
use crate::service::{FieldError, Requester};
use crate::store::audit::{self, Entry};
use crate::store::subscriptions::{self as rows, DeadLetter, SubscriptionRow};
use crate::store::{self, events, PgPool, StoreError, TxRetries};

/// The formats scimd delivers in.
pub const FORMATS: &[&str] = &["webhook"];
/// Formats the issue names that are not built yet: refused with a message
/// saying so rather than accepted and never delivered.
const NOT_YET: &[&str] = &["set-push", "set-poll"];
/// The names a subscription's `events` may list.
pub const EVENTS: &[&str] = &[
    "create",
    "replace",
    "patch",
    "delete",
    "restore",
    "activate",
    "deactivate",
    "membership",
];
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

pub struct Env<'a> {
    pub pool: &'a PgPool,
    pub retries: &'a std::sync::Arc<TxRetries>,
    pub sealer: &'a Sealer,
    pub allowed: &'a Allowed,
}

/// A subscription as the admin API shows it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub name: String,
    pub format: String,
    pub url: Option<String>,
    /// `null`: every kind of event.
    pub events: Option<Vec<String>>,
    /// `null`: every resource type.
    pub resource_types: Option<Vec<String>>,
    pub payload: String,
    pub paused: bool,
    /// The last event number this subscription has finished with.
    pub position: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivery: Delivery,
}

/// Where delivery stands.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Events after `position` (0: caught up).
    pub lag: i64,
    pub delivered: i64,
    pub attempts: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub dead_letters: i64,
}

impl SubscriptionView {
    fn new(r: SubscriptionRow, last_seq: i64, dead_letters: i64) -> Self {
        SubscriptionView {
            delivery: Delivery {
                lag: (last_seq - r.position).max(0),
                delivered: r.delivered,
                attempts: r.attempts,
                failing_since: r.failing_since,
                next_attempt_at: r.next_attempt_at,
                last_attempt_at: r.last_attempt_at,
                last_success_at: r.last_success_at,
                last_status: r.last_status,
                last_error: r.last_error,
                dead_letters,
            },
            id: r.id,
            name: r.name,
            format: r.format,
            url: r.url,
            events: r.events,
            resource_types: r.resource_types,
            payload: r.payload,
            paused: r.paused,
            position: r.position,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new subscription and its secret, shown once.
#[derive(Debug, Serialize)]
pub struct Created {
    #[serde(flatten)]
    pub view: SubscriptionView,
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub format: String,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub resource_types: Option<Vec<String>>,
    pub payload: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    pub name: Option<String>,
    pub url: Option<String>,
    pub paused: Option<bool>,
    /// `null` clears the filter (every kind).
    #[serde(default, deserialize_with = "some")]
    pub events: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "some")]
    pub resource_types: Option<Option<Vec<String>>>,
    pub payload: Option<String>,
}

/// Tells an absent member (`None`) from an explicit `null` (`Some(None)`).
fn some<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub from_sequence: Option<i64>,
    pub from_time: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("{}", FieldError::summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("no such subscription")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

const MAX_NAME: usize = 200;
const MAX_URL: usize = 2048;

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        errors.push(field("name", format!("must be 1 to {MAX_NAME} characters")));
    }
}

fn check_url(allowed: &Allowed, url: &str, errors: &mut Vec<FieldError>) {
    if url.len() > MAX_URL {
        errors.push(field(
            "url",
            format!("must be at most {MAX_URL} characters"),
        ));
    } else if let Err(e) = guard::check_url(allowed, url) {
        errors.push(field("url", e));
    }
}

fn check_list(
    name: &str,
    list: &Option<Vec<String>>,
    known: Option<&[&str]>,
    errors: &mut Vec<FieldError>,
) {
    let Some(list) = list else { return };
    if list.is_empty() {
        errors.push(field(
            name,
            "must list at least one value (or be null for all)",
        ));
    }
    for v in list {
        let bad = match known {
            Some(k) => !k.contains(&v.as_str()),
            None => v.trim().is_empty() || v.len() > 200,
        };
        if bad {
            let hint = known.map_or(String::new(), |k| format!(" (one of {})", k.join(", ")));
            errors.push(field(name, format!("{v:?} is not a valid value{hint}")));
        }
    }
}

fn check_payload(payload: &str, errors: &mut Vec<FieldError>) {
    match payload {
        "notice" => {}
        "full" => errors.push(field(
            "payload",
            "\"full\" is not supported yet: events carry the resource's id, location and \
             version (\"notice\"); read the resource at its location",
        )),
        _ => errors.push(field("payload", "must be \"notice\"")),
    }
}

impl CreateRequest {
    fn check(&self, allowed: &Allowed) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(n) = &self.name {
            check_name(n, &mut errors);
        }
        if NOT_YET.contains(&self.format.as_str()) {
            errors.push(field(
                "format",
                format!("{:?} is not supported yet; use \"webhook\"", self.format),
            ));
        } else if !FORMATS.contains(&self.format.as_str()) {
            errors.push(field("format", "must be \"webhook\""));
        }
        match &self.url {
            Some(u) => check_url(allowed, u, &mut errors),
            None => errors.push(field("url", "is required for a webhook")),
        }
        check_list("events", &self.events, Some(EVENTS), &mut errors);
        check_list("resource_types", &self.resource_types, None, &mut errors);
        check_payload(self.payload.as_deref().unwrap_or("notice"), &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Runs `f` on the blocking pool: checking a destination resolves its
/// name, which must not stall an HTTP worker.
async fn off_the_workers<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SubscriptionError> + Send + 'static,
) -> Result<T, SubscriptionError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        SubscriptionError::Store(StoreError::Unavailable(format!("blocking pool: {e}")))
    })?
}

fn not_found(e: StoreError) -> SubscriptionError {
    match e {
        StoreError::NotFound => SubscriptionError::NotFound,
        other => SubscriptionError::Store(other),
    }
}

fn entry(by: &Requester, action: &str, id: Uuid, status: u16, now: DateTime<Utc>) -> Entry {
    Entry::new(
        &by.actor,
        action,
        "Subscription",
        &id.to_string(),
        status,
        now,
    )
}

pub async fn create(
    env: &Env<'_>,
    by: &Requester,
    request: CreateRequest,
    now: DateTime<Utc>,
) -> Result<Created, SubscriptionError> {
    let allowed = env.allowed.clone();
    let request = off_the_workers(move || {
        request
            .check(&allowed)
            .map_err(SubscriptionError::Invalid)?;
        Ok(request)
    })
    .await?;
    let secret = webhook::new_secret().map_err(StoreError::Unavailable)?;
    let id = Uuid::now_v7();
    let row = SubscriptionRow {
        id,
        org_id: by.org_id(),
        name: request
            .name
            .clone()
            .unwrap_or_else(|| request.url.clone().unwrap_or_default()),
        format: request.format.clone(),
        url: request.url.clone(),
        events: request.events.clone(),
        resource_types: request.resource_types.clone(),
        payload: request.payload.clone().unwrap_or_else(|| "notice".into()),
        secret: Some(env.sealer.seal(secret.as_bytes())),
        previous_secret: None,
        previous_until: None,
        key_id: Some(env.sealer.key_id().to_vec()),
        paused: false,
        position: 0,
        created_at: now,
        updated_at: now,
        attempts: 0,
        failing_since: None,
        next_attempt_at: None,
        last_attempt_at: None,
        last_success_at: None,
        last_status: None,
        last_error: None,
        delivered: 0,
        lease_owner: None,
        lease_until: None,
    };
    let by = by.clone();
    let (row, last) = store::in_tx(env.pool, env.retries, move |conn| {
        // A new subscription gets the events from now on; older ones by a
        // replay.
        let last = events::last_seq(conn, row.org_id)?;
        let row = SubscriptionRow {
            position: last,
            ..row.clone()
        };
        rows::insert(conn, &row)?;
        audit::insert(
            conn,
            &entry(&by, "subscription.create", row.id, 201, now).with_details(
                serde_json::json!({"format": row.format, "url": row.url, "name": row.name}),
            ),
        )?;
        Ok((row, last))
    })
    .await?;
    Ok(Created {
        view: SubscriptionView::new(row, last, 0),
        secret,
    })
}

pub async fn list(pool: &PgPool, org: Uuid) -> Result<Vec<SubscriptionView>, SubscriptionError> {
    Ok(store::read(pool, move |conn| {
        let last = events::last_seq(conn, org)?;
        rows::list(conn, org)?
            .into_iter()
            .map(|r| {
                let dead = rows::count_dead_letters(conn, r.id)?;
                Ok(SubscriptionView::new(r, last, dead))
            })
            .collect::<Result<Vec<_>, StoreError>>()
    })
    .await?)
}

pub async fn get(
    pool: &PgPool,
    org: Uuid,
    id: Uuid,
) -> Result<SubscriptionView, SubscriptionError> {
    store::read(pool, move |conn| {
        let row = rows::get(conn, org, id)?;
        view(conn, row)
    })
    .await
    .map_err(not_found)
}

pub async fn dead_letters(
    pool: &PgPool,
    org: Uuid,
    id: Uuid,
) -> Result<Vec<DeadLetter>, SubscriptionError> {
    store::read(pool, move |conn| {
        rows::get(conn, org, id)?;
        rows::dead_letters(conn, id, 1000)
    })
    .await
    .map_err(not_found)
}

/// Runs `change` on the locked subscription `id` and saves it with an
/// audit entry `action`, in one transaction.
async fn change(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    action: &'static str,
    now: DateTime<Utc>,
    change: impl Fn(&mut store::Conn, &mut SubscriptionRow) -> Result<serde_json::Value, StoreError>
        + Send
        + 'static,
) -> Result<SubscriptionView, SubscriptionError> {
    let by = by.clone();
    let org = by.org_id();
    store::in_tx(env.pool, env.retries, move |conn| {
        let mut row = rows::lock(conn, org, id)?;
        let details = change(conn, &mut row)?;
        row.updated_at = now;
        rows::save(conn, &row)?;
        audit::insert(
            conn,
            &entry(&by, action, id, 200, now).with_details(details),
        )?;
        view(conn, row)
    })
    .await
    .map_err(not_found)
}

/// `row` as the API shows it, with its lag and dead letters.
fn view(conn: &mut store::Conn, row: SubscriptionRow) -> Result<SubscriptionView, StoreError> {
    let last = events::last_seq(conn, row.org_id)?;
    let dead = rows::count_dead_letters(conn, row.id)?;
    Ok(SubscriptionView::new(row, last, dead))
}

/// Moves `row` to `position` for a replay: its backoff and dead letters
/// go (they are delivered again), and so does the lease, so a delivery in
/// flight does not move it back (see `store::subscriptions::finish`).
fn rewind(
    conn: &mut store::Conn,
    row: &mut SubscriptionRow,
    position: i64,
) -> Result<(), StoreError> {
    row.position = position;
    row.lease_owner = None;
    row.lease_until = None;
    row.attempts = 0;
    row.failing_since = None;
    row.next_attempt_at = None;
    rows::clear_dead_letters(conn, row.id)?;
    Ok(())
}

pub async fn update(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    request: PatchRequest,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, SubscriptionError> {
    let allowed = env.allowed.clone();
    let (request, mut errors) = off_the_workers(move || {
        let mut errors = Vec::new();
        if let Some(u) = &request.url {
            check_url(&allowed, u, &mut errors);
        }
        Ok((request, errors))
    })
    .await?;
    if let Some(n) = &request.name {
        check_name(n, &mut errors);
    }
    if let Some(e) = &request.events {
        check_list("events", e, Some(EVENTS), &mut errors);
    }
    if let Some(t) = &request.resource_types {
        check_list("resource_types", t, None, &mut errors);
    }
    if let Some(p) = &request.payload {
        check_payload(p, &mut errors);
    }
    if !errors.is_empty() {
        return Err(SubscriptionError::Invalid(errors));
    }
    let action = match request.paused {
        Some(true) => "subscription.pause",
        Some(false) => "subscription.resume",
        None => "subscription.update",
    };
    change(env, by, id, action, now, move |_, row| {
        let r = request.clone();
        if let Some(n) = r.name {
            row.name = n;
        }
        if let Some(u) = r.url {
            row.url = Some(u);
        }
        if let Some(p) = r.paused {
            row.paused = p;
            if !p {
                // Resumed: try now, not at the end of a backoff.
                row.next_attempt_at = None;
            }
        }
        if let Some(e) = r.events {
            row.events = e;
        }
        if let Some(t) = r.resource_types {
            row.resource_types = t;
        }
        if let Some(p) = r.payload {
            row.payload = p;
        }
        Ok(serde_json::json!({"paused": row.paused, "url": row.url}))
    })
    .await
}

/// Delivers again from a sequence number or a time: the position moves
/// back (or forward) to just before it, and the dead letters from there on
/// are delivered again with the rest.
pub async fn replay(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    request: ReplayRequest,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, SubscriptionError> {
    let from = match (request.from_sequence, request.from_time) {
        (Some(s), None) if s >= 1 => Ok(s),
        (Some(_), None) => Err(field("from_sequence", "must be at least 1")),
        (None, Some(t)) => return replay_from_time(env, by, id, t, now).await,
        _ => Err(field(
            "from_sequence",
            "give exactly one of from_sequence and from_time",
        )),
    }
    .map_err(|e| SubscriptionError::Invalid(vec![e]))?;
    change(env, by, id, "subscription.replay", now, move |conn, row| {
        let last = events::last_seq(conn, row.org_id)?;
        rewind(conn, row, (from - 1).min(last))?;
        Ok(serde_json::json!({"from_sequence": from}))
    })
    .await
}

async fn replay_from_time(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, SubscriptionError> {
    change(env, by, id, "subscription.replay", now, move |conn, row| {
        let position = events::seq_before_time(conn, row.org_id, from)?;
        rewind(conn, row, position)?;
        Ok(serde_json::json!({"from_time": from}))
    })
    .await
}

/// A new secret, shown once; the old one keeps signing beside it for
/// [`ROTATION_OVERLAP_HOURS`], so receivers can switch without a gap.
pub async fn rotate_secret(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Created, SubscriptionError> {
    let secret = webhook::new_secret().map_err(StoreError::Unavailable)?;
    let sealed = env.sealer.seal(secret.as_bytes());
    let key_id = env.sealer.key_id().to_vec();
    let view = change(
        env,
        by,
        id,
        "subscription.rotate_secret",
        now,
        move |_, row| {
            row.previous_secret = row.secret.take();
            row.previous_until = Some(now + chrono::Duration::hours(ROTATION_OVERLAP_HOURS));
            row.secret = Some(sealed.clone());
            row.key_id = Some(key_id.clone());
            Ok(serde_json::json!({"overlap_hours": ROTATION_OVERLAP_HOURS}))
        },
    )
    .await?;
    Ok(Created { view, secret })
}

pub async fn delete(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), SubscriptionError> {
    let by = by.clone();
    let gone = store::in_tx(env.pool, env.retries, move |conn| {
        let gone = rows::delete(conn, by.org_id(), id)?;
        if gone {
            audit::insert(conn, &entry(&by, "subscription.delete", id, 204, now))?;
        }
        Ok(gone)
    })
    .await?;
    if gone {
        Ok(())
    } else {
        Err(SubscriptionError::NotFound)
    }
}
