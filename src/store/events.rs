//! Change events (issue 18): the outbox rows every committed change to a
//! resource writes with it, the dispatcher that numbers them once
//! committed, and the reads delivery makes.
//!
//! An event is written by the statement that writes the change's audit
//! entry (a CTE beside it), so it costs no round trip: the entry and the
//! event both exist exactly when the change committed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::Value;
use uuid::Uuid;

use super::audit::Entry;
use super::query::sql::{Bind, Frag, Statement};
use super::schema::change_events;
use super::StoreError;

/// What the audit entry does not say about a change to a resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub external_id: Option<String>,
    /// `meta.version` after the change; `None` for a delete.
    pub version: Option<i64>,
    /// `activate` or `deactivate` when `active` went false ↔ true.
    pub activation: Option<&'static str>,
    /// A group's membership change (see the migration).
    pub members: Option<Value>,
}

impl Change {
    /// The change from document `before` to `after` (either absent for a
    /// create or a delete), stored as `version`.
    pub fn between(before: Option<&Value>, after: Option<&Value>, version: Option<i64>) -> Change {
        let doc = after.or(before);
        Change {
            external_id: doc
                .and_then(|d| d.get("externalId"))
                .and_then(Value::as_str)
                .map(str::to_string),
            version,
            activation: activation(before, after),
            members: None,
        }
    }

    pub fn with_members(mut self, members: Option<Value>) -> Change {
        self.members = members;
        self
    }
}

/// `deactivate` when a resource that was active (or said nothing) now says
/// `active: false`, `activate` the other way; creates and deletes are not
/// transitions.
fn activation(before: Option<&Value>, after: Option<&Value>) -> Option<&'static str> {
    let off = |d: &Value| d.get("active").and_then(Value::as_bool) == Some(false);
    match (before, after) {
        (Some(b), Some(a)) if !off(b) && off(a) => Some("deactivate"),
        (Some(b), Some(a)) if off(b) && !off(a) => Some("activate"),
        _ => None,
    }
}

/// The event's verb: the audit action's last part (`user.patch` → `patch`).
fn verb(entry: &Entry) -> &str {
    entry.action.rsplit('.').next().unwrap_or(&entry.action)
}

/// `INSERT INTO change_events … SELECT …`, the event of the change `entry`
/// records, from `source` (`changed`, the CTE holding the write, so it is
/// written only when the write was; or nothing, for one written anyway).
pub(super) fn insert_frag<ST>(
    entry: &Entry,
    resource_id: Uuid,
    change: &Change,
    from_changed: bool,
) -> Frag<ST> {
    let f = Frag::sql(
        "INSERT INTO change_events (org_id, at, resource_type, resource_id, external_id, \
         version, action, activation, members, actor_token_id, actor_name, connector_id, \
         request_id) SELECT ",
    )
    .bind(Bind::Uuid(entry.org_id))
    .push(", ")
    .bind(Bind::Time(entry.at))
    .push(", ")
    .text(entry.resource_type.clone())
    .push(", ")
    .bind(Bind::Uuid(resource_id))
    .push(", ")
    .bind(Bind::OptText(change.external_id.clone()))
    .push(", ")
    .bind(Bind::OptInt8(change.version))
    .push(", ")
    .text(verb(entry).to_string())
    .push(", ")
    .bind(Bind::OptText(change.activation.map(str::to_string)))
    .push(", ")
    .bind(Bind::OptJson(change.members.clone()))
    .push(", ")
    .bind(Bind::OptUuid(entry.actor_token_id))
    .push(", ")
    .text(entry.actor_name.clone())
    .push(", ")
    .bind(Bind::OptUuid(entry.connector_id))
    .push(", ")
    .bind(Bind::OptText(entry.request_id.clone()));
    if from_changed {
        f.push(" FROM changed")
    } else {
        f
    }
}

/// `entry` and its change's event, in one statement. Call inside the
/// transaction that makes the change.
pub fn record(
    conn: &mut PgConnection,
    entry: &Entry,
    resource_id: Uuid,
    change: &Change,
) -> Result<(), StoreError> {
    let statement = Frag::<diesel::sql_types::Untyped>::sql("WITH event AS (")
        .append(&insert_frag::<diesel::sql_types::Untyped>(
            entry,
            resource_id,
            change,
            false,
        ))
        .push(") ")
        .append(&super::audit::insert_values::<diesel::sql_types::Untyped>(
            entry,
        ))
        .shared();
    Statement(statement).execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Restored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource_type: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The type name and version of resource `id` of `org`, just restored from
/// the archive (whichever table it went back to), for its change event.
pub fn restored(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
) -> Result<Option<(String, i64)>, StoreError> {
    let found = diesel::sql_query(
        "SELECT 'User' AS resource_type, version FROM scim_users WHERE org_id = $1 AND id = $2 \
         UNION ALL SELECT 'Group', version FROM scim_groups WHERE org_id = $1 AND id = $2 \
         UNION ALL SELECT t.name, r.version FROM scim_resources r \
         JOIN scim_resource_types t ON t.org_id = r.org_id AND t.name_key = r.resource_type \
         WHERE r.org_id = $1 AND r.id = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(org)
    .bind::<diesel::sql_types::Uuid, _>(id)
    .load::<Restored>(conn)?;
    Ok(found
        .into_iter()
        .next()
        .map(|r| (r.resource_type, r.version)))
}

/// An event as receivers see it: numbered.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, serde::Serialize)]
#[diesel(table_name = change_events)]
pub struct EventRow {
    #[serde(skip)]
    pub id: i64,
    pub org_id: Uuid,
    pub seq: Option<i64>,
    pub at: DateTime<Utc>,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub external_id: Option<String>,
    pub version: Option<i64>,
    pub action: String,
    pub activation: Option<String>,
    pub members: Option<Value>,
    pub actor_token_id: Option<Uuid>,
    pub actor_name: String,
    pub connector_id: Option<Uuid>,
    pub request_id: Option<String>,
}

impl EventRow {
    /// The names a subscription's `events` filter matches this event by:
    /// its verb, and `activate`/`deactivate`/`membership` when it is one.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.action.as_str())
            .chain(self.activation.as_deref())
            .chain(self.members.as_ref().map(|_| "membership"))
    }
}

/// The advisory lock the dispatcher holds while it numbers events, so one
/// instance at a time does (two at once could interleave numbers out of
/// `id` order). The value is arbitrary and fixed.
const DISPATCH_LOCK: i64 = 0x5c1d_e7e1;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Numbers up to `limit` committed events in `id` order, per organization,
/// in one statement; how many. Zero when another instance holds the lock.
pub fn dispatch(conn: &mut PgConnection, limit: i64) -> Result<i64, StoreError> {
    // Within one snapshot, a later change to a resource is visible only if
    // every earlier one is, and its id is greater: numbering the visible
    // rows in id order keeps each resource's events in commit order.
    let rows = diesel::sql_query(
        "WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS got), \
         batch AS (SELECT id, org_id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS rn \
                   FROM (SELECT id, org_id FROM change_events \
                         WHERE seq IS NULL AND (SELECT got FROM lock) ORDER BY id LIMIT $2) b), \
         counts AS (SELECT org_id, count(*) AS n FROM batch GROUP BY org_id), \
         bumped AS (INSERT INTO event_counters AS c (org_id, last_seq) \
                    SELECT org_id, n FROM counts \
                    ON CONFLICT (org_id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq \
                    RETURNING c.org_id, c.last_seq), \
         numbered AS (UPDATE change_events e SET seq = b.last_seq - n.n + batch.rn \
                      FROM batch JOIN counts n USING (org_id) JOIN bumped b USING (org_id) \
                      WHERE e.id = batch.id AND e.seq IS NULL RETURNING 1) \
         SELECT count(*) AS n FROM numbered",
    )
    .bind::<BigInt, _>(DISPATCH_LOCK)
    .bind::<BigInt, _>(limit)
    .load::<Count>(conn)?;
    Ok(rows.first().map_or(0, |c| c.n))
}

/// The organization's events after `after`, in order, at most `limit`.
pub fn after(
    conn: &mut PgConnection,
    org: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(change_events::table
        .filter(change_events::org_id.eq(org))
        .filter(change_events::seq.gt(after))
        .order(change_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// The events numbered `seqs` (a dead letter's, replayed).
pub fn numbered(
    conn: &mut PgConnection,
    org: Uuid,
    seqs: &[i64],
) -> Result<Vec<EventRow>, StoreError> {
    Ok(change_events::table
        .filter(change_events::org_id.eq(org))
        .filter(change_events::seq.eq_any(seqs))
        .order(change_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

/// The last number given in `org` (0 before its first event).
pub fn last_seq(conn: &mut PgConnection, org: Uuid) -> Result<i64, StoreError> {
    use super::schema::event_counters;
    Ok(event_counters::table
        .filter(event_counters::org_id.eq(org))
        .select(event_counters::last_seq)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// The number just before the first event at or after `at` (where a replay
/// from that time starts).
pub fn seq_before_time(
    conn: &mut PgConnection,
    org: Uuid,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let first = change_events::table
        .filter(change_events::org_id.eq(org))
        .filter(change_events::seq.is_not_null())
        .filter(change_events::at.ge(at))
        .select(diesel::dsl::min(change_events::seq))
        .first::<Option<i64>>(conn)?;
    match first {
        Some(s) => Ok(s - 1),
        None => last_seq(conn, org),
    }
}

/// Events numbered and older than `before`, at most `limit` of them,
/// deleted; how many.
pub fn trim(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::sql_query(
        "DELETE FROM change_events WHERE ctid = ANY (ARRAY(SELECT ctid FROM change_events \
         WHERE seq IS NOT NULL AND at < $1 LIMIT $2))",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<BigInt, _>(limit)
    .execute(conn)?)
}

/// How many events are written but not yet numbered (the dispatcher's
/// backlog), for the metrics.
pub fn unnumbered(conn: &mut PgConnection) -> Result<i64, StoreError> {
    Ok(change_events::table
        .filter(change_events::seq.is_null())
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn activation_is_a_transition() {
        let on = json!({"active": true});
        let off = json!({"active": false});
        let silent = json!({});
        assert_eq!(activation(Some(&on), Some(&off)), Some("deactivate"));
        assert_eq!(activation(Some(&silent), Some(&off)), Some("deactivate"));
        assert_eq!(activation(Some(&off), Some(&on)), Some("activate"));
        assert_eq!(activation(Some(&off), Some(&silent)), Some("activate"));
        assert_eq!(activation(Some(&on), Some(&on)), None);
        assert_eq!(activation(Some(&off), Some(&off)), None);
        assert_eq!(activation(None, Some(&off)), None);
        assert_eq!(activation(Some(&on), None), None);
    }

    #[test]
    fn external_id_comes_from_the_new_state_or_the_deleted_one() {
        let a = json!({"externalId": "e1"});
        let b = json!({"externalId": "e2"});
        assert_eq!(
            Change::between(Some(&a), Some(&b), Some(2)).external_id,
            Some("e2".into())
        );
        assert_eq!(
            Change::between(Some(&a), None, None).external_id,
            Some("e1".into())
        );
    }
}
