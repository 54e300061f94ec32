//! Authentication (who is calling) and authorization (may they do this).
//!
//! A credential is either an API token (see [`token`]) or the configured
//! `AUTH_SECRET`. Every request reads the token's row by primary key, so a
//! revocation or expiry is seen on the next request by every instance; the
//! argon2 check itself runs once per token per process ([`cache`]).

pub mod cache;
pub mod extract;
pub mod hash;
pub mod scope;
pub mod token;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::config::Secret;
use crate::store::{self, orgs::DEFAULT_ORG_ID, PgPool, StoreError};
use cache::VerifiedCache;
use scope::{Access, ScopeSet};

/// The caller, after authentication. Every store call takes its `org_id`.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: Uuid,
    /// `None` for `AUTH_SECRET`.
    pub token_id: Option<Uuid>,
    pub token_name: Option<String>,
    pub scopes: ScopeSet,
}

impl Principal {
    /// This caller as the audit log records it.
    pub fn audit_actor(&self) -> crate::store::audit::Actor {
        crate::store::audit::Actor {
            org_id: self.org_id,
            token_id: self.token_id,
            name: self
                .token_name
                .clone()
                .unwrap_or_else(|| "AUTH_SECRET".to_string()),
        }
    }

    /// How this caller is recorded in `created_by`.
    pub fn actor(&self) -> String {
        match (&self.token_id, &self.token_name) {
            (Some(id), Some(name)) => format!("token:{id} ({name})"),
            (Some(id), None) => format!("token:{id}"),
            _ => "AUTH_SECRET".to_string(),
        }
    }
}

/// Why a credential was refused. All of these are a 401; the reason is for
/// logs and metrics, never for the client (which learns only "invalid").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Missing,
    Scheme,
    Malformed,
    Unknown,
    BadSecret,
    Expired,
    Revoked,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Missing => "missing",
            Failure::Scheme => "scheme",
            Failure::Malformed => "malformed",
            Failure::Unknown => "unknown",
            Failure::BadSecret => "bad_secret",
            Failure::Expired => "expired",
            Failure::Revoked => "revoked",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication failed ({})", .0.as_str())]
    Unauthorized(Failure),
    #[error("this credential lacks the scope {}", .0.describe())]
    Forbidden(Access),
    #[error("cannot check the credential: {0}")]
    Store(#[from] StoreError),
}

/// Everything authentication needs, shared by all workers.
#[derive(Debug)]
pub struct Authenticator {
    auth_secret: Option<[u8; 32]>,
    cache: VerifiedCache,
}

impl Authenticator {
    pub fn new(auth_secret: Option<&Secret>) -> Self {
        Authenticator {
            // Comparing digests makes the comparison constant-time whatever
            // the lengths, and keeps the secret itself out of this struct.
            auth_secret: auth_secret.map(|s| cache::digest(s.expose())),
            cache: VerifiedCache::default(),
        }
    }

    /// Checks the `Authorization` header value and the scope the route needs.
    pub async fn authenticate(
        self: &Arc<Self>,
        pool: &PgPool,
        header: Option<&[u8]>,
        client: Option<String>,
        access: Access,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        let principal = self.identify(pool, header, client, now).await?;
        if principal.scopes.grants_any(access.accepted()) {
            Ok(principal)
        } else {
            Err(AuthError::Forbidden(access))
        }
    }

    async fn identify(
        self: &Arc<Self>,
        pool: &PgPool,
        header: Option<&[u8]>,
        client: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        let value = bearer_value(header)?;
        if let Some(expected) = &self.auth_secret {
            if bool::from(cache::digest(value).ct_eq(expected)) {
                return Ok(Principal {
                    org_id: DEFAULT_ORG_ID,
                    token_id: None,
                    token_name: None,
                    scopes: ScopeSet::all(),
                });
            }
        }
        let (id, value) =
            token::parse(value).map_err(|_| AuthError::Unauthorized(Failure::Malformed))?;
        let me = Arc::clone(self);
        store::run(pool, move |conn| {
            let row = store::tokens::for_auth(conn, id)?;
            let checked = check_row(row, &me.cache, &value, now);
            if let Ok(p) = &checked {
                if p.1 {
                    store::tokens::touch(conn, id, client.as_deref(), now)?;
                }
            }
            Ok(checked.map(|(p, _)| p))
        })
        .await?
    }
}

/// Validates a token row against the presented value. Returns the principal
/// and whether `last_used_at` is stale enough to be written.
fn check_row(
    row: Option<store::tokens::TokenRow>,
    cache: &VerifiedCache,
    value: &token::TokenValue,
    now: DateTime<Utc>,
) -> Result<(Principal, bool), AuthError> {
    let row = row.ok_or(AuthError::Unauthorized(Failure::Unknown))?;
    // The current value, or, during a rotation's grace period, the previous.
    let previous = row
        .previous_secret_hash
        .as_deref()
        .filter(|_| row.previous_valid_until.is_some_and(|u| u > now));
    let matches = |h: &str| {
        if cache.is_verified(row.id, value.expose(), h) {
            return true;
        }
        let ok = hash::verify(value.expose(), h);
        if ok {
            cache.remember(row.id, value.expose(), h);
        }
        ok
    };
    if !matches(&row.secret_hash) && !previous.is_some_and(matches) {
        return Err(AuthError::Unauthorized(Failure::BadSecret));
    }
    if row.revoked_at.is_some() {
        return Err(AuthError::Unauthorized(Failure::Revoked));
    }
    if row.expires_at.is_some_and(|e| e <= now) {
        return Err(AuthError::Unauthorized(Failure::Expired));
    }
    let stale = row
        .last_used_at
        .is_none_or(|t| t < now - store::tokens::LAST_USED_GRANULARITY);
    Ok((
        Principal {
            org_id: row.org_id,
            token_id: Some(row.id),
            token_name: Some(row.name),
            scopes: ScopeSet::from_stored(&row.scopes),
        },
        stale,
    ))
}

/// Extracts the credential from `Bearer <value>`. The scheme is matched
/// case-insensitively (RFC 7235 §2.1); anything else is a 401.
fn bearer_value(header: Option<&[u8]>) -> Result<&str, AuthError> {
    let raw = header.ok_or(AuthError::Unauthorized(Failure::Missing))?;
    let text = std::str::from_utf8(raw).map_err(|_| AuthError::Unauthorized(Failure::Malformed))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(AuthError::Unauthorized(Failure::Missing));
    }
    let (scheme, rest) = text
        .split_once(' ')
        .ok_or(AuthError::Unauthorized(Failure::Scheme))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Unauthorized(Failure::Scheme));
    }
    let value = rest.trim();
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(AuthError::Unauthorized(Failure::Malformed));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(h: &[u8]) -> Failure {
        match bearer_value(Some(h)) {
            Err(AuthError::Unauthorized(f)) => f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn header_shapes() {
        assert_eq!(bearer_value(Some(b"Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer_value(Some(b"bearer abc")).unwrap(), "abc");
        assert_eq!(failure(b""), Failure::Missing);
        assert_eq!(failure(b"Bearer"), Failure::Scheme);
        assert_eq!(failure(b"Bearer "), Failure::Scheme);
        assert_eq!(failure(b"Basic dXNlcjpwYXNz"), Failure::Scheme);
        assert_eq!(failure(b"Bearer a b"), Failure::Malformed);
        assert_eq!(failure(b"Bearer \xff\xfe"), Failure::Malformed);
        assert!(matches!(
            bearer_value(None),
            Err(AuthError::Unauthorized(Failure::Missing))
        ));
    }
}
