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
    let loaded = load_all(conn, org)?;
    Ok((loaded.version, loaded.rows))
}

/// Everything an organization's registry is built from.
pub struct Loaded {
    pub version: i64,
    /// `undeclared_attributes = 'ignore'`.
    pub ignore_undeclared: bool,
    pub rows: Vec<SchemaRow>,
}

/// [`load`], with the organization's `undeclared_attributes` setting.
pub fn load_all(conn: &mut PgConnection, org: Uuid) -> Result<Loaded, StoreError> {
    let rows: Vec<(i64, String, Option<SchemaRow>)> = organizations::table
        .left_join(scim_schemas::table)
        .filter(organizations::id.eq(org))
        .order((scim_schemas::created_at, scim_schemas::urn_key))
        .select((
            organizations::schema_version,
            organizations::undeclared_attributes,
            Option::<SchemaRow>::as_select(),
        ))
        .load(conn)?;
    let (version, ignore_undeclared) = rows
        .first()
        .map_or((0, false), |(v, u, _)| (*v, u == "ignore"));
    Ok(Loaded {
        version,
        ignore_undeclared,
        rows: rows.into_iter().filter_map(|(_, _, r)| r).collect(),
    })
}

/// Sets the organization's `undeclared_attributes` (`reject` or `ignore`);
/// the caller bumps the schema version in the same transaction.
pub fn set_undeclared(conn: &mut PgConnection, org: Uuid, ignore: bool) -> Result<(), StoreError> {
    let n = diesel::update(organizations::table.find(org))
        .set(organizations::undeclared_attributes.eq(if ignore { "ignore" } else { "reject" }))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
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
    /// A declared resource type (its folded name), in `scim_resources`.
    Declared(&'static str),
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
    use super::schema::{scim_groups, scim_resources, scim_users};
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
        (Holder::Declared(rt), true) => scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(rt))
            .filter(scim_resources::doc.has_key(urn))
            .select(count_star())
            .first(conn)?,
        (Holder::Declared(rt), false) => scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(rt))
            .filter(
                scim_resources::doc
                    .retrieve_as_object(urn)
                    .has_any_key(keys),
            )
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
    use super::schema::{scim_groups, scim_resources, scim_users};
    use diesel::dsl::{count_star, not};
    let n = match holder {
        Holder::Declared(rt) => {
            let ext = scim_resources::doc.retrieve_as_object(urn);
            let mut q = scim_resources::table
                .filter(scim_resources::org_id.eq(org))
                .filter(scim_resources::resource_type.eq(rt))
                .into_boxed();
            q = match (whole, keys.is_empty()) {
                (true, true) => q.filter(not(scim_resources::doc.has_key(urn))),
                (true, false) => q.filter(
                    not(scim_resources::doc.has_key(urn)).or(not(ext.has_all_keys(keys.to_vec()))),
                ),
                (false, _) => q
                    .filter(scim_resources::doc.has_key(urn))
                    .filter(not(ext.has_all_keys(keys.to_vec()))),
            };
            q.select(count_star()).first(conn)?
        }
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
    let table = holder.table();
    // A declared type's rows share their table with other types': the
    // type is bound as $5 (a fixed text still, one per table).
    let of_type = match holder {
        Holder::Declared(_) => " AND resource_type = $5",
        Holder::Users | Holder::Groups => " AND $5::text IS NULL",
    };
    let rt = match holder {
        Holder::Declared(rt) => Some(rt),
        Holder::Users | Holder::Groups => None,
    };
    // Two fixed texts per table: the parameters carry every value.
    let remove_keys = format!(
        "UPDATE {table} SET doc = jsonb_set(doc, ARRAY[$2], (doc -> $2) - $3::text[]), \
         version = version + 1, last_modified = $4 \
         WHERE org_id = $1 AND (doc -> $2) ?| $3::text[]{of_type}"
    );
    let drop_empty = format!(
        "UPDATE {table} SET doc = (doc - $2) || jsonb_build_object('schemas', \
           (SELECT coalesce(jsonb_agg(s), '[]'::jsonb) FROM jsonb_array_elements(doc -> 'schemas') s \
            WHERE lower(s #>> '{{}}') <> lower($2))), \
         version = version + CASE WHEN $3 THEN 1 ELSE 0 END, last_modified = CASE WHEN $3 THEN $4 ELSE last_modified END \
         WHERE org_id = $1 AND doc ? $2 AND ($3 OR doc -> $2 = '{{}}'::jsonb){of_type}"
    );
    let mut changed = 0;
    if !keys.is_empty() {
        changed += diesel::sql_query(remove_keys)
            .bind::<SqlUuid, _>(org)
            .bind::<Text, _>(urn)
            .bind::<Array<Text>, _>(keys)
            .bind::<Timestamptz, _>(now)
            .bind::<diesel::sql_types::Nullable<Text>, _>(rt)
            .execute(conn)?;
    }
    let whole = diesel::sql_query(drop_empty)
        .bind::<SqlUuid, _>(org)
        .bind::<Text, _>(urn)
        .bind::<diesel::sql_types::Bool, _>(keys.is_empty())
        .bind::<Timestamptz, _>(now)
        .bind::<diesel::sql_types::Nullable<Text>, _>(rt)
        .execute(conn)?;
    if keys.is_empty() {
        changed += whole;
    }
    Ok(changed)
}

impl Holder {
    fn resource_type(self) -> &'static str {
        match self {
            Holder::Users => "User",
            Holder::Groups => "Group",
            Holder::Declared(rt) => rt,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Holder::Users => "scim_users",
            Holder::Groups => "scim_groups",
            Holder::Declared(_) => "scim_resources",
        }
    }

    /// The condition on `r` (a row of [`Self::table`]) that keeps this
    /// holder's rows, on the bound type `$n` (NULL for Users and Groups,
    /// whose tables hold one type).
    fn of_type(self) -> &'static str {
        match self {
            Holder::Declared(_) => " AND r.resource_type = $2",
            Holder::Users | Holder::Groups => "",
        }
    }
}

/// Makes `paths` the indexed paths of the extension stored under `urn`
/// (replacing what it had), drops that extension's value rows, and, with
/// `reindex`, writes them again from the stored documents (the trigger on
/// the resource tables keeps them from then on). A declaration that has
/// just been added holds no values yet, so it skips the scan.
///
/// `core`: the schema is a declared type's core schema, whose values sit at
/// the top of its documents rather than under the URN (stored as `urn` '').
pub fn set_indexed(
    conn: &mut PgConnection,
    holder: Holder,
    org: Uuid,
    urn: &str,
    paths: &[crate::scim::schema::define::IndexedPath],
    reindex: bool,
    core: bool,
) -> Result<(), StoreError> {
    use super::schema::{scim_attr_values, scim_indexed_paths};
    use crate::scim::schema::define::IndexedPath;
    let rt = holder.resource_type();
    let prefix = format!("{}:", urn.to_ascii_lowercase());
    let stored_under = if core { "" } else { urn };
    let folded_urn = stored_under.to_ascii_lowercase();
    diesel::delete(
        scim_indexed_paths::table
            .filter(scim_indexed_paths::org_id.eq(org))
            .filter(scim_indexed_paths::resource_type.eq(rt))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(urn) = ")
                    .bind::<diesel::sql_types::Text, _>(&folded_urn),
            ),
    )
    .execute(conn)?;
    diesel::delete(
        scim_attr_values::table
            .filter(scim_attr_values::org_id.eq(org))
            .filter(scim_attr_values::resource_type.eq(rt))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("starts_with(path, ")
                    .bind::<diesel::sql_types::Text, _>(&prefix)
                    .sql(")"),
            ),
    )
    .execute(conn)?;
    if paths.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = paths
        .iter()
        .map(|p| {
            (
                scim_indexed_paths::org_id.eq(org),
                scim_indexed_paths::resource_type.eq(rt),
                scim_indexed_paths::urn.eq(stored_under),
                scim_indexed_paths::attr.eq(p.attr),
                scim_indexed_paths::sub.eq(p.sub),
                scim_indexed_paths::path.eq(IndexedPath::key(
                    urn,
                    p.attr,
                    (!p.sub.is_empty()).then_some(p.sub),
                )),
                scim_indexed_paths::case_exact.eq(p.case_exact),
                scim_indexed_paths::is_unique.eq(p.unique),
            )
        })
        .collect();
    diesel::insert_into(scim_indexed_paths::table)
        .values(&rows)
        .execute(conn)?;
    if reindex {
        let duplicates = unique_duplicates(conn, holder, org, &prefix)?;
        if duplicates > 0 {
            // Returned as an error so the transaction rolls back the
            // paths written above.
            return Err(StoreError::Rejected(crate::scim::error::ScimError::new(
                409,
                None,
                format!(
                    "{duplicates} values of attributes declared unique are held by more than one resource; make them differ first (forcing does not choose between them)"
                ),
            )));
        }
        let sql = format!(
            "INSERT INTO scim_attr_values (org_id, resource_type, resource_id, path, value, is_unique) \
             SELECT r.org_id, $2, r.id, v.path, v.value, v.is_unique \
             FROM {} r, scim_declared_values(r.doc, r.org_id, $2) v \
             WHERE r.org_id = $1 AND ($3 = '' OR r.doc ? $3) AND starts_with(v.path, $4){}",
            holder.table(),
            holder.of_type()
        );
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Uuid, _>(org)
            .bind::<diesel::sql_types::Text, _>(rt)
            .bind::<diesel::sql_types::Text, _>(stored_under)
            .bind::<diesel::sql_types::Text, _>(&prefix)
            .execute(conn)?;
    }
    Ok(())
}

/// How many values of the unique paths under `prefix` more than one of the
/// organization's resources holds.
fn unique_duplicates(
    conn: &mut PgConnection,
    holder: Holder,
    org: Uuid,
    prefix: &str,
) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT count(*) AS n FROM (SELECT v.path, v.value FROM {} r, \
         scim_declared_values(r.doc, r.org_id, $2) v \
         WHERE r.org_id = $1 AND v.is_unique AND starts_with(v.path, $3){} \
         GROUP BY v.path, v.value HAVING count(*) > 1) d",
        holder.table(),
        holder.of_type()
    );
    let row: N = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Uuid, _>(org)
        .bind::<diesel::sql_types::Text, _>(holder.resource_type())
        .bind::<diesel::sql_types::Text, _>(prefix)
        .get_result(conn)?;
    Ok(row.n)
}
