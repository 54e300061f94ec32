//! API token rows. Values are never stored: only an argon2id hash.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::api_tokens;
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
}

/// `last_used_at` is written at most this often per token, so authentication
/// does not add a write to every request.
pub const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

pub fn insert(conn: &mut PgConnection, row: &TokenRow) -> Result<(), StoreError> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut PgConnection, org: Uuid) -> Result<Vec<TokenRow>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .order((api_tokens::created_at, api_tokens::id))
        .select(TokenRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<TokenRow, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .filter(api_tokens::id.eq(id))
        .select(TokenRow::as_select())
        .first(conn)?)
}

/// The row authentication needs, by primary key, whatever its organization.
pub fn for_auth(conn: &mut PgConnection, id: Uuid) -> Result<Option<TokenRow>, StoreError> {
    Ok(api_tokens::table
        .find(id)
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes a live token. `NotFound` when it does not exist in `org` or was
/// already revoked, so a second revoke is a 404.
pub fn revoke(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenRow, StoreError> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::org_id.eq(org))
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .returning(TokenRow::as_returning())
    .get_result(conn)?)
}

/// Records a use, unless one was recorded within the granularity; the
/// condition is in the UPDATE so concurrent instances write at most once.
pub fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(
        api_tokens::table.filter(api_tokens::id.eq(id)).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.lt(now - LAST_USED_GRANULARITY)),
        ),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}
