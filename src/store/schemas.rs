//! Extension schemas organizations declare at runtime, and the version
//! counter every instance checks its registry against
//! (`organizations.schema_version`, bumped in the transaction that changes
//! a schema).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{organizations, scim_schemas};
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_schemas)]
pub struct SchemaRow {
    pub org_id: Uuid,
    /// `urn`, folded: URNs compare case-insensitively.
    pub urn_key: String,
    pub urn: String,
    pub extends: String,
    pub required: bool,
    pub definition: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The key a URN is stored and looked up under.
pub fn urn_key(urn: &str) -> String {
    urn.to_ascii_lowercase()
}

/// The organization's schema version and its declarations, in the order
/// they were declared, read in one statement so that the two agree.
pub fn load(conn: &mut PgConnection, org: Uuid) -> Result<(i64, Vec<SchemaRow>), StoreError> {
    let rows: Vec<(i64, Option<SchemaRow>)> = organizations::table
        .left_join(scim_schemas::table)
        .filter(organizations::id.eq(org))
        .order((scim_schemas::created_at, scim_schemas::urn_key))
        .select((
            organizations::schema_version,
            Option::<SchemaRow>::as_select(),
        ))
        .load(conn)?;
    let version = rows.first().map_or(0, |(v, _)| *v);
    Ok((version, rows.into_iter().filter_map(|(_, r)| r).collect()))
}

/// The organization's schema version alone.
pub fn version(conn: &mut PgConnection, org: Uuid) -> Result<i64, StoreError> {
    Ok(organizations::table
        .find(org)
        .select(organizations::schema_version)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Takes the organization's schema lock for the rest of the transaction:
/// schema changes in one organization are serialised, so two concurrent
/// adds cannot both pass the clash check. Also the lock `bump` needs.
pub fn lock(conn: &mut PgConnection, org: Uuid) -> Result<i64, StoreError> {
    organizations::table
        .find(org)
        .select(organizations::schema_version)
        .for_update()
        .first::<i64>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Moves the organization's schema version on, in the transaction that
/// changes its schemas: every instance sees its registry is stale from the
/// moment this commits.
pub fn bump(conn: &mut PgConnection, org: Uuid) -> Result<i64, StoreError> {
    diesel::update(organizations::table.find(org))
        .set(organizations::schema_version.eq(organizations::schema_version + 1))
        .returning(organizations::schema_version)
        .get_result::<i64>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut PgConnection, org: Uuid, urn: &str) -> Result<SchemaRow, StoreError> {
    scim_schemas::table
        .find((org, urn_key(urn)))
        .select(SchemaRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn insert(conn: &mut PgConnection, row: &SchemaRow) -> Result<(), StoreError> {
    diesel::insert_into(scim_schemas::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Replaces a declaration, keeping its place (`created_at`).
pub fn replace(conn: &mut PgConnection, row: &SchemaRow) -> Result<(), StoreError> {
    let n = diesel::update(scim_schemas::table.find((row.org_id, &row.urn_key)))
        .set((
            scim_schemas::urn.eq(&row.urn),
            scim_schemas::extends.eq(&row.extends),
            scim_schemas::required.eq(row.required),
            scim_schemas::definition.eq(&row.definition),
            scim_schemas::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn delete(conn: &mut PgConnection, org: Uuid, urn: &str) -> Result<(), StoreError> {
    let n = diesel::delete(scim_schemas::table.find((org, urn_key(urn)))).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Which table holds the resources a schema extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Users,
    Groups,
}

/// How many of the organization's resources hold the extension `urn` at
/// all (`keys` empty), or hold a value for any of `keys` in it.
pub fn holding(
    conn: &mut PgConnection,
    holder: Holder,
    org: Uuid,
    urn: &str,
    keys: &[String],
) -> Result<i64, StoreError> {
    use super::schema::{scim_groups, scim_users};
    use diesel::dsl::count_star;
    let n = match (holder, keys.is_empty()) {
        (Holder::Users, true) => scim_users::table
            .filter(scim_users::org_id.eq(org))
            .filter(scim_users::doc.has_key(urn))
            .select(count_star())
            .first(conn)?,
        (Holder::Users, false) => scim_users::table
            .filter(scim_users::org_id.eq(org))
            .filter(scim_users::doc.retrieve_as_object(urn).has_any_key(keys))
            .select(count_star())
            .first(conn)?,
        (Holder::Groups, true) => scim_groups::table
            .filter(scim_groups::org_id.eq(org))
            .filter(scim_groups::doc.has_key(urn))
            .select(count_star())
            .first(conn)?,
        (Holder::Groups, false) => scim_groups::table
            .filter(scim_groups::org_id.eq(org))
            .filter(scim_groups::doc.retrieve_as_object(urn).has_any_key(keys))
            .select(count_star())
            .first(conn)?,
    };
    Ok(n)
}

/// How many of the organization's resources that carry the extension `urn`
/// lack a value for one of `keys` (attributes about to become required), or,
/// with `whole`, do not carry the extension at all (it is about to become
/// required).
pub fn lacking(
    conn: &mut PgConnection,
    holder: Holder,
    org: Uuid,
    urn: &str,
    keys: &[String],
    whole: bool,
) -> Result<i64, StoreError> {
    use super::schema::{scim_groups, scim_users};
    use diesel::dsl::{count_star, not};
    let n = match holder {
        Holder::Users => {
            let ext = scim_users::doc.retrieve_as_object(urn);
            let mut q = scim_users::table
                .filter(scim_users::org_id.eq(org))
                .into_boxed();
            q = match (whole, keys.is_empty()) {
                (true, true) => q.filter(not(scim_users::doc.has_key(urn))),
                (true, false) => q.filter(
                    not(scim_users::doc.has_key(urn)).or(not(ext.has_all_keys(keys.to_vec()))),
                ),
                (false, _) => q
                    .filter(scim_users::doc.has_key(urn))
                    .filter(not(ext.has_all_keys(keys.to_vec()))),
            };
            q.select(count_star()).first(conn)?
        }
        Holder::Groups => {
            let ext = scim_groups::doc.retrieve_as_object(urn);
            let mut q = scim_groups::table
                .filter(scim_groups::org_id.eq(org))
                .into_boxed();
            q = match (whole, keys.is_empty()) {
                (true, true) => q.filter(not(scim_groups::doc.has_key(urn))),
                (true, false) => q.filter(
                    not(scim_groups::doc.has_key(urn)).or(not(ext.has_all_keys(keys.to_vec()))),
                ),
                (false, _) => q
                    .filter(scim_groups::doc.has_key(urn))
                    .filter(not(ext.has_all_keys(keys.to_vec()))),
            };
            q.select(count_star()).first(conn)?
        }
    };
    Ok(n)
}

/// Removes the values of `keys` from the extension `urn` of every resource
/// of the organization holding one (or, with `keys` empty, the whole
/// extension), drops an extension left empty together with its entry in
/// `schemas`, and moves each changed resource's version and
/// `lastModified` on, so ETags tell clients it changed. Returns how many
/// resources changed.
pub fn strip(
    conn: &mut PgConnection,
    holder: Holder,
    org: Uuid,
    urn: &str,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
    let table = match holder {
        Holder::Users => "scim_users",
        Holder::Groups => "scim_groups",
    };
    // Two fixed texts per table: the parameters carry every value.
    let remove_keys = format!(
        "UPDATE {table} SET doc = jsonb_set(doc, ARRAY[$2], (doc -> $2) - $3::text[]), \
         version = version + 1, last_modified = $4 \
         WHERE org_id = $1 AND (doc -> $2) ?| $3::text[]"
    );
    let drop_empty = format!(
        "UPDATE {table} SET doc = (doc - $2) || jsonb_build_object('schemas', \
           (SELECT coalesce(jsonb_agg(s), '[]'::jsonb) FROM jsonb_array_elements(doc -> 'schemas') s \
            WHERE lower(s #>> '{{}}') <> lower($2))), \
         version = version + CASE WHEN $3 THEN 1 ELSE 0 END, last_modified = CASE WHEN $3 THEN $4 ELSE last_modified END \
         WHERE org_id = $1 AND doc ? $2 AND ($3 OR doc -> $2 = '{{}}'::jsonb)"
    );
    let mut changed = 0;
    if !keys.is_empty() {
        changed += diesel::sql_query(remove_keys)
            .bind::<SqlUuid, _>(org)
            .bind::<Text, _>(urn)
            .bind::<Array<Text>, _>(keys)
            .bind::<Timestamptz, _>(now)
            .execute(conn)?;
    }
    let whole = diesel::sql_query(drop_empty)
        .bind::<SqlUuid, _>(org)
        .bind::<Text, _>(urn)
        .bind::<diesel::sql_types::Bool, _>(keys.is_empty())
        .bind::<Timestamptz, _>(now)
        .execute(conn)?;
    if keys.is_empty() {
        changed += whole;
    }
    Ok(changed)
}
