//! Organizations (tenants): creating and listing them, and finding one by
//! the name a command is given (`scimd org …`, `--org NAME`).

use chrono::{DateTime, Utc};

use crate::store::orgs::Organization;
use crate::store::{self, PgPool, StoreError};

/// The longest organization name, in characters.
const MAX_NAME: usize = 100;

/// Why an organization operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("an organization name must be 1 to {MAX_NAME} printable characters")]
    InvalidName,
    #[error("an organization named {0:?} already exists")]
    Exists(String),
    #[error("no organization named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an organization named `name` (trimmed). Names are unique
/// case-insensitively.
pub async fn create(
    pool: &PgPool,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Organization, OrgError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(OrgError::InvalidName);
    }
    let wanted = name.clone();
    store::run(pool, move |conn| store::orgs::create(conn, &wanted, now))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => OrgError::Exists(name),
            other => other.into(),
        })
}

/// Every organization, oldest first.
pub async fn list(pool: &PgPool) -> Result<Vec<Organization>, StoreError> {
    store::read(pool, store::orgs::list).await
}

/// The organization named `name`, compared case-insensitively.
pub async fn by_name(pool: &PgPool, name: &str) -> Result<Organization, OrgError> {
    let wanted = name.to_string();
    store::read(pool, move |conn| store::orgs::by_name(conn, &wanted))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => OrgError::NotFound(name.to_string()),
            other => other.into(),
        })
}
