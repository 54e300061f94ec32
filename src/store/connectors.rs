//! Connectors (issue 17): the identity sources an organization provisions
//! from. A change to one is a change to what the organization's registry
//! is built from: callers bump `organizations.schema_version` in the same
//! transaction (`schemas::bump`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{
    api_tokens, connectors, organizations, scim_groups, scim_resources, scim_users,
};
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = connectors, treat_none_as_null = true)]
pub struct ConnectorRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub kind: String,
    pub profile: String,
    pub ownership: Option<String>,
    pub rate_per_second: Option<f64>,
    pub rate_burst: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, row: &ConnectorRow) -> Result<(), StoreError> {
    diesel::insert_into(connectors::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// An organization's connectors, oldest first.
pub fn list(conn: &mut PgConnection, org: Uuid) -> Result<Vec<ConnectorRow>, StoreError> {
    Ok(connectors::table
        .filter(connectors::org_id.eq(org))
        .order((connectors::created_at, connectors::id))
        .select(ConnectorRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<ConnectorRow, StoreError> {
    connectors::table
        .filter(connectors::org_id.eq(org))
        .filter(connectors::id.eq(id))
        .select(ConnectorRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Locks connector `id` for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<(), StoreError> {
    connectors::table
        .filter(connectors::org_id.eq(org))
        .filter(connectors::id.eq(id))
        .select(connectors::id)
        .for_update()
        .first::<Uuid>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(())
}

/// Writes `row` over the stored connector (same id and organization).
pub fn update(conn: &mut PgConnection, row: &ConnectorRow) -> Result<(), StoreError> {
    let n = diesel::update(
        connectors::table
            .filter(connectors::org_id.eq(row.org_id))
            .filter(connectors::id.eq(row.id)),
    )
    .set(row)
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes the connector; its tokens go with it (`ON DELETE CASCADE`).
pub fn delete(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<(), StoreError> {
    let n = diesel::delete(
        connectors::table
            .filter(connectors::org_id.eq(org))
            .filter(connectors::id.eq(id)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many resources (users, groups, declared types') `id` owns.
pub fn owned_count(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<i64, StoreError> {
    let users: i64 = scim_users::table
        .filter(scim_users::org_id.eq(org))
        .filter(scim_users::owner_connector.eq(id))
        .count()
        .get_result(conn)?;
    let groups: i64 = scim_groups::table
        .filter(scim_groups::org_id.eq(org))
        .filter(scim_groups::owner_connector.eq(id))
        .count()
        .get_result(conn)?;
    let others: i64 = scim_resources::table
        .filter(scim_resources::org_id.eq(org))
        .filter(scim_resources::owner_connector.eq(id))
        .count()
        .get_result(conn)?;
    Ok(users + groups + others)
}

/// The ids of `connector`'s tokens that are still usable (not revoked),
/// for revoking them with the connector.
pub fn token_ids(
    conn: &mut PgConnection,
    org: Uuid,
    connector: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .filter(api_tokens::connector_id.eq(connector))
        .select(api_tokens::id)
        .load(conn)?)
}

/// An organization's policies as stored.
#[derive(Debug, Clone, Queryable, PartialEq)]
pub struct OrgSettings {
    pub ownership: String,
    pub delete_mode: String,
    pub retention_days: i32,
}

pub fn settings(conn: &mut PgConnection, org: Uuid) -> Result<OrgSettings, StoreError> {
    organizations::table
        .find(org)
        .select((
            organizations::ownership,
            organizations::delete_mode,
            organizations::retention_days,
        ))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Stores the organization's policies; the caller bumps the schema
/// version in the same transaction.
pub fn set_settings(conn: &mut PgConnection, org: Uuid, s: &OrgSettings) -> Result<(), StoreError> {
    let n = diesel::update(organizations::table.find(org))
        .set((
            organizations::ownership.eq(&s.ownership),
            organizations::delete_mode.eq(&s.delete_mode),
            organizations::retention_days.eq(s.retention_days),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The owner of resource `id` in `table`: `None` when there is no such
/// resource, `Some(None)` when no connector owns it.
pub fn owner_of(
    conn: &mut PgConnection,
    org: Uuid,
    table: Table,
    type_key: Option<&str>,
    id: Uuid,
) -> Result<Option<Option<Uuid>>, StoreError> {
    Ok(match table {
        Table::Users => scim_users::table
            .filter(scim_users::org_id.eq(org))
            .filter(scim_users::id.eq(id))
            .select(scim_users::owner_connector)
            .first(conn)
            .optional()?,
        Table::Groups => scim_groups::table
            .filter(scim_groups::org_id.eq(org))
            .filter(scim_groups::id.eq(id))
            .select(scim_groups::owner_connector)
            .first(conn)
            .optional()?,
        Table::Declared => scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(type_key.unwrap_or_default()))
            .filter(scim_resources::id.eq(id))
            .select(scim_resources::owner_connector)
            .first(conn)
            .optional()?,
    })
}

/// Where resource `id` in `table` came from: (created by, owner,
/// `externalId`, whose `externalId`); `None` when there is no such resource.
pub type Provenance = (Option<Uuid>, Option<Uuid>, Option<String>, Option<Uuid>);

pub fn provenance(
    conn: &mut PgConnection,
    org: Uuid,
    table: Table,
    type_key: Option<&str>,
    id: Uuid,
) -> Result<Option<Provenance>, StoreError> {
    macro_rules! read {
        ($t:ident $(, $rt:expr)?) => {
            $t::table
                .filter($t::org_id.eq(org))
                .filter($t::id.eq(id))
                $( .filter($t::resource_type.eq($rt)) )?
                .select((
                    $t::created_by_connector,
                    $t::owner_connector,
                    $t::external_id,
                    $t::external_id_connector,
                ))
                .first(conn)
                .optional()?
        };
    }
    Ok(match table {
        Table::Users => read!(scim_users),
        Table::Groups => read!(scim_groups),
        Table::Declared => read!(scim_resources, type_key.unwrap_or_default()),
    })
}

/// Which table a transfer works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Users,
    Groups,
    /// A declared type's resources (`scim_resources`), by its folded name.
    Declared,
}

/// Gives the resources `from` owns (`None`: those no connector owns) to
/// `to`, in `table` (for `Declared`, of type `type_key`), or only `only`
/// when given. The `externalId`s `from` set go with them: the new owner
/// now answers for them. Returns how many moved.
pub fn transfer(
    conn: &mut PgConnection,
    org: Uuid,
    table: Table,
    type_key: Option<&str>,
    only: Option<Uuid>,
    from: Option<Uuid>,
    to: Option<Uuid>,
) -> Result<usize, StoreError> {
    // One macro body per table: the diesel types differ.
    macro_rules! move_rows {
        ($t:ident $(, $rt:expr)?) => {{
            let mut q = diesel::update($t::table)
                .filter($t::org_id.eq(org))
                .filter($t::owner_connector.is_not_distinct_from(from))
                .into_boxed();
            if let Some(id) = only {
                q = q.filter($t::id.eq(id));
            }
            $( q = q.filter($t::resource_type.eq($rt)); )?
            let n = q.set($t::owner_connector.eq(to)).execute(conn)?;
            if from != to {
                let mut e = diesel::update($t::table)
                    .filter($t::org_id.eq(org))
                    .filter($t::owner_connector.is_not_distinct_from(to))
                    .filter($t::external_id_connector.is_not_distinct_from(from))
                    .filter($t::external_id.is_not_null())
                    .into_boxed();
                if let Some(id) = only {
                    e = e.filter($t::id.eq(id));
                }
                $( e = e.filter($t::resource_type.eq($rt)); )?
                e.set($t::external_id_connector.eq(to)).execute(conn)?;
            }
            n
        }};
    }
    Ok(match table {
        Table::Users => move_rows!(scim_users),
        Table::Groups => move_rows!(scim_groups),
        Table::Declared => {
            let key = type_key.unwrap_or_default().to_string();
            move_rows!(scim_resources, key.clone())
        }
    })
}
