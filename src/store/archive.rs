//! Soft-deleted resources (issue 17): a resource's row, kept whole in
//! `deleted_resources` with the memberships it had, until it is restored
//! (same id, same memberships where the groups still exist) or its
//! organization's retention period ends.
//!
//! Archiving copies the row before the ordinary delete runs, in the same
//! transaction, so everything else (memberships, counts, declared value
//! rows, `userName` uniqueness) behaves exactly as for a hard delete.
//! Restoring inserts the row back (`jsonb_populate_record`, so every column
//! comes back whatever their order) and lets the same triggers rebuild
//! what they keep.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

use super::schema::deleted_resources;
use super::StoreError;

/// The table a resource lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Users,
    Groups,
    Resources,
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        match s {
            "scim_users" => Some(Source::Users),
            "scim_groups" => Some(Source::Groups),
            "scim_resources" => Some(Source::Resources),
            _ => None,
        }
    }
}

/// `INSERT INTO deleted_resources … SELECT … FROM $table`: one fixed text
/// per table (names from this file, never from a request).
macro_rules! archive_sql {
    ($table:literal, $display:literal) => {
        concat!(
            "INSERT INTO deleted_resources (id, org_id, resource_type, source, row_data, member_of, \
             members, external_id, external_id_connector, display, deleted_at, deleted_by) \
             SELECT t.id, t.org_id, $3, '", $table, "', to_jsonb(t), \
             COALESCE((SELECT array_agg(m.group_id) FROM scim_group_members m WHERE m.member_id = t.id), '{}'), \
             COALESCE((SELECT jsonb_agg(jsonb_build_object('id', m.member_id, 'type', m.member_type)) \
                       FROM scim_group_members m WHERE m.group_id = t.id), '[]'::jsonb), \
             t.external_id, t.external_id_connector, ", $display, ", $4, $5 \
             FROM ", $table, " t WHERE t.org_id = $1 AND t.id = $2 \
             ON CONFLICT (id) DO UPDATE SET row_data = EXCLUDED.row_data, member_of = EXCLUDED.member_of, \
             members = EXCLUDED.members, external_id = EXCLUDED.external_id, \
             external_id_connector = EXCLUDED.external_id_connector, display = EXCLUDED.display, \
             deleted_at = EXCLUDED.deleted_at, deleted_by = EXCLUDED.deleted_by"
        )
    };
}

/// Copies resource `id` of `org` (its row and memberships) into the
/// archive; the caller deletes it next, in the same transaction.
pub fn archive(
    conn: &mut PgConnection,
    org: Uuid,
    source: Source,
    resource_type: &str,
    id: Uuid,
    deleted_by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = match source {
        Source::Users => archive_sql!("scim_users", "t.user_name"),
        Source::Groups => archive_sql!("scim_groups", "t.display_name"),
        Source::Resources => archive_sql!(
            "scim_resources",
            "COALESCE(t.doc->>'displayName', t.doc->>'name')"
        ),
    };
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(org)
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(resource_type)
        .bind::<Timestamptz, _>(now)
        .bind::<Text, _>(deleted_by)
        .execute(conn)?;
    Ok(())
}

/// An archived resource as the admin API lists it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = deleted_resources)]
pub struct Archived {
    pub id: Uuid,
    pub resource_type: String,
    pub external_id: Option<String>,
    pub external_id_connector: Option<Uuid>,
    pub display: Option<String>,
    pub deleted_at: DateTime<Utc>,
    pub deleted_by: String,
    pub member_of: Vec<Uuid>,
}

/// The archived resources of `org`, newest first, from before `before`
/// (`(deleted_at, id)` of the last one of the previous page).
pub fn list(
    conn: &mut PgConnection,
    org: Uuid,
    resource_type: Option<&str>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Archived>, StoreError> {
    let mut q = deleted_resources::table
        .filter(deleted_resources::org_id.eq(org))
        .into_boxed();
    if let Some(t) = resource_type {
        q = q.filter(deleted_resources::resource_type.eq(t.to_string()));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            deleted_resources::deleted_at
                .lt(at)
                .or(deleted_resources::deleted_at
                    .eq(at)
                    .and(deleted_resources::id.lt(id))),
        );
    }
    Ok(q.order((
        deleted_resources::deleted_at.desc(),
        deleted_resources::id.desc(),
    ))
    .limit(limit)
    .select(Archived::as_select())
    .load(conn)?)
}

/// The archived resource `connector` made with `external_id`, deleted
/// within its organization's retention period: what re-creating it brings
/// back.
pub fn find_recreated(
    conn: &mut PgConnection,
    org: Uuid,
    resource_type: &str,
    connector: Uuid,
    external_id: &str,
    retention_days: i32,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let since = now - chrono::Duration::days(i64::from(retention_days));
    Ok(deleted_resources::table
        .filter(deleted_resources::org_id.eq(org))
        .filter(deleted_resources::resource_type.eq(resource_type))
        .filter(deleted_resources::external_id_connector.eq(connector))
        .filter(deleted_resources::external_id.eq(external_id))
        .filter(deleted_resources::deleted_at.gt(since))
        .order(deleted_resources::deleted_at.desc())
        .select(deleted_resources::id)
        .first(conn)
        .optional()?)
}

#[derive(QueryableByName)]
struct GroupId {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
}

/// Puts archived resource `id` back: its row (the next version, modified
/// `now`), its memberships in the groups that still exist, and a group's
/// members that still exist. Returns what was restored. A `userName` (or
/// declared unique value) taken meanwhile is a `Conflict`, and nothing
/// changes.
pub fn restore(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Archived, StoreError> {
    let found: Option<(Archived, String, serde_json::Value, serde_json::Value)> =
        deleted_resources::table
            .filter(deleted_resources::org_id.eq(org))
            .filter(deleted_resources::id.eq(id))
            .select((
                Archived::as_select(),
                deleted_resources::source,
                deleted_resources::row_data,
                deleted_resources::members,
            ))
            .for_update()
            .first(conn)
            .optional()?;
    let Some((archived, source, row, members)) = found else {
        return Err(StoreError::NotFound);
    };
    let source = Source::parse(&source)
        .ok_or_else(|| StoreError::Db(format!("archived resource {id} has an unknown source")))?;
    let (insert, bump) = match source {
        Source::Users => (
            "INSERT INTO scim_users SELECT * FROM jsonb_populate_record(NULL::scim_users, $1)",
            "UPDATE scim_users SET version = version + 1, last_modified = $2 WHERE id = $1",
        ),
        Source::Groups => (
            "INSERT INTO scim_groups SELECT * FROM jsonb_populate_record(NULL::scim_groups, $1)",
            "UPDATE scim_groups SET version = version + 1, last_modified = $2 WHERE id = $1",
        ),
        Source::Resources => (
            "INSERT INTO scim_resources SELECT * FROM jsonb_populate_record(NULL::scim_resources, $1)",
            "UPDATE scim_resources SET version = version + 1, last_modified = $2 WHERE id = $1",
        ),
    };
    diesel::sql_query(insert)
        .bind::<Jsonb, _>(&row)
        .execute(conn)?;
    diesel::sql_query(bump)
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(now)
        .execute(conn)?;
    if source != Source::Resources {
        let member_type = if source == Source::Users {
            "User"
        } else {
            "Group"
        };
        // Back into the groups that still exist; each changes version.
        let groups: Vec<GroupId> = diesel::sql_query(
            "INSERT INTO scim_group_members (group_id, member_id, member_type) \
             SELECT g.id, $2, $3 FROM scim_groups g WHERE g.org_id = $1 AND g.id = ANY($4) \
             ON CONFLICT DO NOTHING RETURNING group_id",
        )
        .bind::<SqlUuid, _>(org)
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(member_type)
        .bind::<Array<SqlUuid>, _>(&archived.member_of)
        .get_results(conn)?;
        let groups: Vec<Uuid> = groups.into_iter().map(|g| g.group_id).collect();
        if !groups.is_empty() {
            diesel::sql_query(
                "UPDATE scim_groups SET member_count = member_count + 1, version = version + 1, \
                 last_modified = $2 WHERE id = ANY($1)",
            )
            .bind::<Array<SqlUuid>, _>(&groups)
            .bind::<Timestamptz, _>(now)
            .execute(conn)?;
        }
    }
    if source == Source::Groups {
        // Its members that still exist, then its count from what is there.
        diesel::sql_query(
            "INSERT INTO scim_group_members (group_id, member_id, member_type) \
             SELECT $2, m.id, m.type FROM jsonb_to_recordset($3) AS m(id uuid, type text) \
             WHERE EXISTS (SELECT 1 FROM scim_users u WHERE u.org_id = $1 AND u.id = m.id) \
                OR EXISTS (SELECT 1 FROM scim_groups g WHERE g.org_id = $1 AND g.id = m.id) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<SqlUuid, _>(org)
        .bind::<SqlUuid, _>(id)
        .bind::<Jsonb, _>(&members)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE scim_groups SET member_count = \
             (SELECT count(*) FROM scim_group_members WHERE group_id = $1) WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .execute(conn)?;
    }
    diesel::delete(deleted_resources::table.filter(deleted_resources::id.eq(id))).execute(conn)?;
    Ok(archived)
}

/// Removes archived resource `id` for good; whether there was one.
pub fn purge(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        deleted_resources::table
            .filter(deleted_resources::org_id.eq(org))
            .filter(deleted_resources::id.eq(id)),
    )
    .execute(conn)?
        > 0)
}

/// Removes up to `batch` archived resources whose organization's retention
/// period has ended; how many.
pub fn purge_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::sql_query(
        "DELETE FROM deleted_resources WHERE id IN (SELECT d.id FROM deleted_resources d \
         JOIN organizations o ON o.id = d.org_id \
         WHERE d.deleted_at < $1 - make_interval(days => o.retention_days) LIMIT $2)",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)?)
}

/// A type name as the archive keys it (`custom::key` for declared types).
pub fn type_key(name: &str) -> String {
    if name.eq_ignore_ascii_case("User") {
        "User".into()
    } else if name.eq_ignore_ascii_case("Group") {
        "Group".into()
    } else {
        super::custom::key(name)
    }
}
