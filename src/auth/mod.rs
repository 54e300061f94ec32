//! Authentication (who is calling) and authorization (may they do this).
//!
//! A credential is either an API token (see [`token`]) or the configured
//! `AUTH_SECRET`. Every request reads the token's row by primary key, so a
//! revocation or expiry is seen on the next request by every instance. The
//! row holds a SHA-256 digest of the value ([`secret`]), so checking it costs
//! a fast hash whatever the caller sends; tokens from before that change are
//! verified with argon2 once ([`legacy`]) and then stored as digests.

pub mod failures;
pub mod hash;
pub mod legacy;
pub mod scope;
pub mod secret;
pub mod token;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::config::Secret;
use crate::store::tokens::{Slot, TokenRow};
use crate::store::{self, orgs::DEFAULT_ORG_ID, PgPool, StoreError};
use failures::{FailureLog, RefusedValues};
use legacy::{LegacyVerifier, Outcome};
use scope::{Access, ScopeSet};
use secret::Check;

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
    /// Too many legacy-hash verifications are waiting; retry shortly.
    #[error("too many credential checks are waiting")]
    Busy,
    #[error("cannot check the credential: {0}")]
    Store(#[from] StoreError),
}

/// Everything authentication needs, shared by all workers.
#[derive(Debug)]
pub struct Authenticator {
    auth_secret: Option<[u8; 32]>,
    legacy: LegacyVerifier,
    failures: FailureLog,
    refused: RefusedValues,
}

/// What the token row says, before any slow work.
enum Step {
    /// The principal, and whether `last_used_at` is stale enough to write.
    Accepted(Principal, bool),
    Refused(Failure),
    /// Only argon2 can tell: the row holds a legacy hash.
    Legacy(TokenRow),
}

impl Authenticator {
    pub fn new(auth_secret: Option<&Secret>) -> Self {
        Authenticator {
            // Comparing digests makes the comparison constant-time whatever
            // the lengths, and keeps the secret itself out of this struct.
            auth_secret: auth_secret.map(|s| secret::digest(s.expose())),
            legacy: LegacyVerifier::default(),
            failures: FailureLog::default(),
            refused: RefusedValues::default(),
        }
    }

    /// argon2 verifications of legacy token hashes this process has run.
    pub fn legacy_verifications(&self) -> usize {
        self.legacy.runs()
    }

    /// Checks the `Authorization` header value and the scope the route needs.
    pub async fn authenticate(
        &self,
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
        &self,
        pool: &PgPool,
        header: Option<&[u8]>,
        client: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        let value = bearer_value(header)?;
        let presented = secret::digest(value);
        if let Some(expected) = &self.auth_secret {
            if bool::from(presented.ct_eq(expected)) {
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
        if self.refused.contains(id, &presented) {
            return Err(self.refuse(id, presented, Failure::BadSecret, now));
        }
        // One primary-key read, the digest comparison, and (at most once a
        // minute) the last-use write, on one connection.
        let from = client.clone();
        let step = store::read(pool, move |conn| {
            let Some(row) = store::tokens::for_auth(conn, id)? else {
                return Ok(Step::Refused(Failure::Unknown));
            };
            let step = first_check(row, &presented, now);
            if let Step::Accepted(_, true) = step {
                store::tokens::touch(conn, id, from.as_deref(), now)?;
            }
            Ok(step)
        })
        .await?;
        match step {
            Step::Accepted(p, _) => Ok(p),
            Step::Refused(f) => Err(self.refuse(id, presented, f, now)),
            Step::Legacy(row) => self.upgrade_legacy(pool, row, &value, client, now).await,
        }
    }

    /// Verifies a value against a legacy argon2 hash (serialised, each value
    /// once) and, when it matches, stores the digest in its place.
    async fn upgrade_legacy(
        &self,
        pool: &PgPool,
        row: TokenRow,
        value: &token::TokenValue,
        client: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        let mut matched = None;
        for (which, phc) in live_secrets(&row, now) {
            if !secret::is_legacy(phc) {
                continue;
            }
            match self.legacy.verify(row.id, value.expose(), phc).await {
                Outcome::Verified => {
                    matched = Some((which, phc.to_string()));
                    break;
                }
                Outcome::Refused => {}
                Outcome::Busy => return Err(AuthError::Busy),
            }
        }
        let Some((which, old)) = matched else {
            let presented = secret::digest(value.expose());
            return Err(self.refuse(row.id, presented, Failure::BadSecret, now));
        };
        let (principal, _) = live(row, now).map_err(AuthError::Unauthorized)?;
        let new = secret::stored_form(value.expose());
        let id = principal.token_id;
        store::read(pool, move |conn| {
            if let Some(id) = id {
                store::tokens::upgrade_secret(conn, id, which, &old, &new)?;
                store::tokens::touch(conn, id, client.as_deref(), now)?;
            }
            Ok(())
        })
        .await?;
        Ok(principal)
    }

    fn refuse(&self, id: Uuid, presented: [u8; 32], f: Failure, now: DateTime<Utc>) -> AuthError {
        if f == Failure::BadSecret {
            self.refused.insert(id, presented);
            if let Some(warning) = self.failures.note(id, now) {
                log::warn!("{warning}");
            }
        }
        AuthError::Unauthorized(f)
    }
}

/// The stored secrets a value may match now: the current one and, during a
/// rotation's grace period, the previous one.
fn live_secrets(row: &TokenRow, now: DateTime<Utc>) -> Vec<(Slot, &str)> {
    let mut out = vec![(Slot::Current, row.secret_hash.as_str())];
    if let Some(prev) = row
        .previous_secret_hash
        .as_deref()
        .filter(|_| row.previous_valid_until.is_some_and(|u| u > now))
    {
        out.push((Slot::Previous, prev));
    }
    out
}

/// Everything that can be decided from the row and the value's digest.
fn first_check(row: TokenRow, presented: &[u8; 32], now: DateTime<Utc>) -> Step {
    let checks: Vec<Check> = live_secrets(&row, now)
        .into_iter()
        .map(|(_, stored)| secret::check(presented, stored))
        .collect();
    if checks.contains(&Check::Match) {
        return match live(row, now) {
            Ok((p, stale)) => Step::Accepted(p, stale),
            Err(f) => Step::Refused(f),
        };
    }
    if !checks.contains(&Check::Legacy) {
        return Step::Refused(Failure::BadSecret);
    }
    // No argon2 for a credential that could not succeed anyway.
    if row.revoked_at.is_some() {
        return Step::Refused(Failure::Revoked);
    }
    if row.expires_at.is_some_and(|e| e <= now) {
        return Step::Refused(Failure::Expired);
    }
    Step::Legacy(row)
}

/// The principal of a token whose secret matched, unless it is revoked or
/// expired, and whether its `last_used_at` is stale enough to be written.
fn live(row: TokenRow, now: DateTime<Utc>) -> Result<(Principal, bool), Failure> {
    if row.revoked_at.is_some() {
        return Err(Failure::Revoked);
    }
    if row.expires_at.is_some_and(|e| e <= now) {
        return Err(Failure::Expired);
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
