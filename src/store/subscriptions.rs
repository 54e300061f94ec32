//! Subscriptions to change events (issue 18), their delivery state, and
//! the dead letters they park. Delivery workers of every instance share
//! the work through [`claim`]: a subscription with events after its
//! position is leased to one worker at a time, so no event is delivered
//! twice at once, and one slow receiver holds one worker, not the others.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{dead_letters, event_counters, subscriptions};
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = subscriptions)]
#[diesel(treat_none_as_default_value = false)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub format: String,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub resource_types: Option<Vec<String>>,
    pub payload: String,
    pub secret: Option<Vec<u8>>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_until: Option<DateTime<Utc>>,
    pub key_id: Option<Vec<u8>>,
    pub paused: bool,
    pub position: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attempts: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub delivered: i64,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, row: &SubscriptionRow) -> Result<(), StoreError> {
    diesel::insert_into(subscriptions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut PgConnection, org: Uuid) -> Result<Vec<SubscriptionRow>, StoreError> {
    Ok(subscriptions::table
        .filter(subscriptions::org_id.eq(org))
        .order(subscriptions::created_at.asc())
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// One subscription, locked for the change the caller makes.
pub fn lock(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<SubscriptionRow, StoreError> {
    subscriptions::table
        .filter(subscriptions::org_id.eq(org))
        .filter(subscriptions::id.eq(id))
        .select(SubscriptionRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<SubscriptionRow, StoreError> {
    subscriptions::table
        .filter(subscriptions::org_id.eq(org))
        .filter(subscriptions::id.eq(id))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Writes back every column a change may touch (the caller holds the lock).
pub fn save(conn: &mut PgConnection, row: &SubscriptionRow) -> Result<(), StoreError> {
    diesel::update(subscriptions::table.filter(subscriptions::id.eq(row.id)))
        .set((
            subscriptions::name.eq(&row.name),
            subscriptions::url.eq(&row.url),
            subscriptions::events.eq(&row.events),
            subscriptions::resource_types.eq(&row.resource_types),
            subscriptions::payload.eq(&row.payload),
            subscriptions::secret.eq(&row.secret),
            subscriptions::previous_secret.eq(&row.previous_secret),
            subscriptions::previous_until.eq(row.previous_until),
            subscriptions::key_id.eq(&row.key_id),
            subscriptions::paused.eq(row.paused),
            subscriptions::position.eq(row.position),
            subscriptions::updated_at.eq(row.updated_at),
            subscriptions::attempts.eq(row.attempts),
            subscriptions::failing_since.eq(row.failing_since),
            subscriptions::next_attempt_at.eq(row.next_attempt_at),
            // A replay takes the subscription from a worker delivering it:
            // that worker's outcome no longer counts (see `finish`).
            subscriptions::lease_owner.eq(row.lease_owner),
            subscriptions::lease_until.eq(row.lease_until),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        subscriptions::table
            .filter(subscriptions::org_id.eq(org))
            .filter(subscriptions::id.eq(id)),
    )
    .execute(conn)?
        > 0)
}

/// Leases to `owner` until `until` (in one transaction of its own) one subscription that has events after
/// its position, is not paused, is due (its backoff over) and is not
/// leased to a live worker; `None` when there is none. `key_id`: only
/// subscriptions whose secret this instance can open (or that have none).
pub fn claim(
    conn: &mut PgConnection,
    owner: Uuid,
    key_id: &[u8],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<SubscriptionRow>, StoreError> {
    conn.transaction(|conn| claim_in(conn, owner, key_id, now, until))
}

fn claim_in(
    conn: &mut PgConnection,
    owner: Uuid,
    key_id: &[u8],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<SubscriptionRow>, StoreError> {
    let due = subscriptions::table
        .inner_join(event_counters::table.on(event_counters::org_id.eq(subscriptions::org_id)))
        .filter(subscriptions::paused.eq(false))
        .filter(event_counters::last_seq.gt(subscriptions::position))
        .filter(
            subscriptions::next_attempt_at
                .is_null()
                .or(subscriptions::next_attempt_at.le(now)),
        )
        .filter(
            subscriptions::lease_until
                .is_null()
                .or(subscriptions::lease_until.lt(now)),
        )
        .filter(
            subscriptions::key_id
                .is_null()
                .or(subscriptions::key_id.eq(key_id)),
        )
        .order(subscriptions::next_attempt_at.asc().nulls_first())
        .select(subscriptions::id)
        .limit(1)
        .for_update()
        .skip_locked()
        .first::<Uuid>(conn)
        .optional()?;
    let Some(id) = due else {
        return Ok(None);
    };
    Ok(Some(
        diesel::update(subscriptions::table.filter(subscriptions::id.eq(id)))
            .set((
                subscriptions::lease_owner.eq(Some(owner)),
                subscriptions::lease_until.eq(Some(until)),
            ))
            .returning(SubscriptionRow::as_returning())
            .get_result(conn)?,
    ))
}

/// What one delivery attempt came to.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// Delivered (or skipped by the filters) up to `position`.
    Done { position: i64, delivered: i64 },
    /// Failed: try again at `retry_at`.
    Failed {
        status: Option<i16>,
        error: String,
        retry_at: DateTime<Utc>,
    },
}

/// Records `attempt` and ends `owner`'s lease; `false` when the lease was
/// lost meanwhile (another worker may have delivered the same events: the
/// receiver sees them twice, with the same ids).
pub fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    owner: Uuid,
    now: DateTime<Utc>,
    attempt: &Attempt,
) -> Result<bool, StoreError> {
    let mine = subscriptions::table
        .filter(subscriptions::id.eq(id))
        .filter(subscriptions::lease_owner.eq(owner));
    let n =
        match attempt {
            Attempt::Done {
                position,
                delivered,
            } => diesel::update(mine)
                .set((
                    // A replay meanwhile took the lease away, so this matches
                    // nothing and the replay's position stands.
                    subscriptions::position.eq(*position),
                    subscriptions::delivered.eq(subscriptions::delivered + *delivered),
                    subscriptions::attempts.eq(0),
                    subscriptions::failing_since.eq(None::<DateTime<Utc>>),
                    subscriptions::next_attempt_at.eq(None::<DateTime<Utc>>),
                    subscriptions::last_attempt_at.eq(Some(now)),
                    subscriptions::last_success_at.eq(Some(now)),
                    subscriptions::lease_owner.eq(None::<Uuid>),
                    subscriptions::lease_until.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)?,
            Attempt::Failed {
                status,
                error,
                retry_at,
            } => diesel::update(mine)
                .set((
                    subscriptions::attempts.eq(subscriptions::attempts + 1),
                    subscriptions::failing_since.eq(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                    >(
                        "COALESCE(failing_since, "
                    )
                    .bind::<diesel::sql_types::Timestamptz, _>(now)
                    .sql(")")),
                    subscriptions::next_attempt_at.eq(Some(*retry_at)),
                    subscriptions::last_attempt_at.eq(Some(now)),
                    subscriptions::last_status.eq(*status),
                    subscriptions::last_error.eq(Some(error.as_str())),
                    subscriptions::lease_owner.eq(None::<Uuid>),
                    subscriptions::lease_until.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)?,
        };
    Ok(n > 0)
}

/// Parks events `seqs` of subscription `row` as dead letters and moves its
/// position past them, ending the lease, in one transaction of its own.
pub fn park(
    conn: &mut PgConnection,
    row: &SubscriptionRow,
    owner: Uuid,
    seqs: &[i64],
    position: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.transaction(|conn| park_in(conn, row, owner, seqs, position, now))
}

fn park_in(
    conn: &mut PgConnection,
    row: &SubscriptionRow,
    owner: Uuid,
    seqs: &[i64],
    position: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let letters: Vec<_> = seqs
        .iter()
        .map(|s| {
            (
                dead_letters::subscription_id.eq(row.id),
                dead_letters::seq.eq(*s),
                dead_letters::org_id.eq(row.org_id),
                dead_letters::parked_at.eq(now),
                dead_letters::attempts.eq(row.attempts + 1),
                dead_letters::last_status.eq(row.last_status),
                dead_letters::last_error.eq(row.last_error.clone()),
            )
        })
        .collect();
    diesel::insert_into(dead_letters::table)
        .values(&letters)
        .on_conflict_do_nothing()
        .execute(conn)?;
    finish(
        conn,
        row.id,
        owner,
        now,
        &Attempt::Done {
            position,
            delivered: 0,
        },
    )?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq, serde::Serialize)]
#[diesel(table_name = dead_letters)]
pub struct DeadLetter {
    pub seq: i64,
    pub parked_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
}

pub fn dead_letters(
    conn: &mut PgConnection,
    id: Uuid,
    limit: i64,
) -> Result<Vec<DeadLetter>, StoreError> {
    Ok(dead_letters::table
        .filter(dead_letters::subscription_id.eq(id))
        .order(dead_letters::seq.asc())
        .limit(limit)
        .select(DeadLetter::as_select())
        .load(conn)?)
}

pub fn count_dead_letters(conn: &mut PgConnection, id: Uuid) -> Result<i64, StoreError> {
    Ok(dead_letters::table
        .filter(dead_letters::subscription_id.eq(id))
        .count()
        .get_result(conn)?)
}

/// Removes the dead letters of `id` (replayed, so delivered again from
/// their position); how many.
pub fn clear_dead_letters(conn: &mut PgConnection, id: Uuid) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(dead_letters::table.filter(dead_letters::subscription_id.eq(id)))
            .execute(conn)?,
    )
}

/// A subscription's id, name, events behind, and when the oldest of those
/// was written.
pub type Lag = (Uuid, String, i64, Option<DateTime<Utc>>);

/// Each subscription's backlog, for the metrics.
pub fn lag(conn: &mut PgConnection) -> Result<Vec<Lag>, StoreError> {
    use super::schema::change_events;
    let rows = subscriptions::table
        .inner_join(event_counters::table.on(event_counters::org_id.eq(subscriptions::org_id)))
        .select((
            subscriptions::id,
            subscriptions::name,
            event_counters::last_seq - subscriptions::position,
            change_events::table
                .filter(change_events::org_id.eq(subscriptions::org_id))
                .filter(change_events::seq.eq((subscriptions::position + 1).nullable()))
                .select(change_events::at)
                .single_value(),
        ))
        .load::<Lag>(conn)?;
    Ok(rows)
}
