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

use std::collections::HashMap;
use std::sync::Mutex;

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
    /// The connector the token belongs to; `None` for a token without one
    /// and for `AUTH_SECRET`.
    pub connector: Option<Uuid>,
    /// A token's own rate limit (a connector's is in its policy).
    pub rate_limit: Option<crate::scim::policy::RateLimit>,
    /// The request this caller makes (set per request by the HTTP layer).
    pub request_id: Option<String>,
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
            connector: self.connector,
            request_id: self.request_id.clone(),
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
    /// The caller's connector (or token) is over its rate limit; a request
    /// would pass again in `retry_after` seconds.
    #[error("rate limit exceeded; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
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
    known: Known,
}

/// A caller whose value matched the token row this process last read for
/// it. What the row says about who the token is (its organization, name
/// and scopes) never changes, so the request can be planned on it; whether
/// the token is still live (not revoked, not expired, not rotated past its
/// grace) is checked by [`Authenticator::settle`] on the request's own
/// connection before anything is read or written for it.
#[derive(Debug, Clone)]
pub struct Pending {
    id: Uuid,
    presented: [u8; 32],
    client: Option<String>,
    now: DateTime<Utc>,
}

impl Pending {
    /// This check, to carry inside the request's own statement.
    pub fn probe(&self) -> store::tokens::Probe {
        store::tokens::Probe {
            id: self.id,
            stored: secret::stored_form_of(&self.presented),
            now: self.now,
            schema_version: None,
        }
    }
}

/// The caller, and the check still owed when it was accepted on the row
/// this process had read before.
#[derive(Debug)]
pub struct Authenticated {
    pub principal: Principal,
    pub pending: Option<Pending>,
    /// The organization's schema version, when the token row was read for
    /// this request (it comes in the same statement).
    pub schema_version: Option<i64>,
}

/// The token rows this process has accepted a value against, by id. Only a
/// value that matched the row's digest gets a request past the header, so
/// this never lets an unauthenticated caller cost more than the hash;
/// bounded, and emptied when full, since a row missing here only costs the
/// primary-key read it saves.
#[derive(Debug, Default)]
struct Known(Mutex<HashMap<Uuid, TokenRow>>);

/// How many token rows [`Known`] keeps.
const KNOWN_TOKENS: usize = 10_000;

impl Known {
    fn get(&self, id: Uuid) -> Option<TokenRow> {
        self.0.lock().ok()?.get(&id).cloned()
    }

    fn remember(&self, row: TokenRow) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= KNOWN_TOKENS && !m.contains_key(&row.id) {
                m.clear();
            }
            m.insert(row.id, row);
        }
    }

    fn forget(&self, id: Uuid) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&id);
        }
    }
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
            known: Known::default(),
        }
    }

    /// argon2 verifications of legacy token hashes this process has run.
    pub fn legacy_verifications(&self) -> usize {
        self.legacy.runs()
    }

    /// Checks the `Authorization` header value and the scope the route needs.
    /// With `defer`, a value that matches the row this process read before
    /// is accepted on it, and the read that shows whether the token is still
    /// live is left to the caller ([`Self::settle`], on the connection its
    /// work runs on: one check-out and one blocking hop per request instead
    /// of two); without, the row is read now, on a connection of its own.
    pub async fn authenticate(
        &self,
        pool: &PgPool,
        header: Option<&[u8]>,
        client: Option<String>,
        access: Access,
        now: DateTime<Utc>,
        defer: bool,
    ) -> Result<Authenticated, AuthError> {
        let a = self.identify(pool, header, client, now, defer).await?;
        if a.principal.scopes.grants_any(access.accepted()) {
            Ok(a)
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
        defer: bool,
    ) -> Result<Authenticated, AuthError> {
        let value = bearer_value(header)?;
        let presented = secret::digest(value);
        if let Some(expected) = &self.auth_secret {
            if bool::from(presented.ct_eq(expected)) {
                return Ok(Authenticated {
                    principal: Principal {
                        org_id: DEFAULT_ORG_ID,
                        token_id: None,
                        token_name: None,
                        scopes: ScopeSet::all(),
                        connector: None,
                        rate_limit: None,
                        request_id: None,
                    },
                    pending: None,
                    schema_version: None,
                });
            }
        }
        let (id, value) =
            token::parse(value).map_err(|_| AuthError::Unauthorized(Failure::Malformed))?;
        if self.refused.contains(id, &presented) {
            return Err(self.refuse(id, presented, Failure::BadSecret, now));
        }
        if defer {
            // Only a full match on the known row defers; anything else (a
            // rotated value, say) reads the row now.
            if let Some(Step::Accepted(principal, _)) = self
                .known
                .get(id)
                .map(|row| first_check(row, &presented, now))
            {
                let pending = Pending {
                    id,
                    presented,
                    client,
                    now,
                };
                return Ok(Authenticated {
                    principal,
                    pending: Some(pending),
                    schema_version: None,
                });
            }
        }
        // One primary-key read, the digest comparison, and (at most once a
        // minute) the last-use write, on one connection.
        let from = client.clone();
        let (step, row, version) = store::read(pool, move |conn| {
            let Some((row, version)) = store::tokens::for_auth(conn, id)? else {
                return Ok((Step::Refused(Failure::Unknown), None, None));
            };
            let kept = row.clone();
            let step = first_check(row, &presented, now);
            if let Step::Accepted(_, true) = step {
                store::tokens::touch(conn, id, from.as_deref(), now)?;
            }
            Ok((step, Some(kept), Some(version)))
        })
        .await?;
        match (step, row) {
            (Step::Accepted(principal, _), row) => {
                if let Some(row) = row {
                    self.known.remember(row);
                }
                Ok(Authenticated {
                    principal,
                    pending: None,
                    schema_version: version,
                })
            }
            (Step::Refused(f), _) => {
                self.known.forget(id);
                Err(self.refuse(id, presented, f, now))
            }
            (Step::Legacy(row), _) => {
                let principal = self.upgrade_legacy(pool, row, &value, client, now).await?;
                Ok(Authenticated {
                    principal,
                    pending: None,
                    schema_version: version,
                })
            }
        }
    }

    /// [`Self::settle`], given what the request's statement found when it
    /// carried the check ([`Pending::probe`]): a live token costs nothing
    /// more (but the last-use write when due); anything else is read in
    /// full, which also says why it is refused. `Ok(Some(v))`: the token
    /// was read in full, and its organization's schema version is `v`.
    pub fn settle_probed(
        &self,
        conn: &mut store::Conn,
        p: &Pending,
        probed: store::tokens::Probed,
    ) -> Result<Result<Option<i64>, Failure>, StoreError> {
        match probed {
            store::tokens::Probed::Live { stale } => {
                if stale {
                    store::tokens::touch(conn, p.id, p.client.as_deref(), p.now)?;
                }
                Ok(Ok(None))
            }
            store::tokens::Probed::Skipped | store::tokens::Probed::NotLive => {
                Ok(self.settle(conn, p)?.map(Some))
            }
        }
    }

    /// The check a deferred acceptance still owes: reads the token's row on
    /// `conn` and says whether the value is still good for it (`Err` is the
    /// refusal, as for any request) and, when it is, the organization's
    /// schema version read with it. Records the use at most once a minute,
    /// as the first check does.
    pub fn settle(
        &self,
        conn: &mut store::Conn,
        p: &Pending,
    ) -> Result<Result<i64, Failure>, StoreError> {
        let Some((row, version)) = store::tokens::for_auth(conn, p.id)? else {
            self.known.forget(p.id);
            return Ok(Err(Failure::Unknown));
        };
        match first_check(row, &p.presented, p.now) {
            Step::Accepted(_, stale) => {
                if stale {
                    store::tokens::touch(conn, p.id, p.client.as_deref(), p.now)?;
                }
                Ok(Ok(version))
            }
            Step::Refused(f) => {
                self.known.forget(p.id);
                let _ = self.refuse(p.id, p.presented, f, p.now);
                Ok(Err(f))
            }
            // A row that matched a digest never goes back to a legacy hash;
            // refused without argon2, the next request checks it in full.
            Step::Legacy(_) => {
                self.known.forget(p.id);
                Ok(Err(Failure::BadSecret))
            }
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
            connector: row.connector_id,
            rate_limit: crate::scim::policy::RateLimit::from_columns(
                row.rate_per_second,
                row.rate_burst,
            ),
            request_id: None,
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
