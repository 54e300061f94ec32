//! The audit log: who changed what, when, with what result. Entries are
//! written by the same transaction as the change they describe, so a
//! rolled-back write leaves none and a committed one always has one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::query::sql::{Bind, Frag};
use super::schema::audit_log;
use super::StoreError;

/// Who acts, in which organization. Built from the authenticated principal.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org_id: Uuid,
    pub token_id: Option<Uuid>,
    /// The token's name, or `AUTH_SECRET`, or `cli`.
    pub name: String,
    /// The connector the token belongs to (issue 17): what the caller
    /// creates is recorded as the connector's, its writes are held to the
    /// ownership policy, and its `externalId`s are its own.
    pub connector: Option<Uuid>,
    /// The HTTP request acting, if any (`X-Request-Id`): its audit entries
    /// and change events carry it.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = audit_log)]
// NULL is bound rather than DEFAULT written for a missing actor token, so
// the insert has one shape and stays a prepared statement.
#[diesel(treat_none_as_default_value = false)]
pub struct Entry {
    pub id: Uuid,
    pub org_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_token_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub status: i16,
    /// What else an admin should know about the change: for a write under
    /// `undeclared_attributes = ignore`, the attributes it dropped.
    pub details: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub connector_id: Option<Uuid>,
}

impl Entry {
    /// This entry listing `dropped`, the undeclared attributes the write
    /// left out (none: no details).
    pub fn with_dropped(mut self, dropped: &[String]) -> Entry {
        if !dropped.is_empty() {
            self.details = Some(serde_json::json!({ "ignored_attributes": dropped }));
        }
        self
    }

    /// This entry with `details` (what the change was, for an admin),
    /// merged into what it already lists.
    pub fn with_details(mut self, details: serde_json::Value) -> Entry {
        self.details = match (self.details.take(), details) {
            (Some(serde_json::Value::Object(mut had)), serde_json::Value::Object(more)) => {
                had.extend(more);
                Some(serde_json::Value::Object(had))
            }
            (_, d) => Some(d),
        };
        self
    }

    /// The entry for one change `actor` made.
    pub fn new(
        actor: &Actor,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        status: u16,
        now: DateTime<Utc>,
    ) -> Entry {
        Entry {
            id: Uuid::now_v7(),
            org_id: actor.org_id,
            at: now,
            actor_token_id: actor.token_id,
            actor_name: actor.name.clone(),
            action: action.to_string(),
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            status: i16::try_from(status).unwrap_or(i16::MAX),
            details: None,
            request_id: actor.request_id.clone(),
            connector_id: actor.connector,
        }
    }
}

/// `INSERT INTO audit_log … SELECT …`: `entry`, as one statement or the
/// last part of one whose CTEs make the change.
pub(super) fn insert_values<ST>(entry: &Entry) -> Frag<ST> {
    Frag::sql(
        "INSERT INTO audit_log (id, org_id, at, actor_token_id, actor_name, action, \
         resource_type, resource_id, status, details, request_id, connector_id) SELECT ",
    )
    .bind(Bind::Uuid(entry.id))
    .push(", ")
    .bind(Bind::Uuid(entry.org_id))
    .push(", ")
    .bind(Bind::Time(entry.at))
    .push(", ")
    .bind(Bind::OptUuid(entry.actor_token_id))
    .push(", ")
    .text(entry.actor_name.clone())
    .push(", ")
    .text(entry.action.clone())
    .push(", ")
    .text(entry.resource_type.clone())
    .push(", ")
    .text(entry.resource_id.clone())
    .push(", ")
    .bind(Bind::Int(i64::from(entry.status)))
    .push(", ")
    .bind(Bind::OptJson(entry.details.clone()))
    .push(", ")
    .bind(Bind::OptText(entry.request_id.clone()))
    .push(", ")
    .bind(Bind::OptUuid(entry.connector_id))
    .shared()
}

/// `INSERT INTO audit_log … SELECT … FROM changed`: `entry`, inserted only
/// when the CTE `changed` (the write it records, in the same statement)
/// returned a row, so a write and its entry are one atomic statement.
pub(super) fn insert_from_changed<ST>(entry: &Entry) -> Frag<ST> {
    insert_values(entry).push(" FROM changed").shared()
}

/// Records a prepared entry. Call inside the transaction that makes the
/// change.
pub fn insert(conn: &mut PgConnection, entry: &Entry) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)?;
    Ok(())
}

/// Records one change. Call inside the transaction that makes it.
pub fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    resource_type: &str,
    resource_id: &str,
    status: u16,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values(&Entry::new(
            actor,
            action,
            resource_type,
            resource_id,
            status,
            now,
        ))
        .execute(conn)?;
    Ok(())
}

/// What `GET /api/v1/audit` may filter on. The position is the (at, id) of
/// the last entry already seen: pages walk backwards in time by keyset.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, org: Uuid, q: &AuditQuery) -> Result<Vec<Entry>, StoreError> {
    let mut query = audit_log::table
        .filter(audit_log::org_id.eq(org))
        .select(Entry::as_select())
        .into_boxed();
    if let Some(a) = q.actor {
        query = query.filter(audit_log::actor_token_id.eq(a));
    }
    if let Some(t) = &q.resource_type {
        query = query.filter(audit_log::resource_type.eq(t.clone()));
    }
    if let Some(r) = &q.resource_id {
        query = query.filter(audit_log::resource_id.eq(r.clone()));
    }
    if let Some(s) = q.since {
        query = query.filter(audit_log::at.ge(s));
    }
    if let Some(u) = q.until {
        query = query.filter(audit_log::at.lt(u));
    }
    if let Some((at, id)) = q.after {
        query = query.filter(
            audit_log::at
                .lt(at)
                .or(audit_log::at.eq(at).and(audit_log::id.lt(id))),
        );
    }
    Ok(query
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(q.limit)
        .load(conn)?)
}

/// Deletes entries older than `before`, in batches so no single statement
/// runs long; returns how many went.
pub fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let batch: Vec<Uuid> = audit_log::table
            .filter(audit_log::at.lt(before))
            .select(audit_log::id)
            .limit(10_000)
            .load(conn)?;
        if batch.is_empty() {
            return Ok(total);
        }
        total +=
            diesel::delete(audit_log::table.filter(audit_log::id.eq_any(&batch))).execute(conn)?;
    }
}

/// The directory at a glance: resource counts and each token's last change.
#[derive(Debug, Clone)]
pub struct Overview {
    pub users: i64,
    pub groups: i64,
    pub last_by_token: Vec<Entry>,
}

pub fn overview(conn: &mut PgConnection, org: Uuid) -> Result<Overview, StoreError> {
    let users = super::counts::stored(conn, org, "User")?;
    let groups = super::counts::stored(conn, org, "Group")?;
    let last_by_token = audit_log::table
        .filter(audit_log::org_id.eq(org))
        .filter(audit_log::actor_token_id.is_not_null())
        .distinct_on(audit_log::actor_token_id)
        .order((
            audit_log::actor_token_id,
            audit_log::at.desc(),
            audit_log::id.desc(),
        ))
        .select(Entry::as_select())
        .load(conn)?;
    Ok(Overview {
        users,
        groups,
        last_by_token,
    })
}
