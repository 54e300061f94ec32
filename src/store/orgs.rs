//! Organizations (tenants).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::organizations;
use super::StoreError;

/// The `default` organization, created by the first migration.
pub const DEFAULT_ORG_ID: Uuid = Uuid::from_u128(1);
pub const DEFAULT_ORG_NAME: &str = "default";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

pub fn create(
    conn: &mut PgConnection,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Organization, StoreError> {
    let org = Organization {
        id: Uuid::new_v4(),
        name: name.to_string(),
        created_at: now,
    };
    diesel::insert_into(organizations::table)
        .values(&org)
        .execute(conn)?;
    Ok(org)
}

pub fn get(conn: &mut PgConnection, id: Uuid) -> Result<Organization, StoreError> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<Organization>, StoreError> {
    Ok(organizations::table
        .order((organizations::created_at, organizations::id))
        .select(Organization::as_select())
        .load(conn)?)
}

/// Looks an organization up by name, case-insensitively (names are unique
/// that way).
pub fn by_name(conn: &mut PgConnection, name: &str) -> Result<Organization, StoreError> {
    let all = list(conn)?;
    all.into_iter()
        .find(|o| o.name.to_lowercase() == name.to_lowercase())
        .ok_or(StoreError::NotFound)
}
