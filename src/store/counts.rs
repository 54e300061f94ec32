//! How many users and groups each organization holds, as kept by the
//! triggers of migration 6 (`resource_counts`): exact, transactional, and
//! read from at most 16 rows however large the directory.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::resource_counts;

/// The number of `resource_type` (`"User"` or `"Group"`) resources in `org`,
/// as of the caller's snapshot.
pub fn stored(conn: &mut PgConnection, org: Uuid, resource_type: &str) -> QueryResult<i64> {
    // Summed here rather than with SQL sum(), which PostgreSQL types as
    // numeric for bigint input.
    let slots: Vec<i64> = resource_counts::table
        .filter(resource_counts::org_id.eq(org))
        .filter(resource_counts::resource_type.eq(resource_type))
        .select(resource_counts::n)
        .load(conn)?;
    Ok(slots.iter().sum())
}
