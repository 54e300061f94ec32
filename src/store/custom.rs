//! Declared resource types (`scim_resource_types`) and their resources
//! (`scim_resources`), one organization at a time.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{scim_resource_types, scim_resources};
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_resource_types)]
pub struct TypeRow {
    pub org_id: Uuid,
    /// `name`, folded: resource type names compare case-insensitively.
    pub name_key: String,
    pub name: String,
    pub endpoint_key: String,
    /// The resourceType document, as the client wrote it.
    pub definition: Value,
    /// Its core schema, as the client wrote it.
    pub schema: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The key a name or endpoint is stored and looked up under.
pub fn key(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The organization's declared resource types, oldest first.
pub fn types(conn: &mut PgConnection, org: Uuid) -> Result<Vec<TypeRow>, StoreError> {
    Ok(scim_resource_types::table
        .filter(scim_resource_types::org_id.eq(org))
        .order((
            scim_resource_types::created_at,
            scim_resource_types::name_key,
        ))
        .select(TypeRow::as_select())
        .load(conn)?)
}

pub fn get_type(conn: &mut PgConnection, org: Uuid, name: &str) -> Result<TypeRow, StoreError> {
    scim_resource_types::table
        .find((org, key(name)))
        .select(TypeRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn insert_type(conn: &mut PgConnection, row: &TypeRow) -> Result<(), StoreError> {
    diesel::insert_into(scim_resource_types::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn replace_type(conn: &mut PgConnection, row: &TypeRow) -> Result<(), StoreError> {
    diesel::update(scim_resource_types::table.find((row.org_id, &row.name_key)))
        .set((
            scim_resource_types::definition.eq(&row.definition),
            scim_resource_types::schema.eq(&row.schema),
            scim_resource_types::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the type and, with it, every resource of it.
pub fn delete_type(conn: &mut PgConnection, org: Uuid, name: &str) -> Result<usize, StoreError> {
    let removed = diesel::delete(
        scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(key(name))),
    )
    .execute(conn)?;
    diesel::delete(scim_resource_types::table.find((org, key(name)))).execute(conn)?;
    Ok(removed)
}

/// How many resources of the type exist, or (with `keys`) hold a value for
/// one of those top-level attributes.
pub fn holding(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    keys: &[String],
) -> Result<i64, StoreError> {
    use diesel::dsl::count_star;
    let q = scim_resources::table
        .filter(scim_resources::org_id.eq(org))
        .filter(scim_resources::resource_type.eq(key(name)))
        .into_boxed();
    let q = if keys.is_empty() {
        q
    } else {
        q.filter(scim_resources::doc.has_any_key(keys))
    };
    Ok(q.select(count_star()).first(conn)?)
}

/// How many resources of the type lack a value for one of `keys`.
pub fn lacking(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    keys: &[String],
) -> Result<i64, StoreError> {
    use diesel::dsl::{count_star, not};
    if keys.is_empty() {
        return Ok(0);
    }
    Ok(scim_resources::table
        .filter(scim_resources::org_id.eq(org))
        .filter(scim_resources::resource_type.eq(key(name)))
        .filter(not(scim_resources::doc.has_all_keys(keys.to_vec())))
        .select(count_star())
        .first(conn)?)
}

/// Removes `keys` from every resource of the type holding one, moving each
/// changed resource's version on. Returns how many changed.
pub fn strip(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
    if keys.is_empty() {
        return Ok(0);
    }
    Ok(diesel::sql_query(
        "UPDATE scim_resources SET doc = doc - $3::text[], version = version + 1, last_modified = $4 \
         WHERE org_id = $1 AND resource_type = $2 AND doc ?| $3::text[]",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(key(name))
    .bind::<Array<Text>, _>(keys)
    .bind::<Timestamptz, _>(now)
    .execute(conn)?)
}

/// A resource of a declared type as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_resources)]
pub struct ResourceRow {
    pub id: Uuid,
    pub doc: Value,
    pub created_at: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
    pub created_by_connector: Option<Uuid>,
    pub owner_connector: Option<Uuid>,
    pub external_id_connector: Option<Uuid>,
}

impl ResourceRow {
    pub fn origin(&self) -> crate::scim::resource::Origin {
        crate::scim::resource::Origin {
            created_by: self.created_by_connector,
            owner: self.owner_connector,
            external_id_by: self.external_id_connector,
        }
    }
}

fn external_id(doc: &Value) -> Option<String> {
    doc.get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub fn insert(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    id: Uuid,
    doc: &Value,
    origin: crate::scim::resource::Origin,
    now: DateTime<Utc>,
) -> Result<ResourceRow, StoreError> {
    Ok(diesel::insert_into(scim_resources::table)
        .values((
            scim_resources::id.eq(id),
            scim_resources::org_id.eq(org),
            scim_resources::resource_type.eq(key(name)),
            scim_resources::external_id.eq(external_id(doc)),
            scim_resources::doc.eq(doc),
            scim_resources::created_at.eq(now),
            scim_resources::last_modified.eq(now),
            scim_resources::version.eq(1_i64),
            scim_resources::created_by_connector.eq(origin.created_by),
            scim_resources::owner_connector.eq(origin.owner),
            scim_resources::external_id_connector.eq(origin.external_id_by),
        ))
        .returning(ResourceRow::as_returning())
        .get_result(conn)?)
}

/// The resource, locked for the rest of the transaction with `lock`.
pub fn get(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    id: Uuid,
    lock: bool,
) -> Result<ResourceRow, StoreError> {
    let q = scim_resources::table
        .filter(scim_resources::org_id.eq(org))
        .filter(scim_resources::resource_type.eq(key(name)))
        .filter(scim_resources::id.eq(id))
        .select(ResourceRow::as_select());
    let found = if lock {
        q.for_update().first(conn).optional()?
    } else {
        q.first(conn).optional()?
    };
    found.ok_or(StoreError::NotFound)
}

/// Writes `doc` over the (locked) resource `current`, with the next version.
pub fn update(
    conn: &mut PgConnection,
    current: &ResourceRow,
    doc: Value,
    external_id_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<ResourceRow, StoreError> {
    Ok(diesel::update(scim_resources::table.find(current.id))
        .set((
            scim_resources::external_id.eq(external_id(&doc)),
            scim_resources::external_id_connector.eq(external_id_by),
            scim_resources::doc.eq(&doc),
            scim_resources::last_modified.eq(now),
            scim_resources::version.eq(current.version + 1),
        ))
        .returning(ResourceRow::as_returning())
        .get_result(conn)?)
}

pub fn delete(conn: &mut PgConnection, org: Uuid, name: &str, id: Uuid) -> Result<(), StoreError> {
    let n = diesel::delete(
        scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(key(name)))
            .filter(scim_resources::id.eq(id)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Makes `paths` the indexed core attributes of the declared type `name`
/// (its core schema `core_urn`), as `schemas::set_indexed` does for an
/// extension.
pub fn set_indexed(
    conn: &mut PgConnection,
    org: Uuid,
    name: &str,
    core_urn: &str,
    paths: &[crate::scim::schema::define::IndexedPath],
    reindex: bool,
) -> Result<(), StoreError> {
    let holder = super::schemas::Holder::Declared(crate::scim::schema::define::intern(&key(name)));
    super::schemas::set_indexed(conn, holder, org, core_urn, paths, reindex, true)
}
