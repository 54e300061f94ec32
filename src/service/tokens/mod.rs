//! Token administration: the operations behind both the admin API
//! (`/api/v1/tokens`) and the `scimd token` commands, composed once here so
//! the two cannot drift apart. Each write runs in one transaction with its
//! audit entry; values are shown once, on creation and rotation, and only
//! their digests are stored (see `auth::secret`).

mod request;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldError, Requester};
use crate::auth::scope::Scope;
use crate::auth::{secret, token};
use crate::store::tokens::TokenRow;
use crate::store::{self, audit, PgConnection, PgPool, StoreError, TxRetries};

pub(crate) use request::check_rate;
pub use request::{CreateTokenRequest, NewToken, RateLimitRequest};

/// What the API and CLI show of a token: never the value or its hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
    /// Where it was last used from (the client address).
    pub last_used_from: Option<String>,
    pub expired: bool,
    /// Expires within [`EXPIRES_SOON`].
    pub expires_soon: bool,
    /// The connector the token belongs to; left out for a token with none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<Uuid>,
    /// The token's own rate limit; left out when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<crate::scim::policy::RateLimit>,
}

/// How far ahead an expiry is flagged as `expires_soon`.
pub const EXPIRES_SOON: chrono::Duration = chrono::Duration::days(7);

impl TokenView {
    pub fn new(r: TokenRow, now: DateTime<Utc>) -> Self {
        let expired = r.expires_at.is_some_and(|e| e <= now);
        TokenView {
            expired,
            expires_soon: !expired && r.expires_at.is_some_and(|e| e <= now + EXPIRES_SOON),
            connector_id: r.connector_id,
            rate_limit: crate::scim::policy::RateLimit::from_columns(
                r.rate_per_second,
                r.rate_burst,
            ),
            last_used_from: r.last_used_from,
            id: r.id,
            name: r.name,
            // A legacy scope-less row is shown as what it grants.
            scopes: if r.scopes.is_empty() {
                vec![Scope::All.as_str().to_string()]
            } else {
                r.scopes
            },
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            created_by: r.created_by,
        }
    }
}

/// A newly created token: the only time its value is shown.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    pub token: String,
}

/// Why a token operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The request named bad fields; nothing was stored.
    #[error("{}", FieldError::summary(.0))]
    Invalid(Vec<FieldError>),
    /// No such token in the requester's organization (for a revoke: no
    /// such active token).
    #[error("no such token")]
    NotFound,
    #[error("a revoked or expired token cannot be rotated")]
    NotRotatable,
    #[error("this organization already has {active} active tokens (the limit is {max}); revoke one first (DELETE /api/v1/tokens/{{id}} or `scimd token revoke ID`) or raise SCIMD_MAX_TOKENS_PER_ORG")]
    Limit { active: i64, max: i64 },
    #[error("cannot make a token: {0}")]
    Crypto(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a token in the requester's organization, unless it already
/// holds `max_active` active ones, and audits it. The caller shows the
/// value once.
pub async fn create(
    pool: &PgPool,
    retries: &Arc<TxRetries>,
    by: &Requester,
    request: CreateTokenRequest,
    max_active: i64,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    let new = request.check(now).map_err(TokenError::Invalid)?;
    let (row, created) = mint(by.org_id(), new, &by.created_by, now)?;
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        // Counted under a lock on the organization, so concurrent creates
        // cannot both pass the limit.
        let active = store::tokens::count_active_locked(conn, actor.org_id, now)?;
        if active >= max_active {
            // Nothing was written: committing is as good as rolling back.
            return Ok(Err(TokenError::Limit {
                active,
                max: max_active,
            }));
        }
        store::tokens::insert(conn, &row)?;
        let id = row.id.to_string();
        audit::record(conn, &actor, "token.create", "Token", &id, 201, now)?;
        Ok(Ok(()))
    })
    .await??;
    Ok(created)
}

/// The tokens of an organization, oldest first.
pub async fn list(
    pool: &PgPool,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<TokenView>, StoreError> {
    let rows = store::read(pool, move |conn| store::tokens::list(conn, org)).await?;
    Ok(rows.into_iter().map(|r| TokenView::new(r, now)).collect())
}

pub async fn get(
    pool: &PgPool,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenView, TokenError> {
    let row = store::read(pool, move |conn| store::tokens::get(conn, org, id))
        .await
        .map_err(not_found)?;
    Ok(TokenView::new(row, now))
}

/// The most grace a rotation may give the old value.
pub const MAX_GRACE: chrono::Duration = chrono::Duration::hours(24);

/// Issues a new value for a live token of the requester's organization
/// (same id, name, scopes, expiry) and audits it; the old value keeps
/// working for `grace`. The caller shows the value once.
pub async fn rotate(
    pool: &PgPool,
    retries: &Arc<TxRetries>,
    by: &Requester,
    id: Uuid,
    grace: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    let value = token::generate(id).map_err(|e| TokenError::Crypto(e.to_string()))?;
    let secret_hash = secret::stored_form(value.expose());
    let actor = by.actor.clone();
    let row = store::in_tx(pool, retries, move |conn| {
        let row = store::tokens::rotate(conn, actor.org_id, id, &secret_hash, now + grace, now)?;
        audit::record(
            conn,
            &actor,
            "token.rotate",
            "Token",
            &id.to_string(),
            200,
            now,
        )?;
        Ok(row)
    })
    .await
    .map_err(|e| match e {
        StoreError::Revoked => TokenError::NotRotatable,
        other => not_found(other),
    })?;
    Ok(CreatedToken {
        view: TokenView::new(row, now),
        token: value.expose().to_string(),
    })
}

/// Revokes a token of the requester's organization and audits it; it fails
/// from the next request on, on every instance. `NotFound` when there is no
/// such active token, so a second revoke is refused.
pub async fn revoke(
    pool: &PgPool,
    retries: &Arc<TxRetries>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        store::tokens::revoke(conn, actor.org_id, id, now)?;
        audit::record(
            conn,
            &actor,
            "token.revoke",
            "Token",
            &id.to_string(),
            204,
            now,
        )
    })
    .await
    .map_err(not_found)
}

/// Mints a token straight into the database: no limit, no audit entry, the
/// caller's transaction if any. For seeding a database (the tests and
/// benchmarks); everything else calls [`create`].
pub fn issue(
    conn: &mut PgConnection,
    org: Uuid,
    new: NewToken,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    let (row, created) = mint(org, new, created_by, now)?;
    store::tokens::insert(conn, &row)?;
    Ok(created)
}

/// [`issue`] within the organization's limit of active tokens, audited by
/// the caller: for tokens minted with something else (a connector). Call
/// inside a transaction; `Ok(Err(_))` when the limit is reached.
pub fn issue_limited(
    conn: &mut PgConnection,
    org: Uuid,
    new: NewToken,
    created_by: &str,
    max_active: i64,
    now: DateTime<Utc>,
) -> Result<Result<CreatedToken, TokenError>, StoreError> {
    let active = store::tokens::count_active_locked(conn, org, now)?;
    if active >= max_active {
        return Ok(Err(TokenError::Limit {
            active,
            max: max_active,
        }));
    }
    match mint(org, new, created_by, now) {
        Ok((row, created)) => {
            store::tokens::insert(conn, &row)?;
            Ok(Ok(created))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// A new token's row (holding the value's digest) and what is shown of it.
fn mint(
    org: Uuid,
    new: NewToken,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<(TokenRow, CreatedToken), TokenError> {
    let id = Uuid::new_v4();
    let value = token::generate(id).map_err(|e| TokenError::Crypto(e.to_string()))?;
    let row = TokenRow {
        id,
        org_id: org,
        name: new.name,
        scopes: new.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        secret_hash: secret::stored_form(value.expose()),
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
        revoked_at: None,
        created_by: created_by.to_string(),
        previous_secret_hash: None,
        previous_valid_until: None,
        last_used_from: None,
        connector_id: new.connector,
        rate_per_second: new.rate.map(|r| r.0),
        rate_burst: new.rate.map(|r| r.1),
    };
    let created = CreatedToken {
        view: TokenView::new(row.clone(), now),
        token: value.expose().to_string(),
    };
    Ok((row, created))
}

/// A missing row names no token of the requester's organization.
fn not_found(e: StoreError) -> TokenError {
    match e {
        StoreError::NotFound => TokenError::NotFound,
        other => other.into(),
    }
}
