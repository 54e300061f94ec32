//! The application layer: one module per capability. Each operation owns
//! its transaction, calls the pure engines in `scim`, writes the audit
//! entry and returns typed results. It knows nothing of HTTP (`http` parses
//! and renders around one call here) and reaches PostgreSQL only through
//! `store`.
//!
//! Operations are async, like `store::run`: the server awaits them on its
//! workers, and a `scimd` command drives them to completion on its thread.

pub mod audit;
pub mod bulk;
pub mod connectors;
pub mod custom;
pub mod deleted;
pub mod events;
pub mod gate;
pub mod me;
mod members;
pub mod orgs;
pub mod ownership;
pub mod password;
pub mod query;
pub mod rates;
pub mod request_log;
pub mod resources;
pub mod schemas;
pub mod search;
pub mod secretbox;
pub mod tokens;

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::auth::Principal;
use crate::scim::error::ScimError;
use crate::state::AppState;
use crate::store::{self, StoreError};

/// The cursor of a page listed newest first by `(time, id)` (the request
/// log, soft-deleted resources): the last row's key, opaque to clients.
pub mod keyset {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
        format!("{}_{id}", at.timestamp_micros())
    }

    /// `None` for text no [`encode`] made.
    pub fn decode(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
        let (micros, id) = text.split_once('_')?;
        let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
        Some((at, Uuid::parse_str(id).ok()?))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trips_and_refuses_others() {
            let (at, id) = (chrono::DateTime::UNIX_EPOCH, uuid::Uuid::from_u128(7));
            assert_eq!(super::decode(&super::encode(at, id)), Some((at, id)));
            for bad in ["", "x", "1_", "_x", "12_not-a-uuid"] {
                assert_eq!(super::decode(bad), None, "{bad}");
            }
        }
    }
}

/// What every operation runs with: the shared state, the SCIM base URL its
/// representations point at, and the request's id for the log.
#[derive(Clone)]
pub struct Ctx {
    pub state: Arc<AppState>,
    /// e.g. `https://scim.example.com/scim/v2`, for `meta.location` and `$ref`.
    pub base: String,
    /// The request's id, for the 5xx details Bulk reports per operation.
    pub request_id: String,
    /// The token check this request still owes, made by the first of the
    /// calls below on its connection. Operations reach the store only
    /// through them.
    pub gate: gate::Gate,
    /// The caller's organization's schemas, set once the credential is
    /// known (`schemas::for_request`); the built-in ones until then.
    pub schemas: schemas::Slot,
}

/// Runs `f` on `conn` once the gate lets the request through: `Ok(Err(()))`
/// when it refused the token (then `f` never ran).
fn gated<T>(
    gate: &gate::Gate,
    auth: &crate::auth::Authenticator,
    conn: &mut store::Conn,
    f: impl FnOnce(&mut store::Conn) -> std::result::Result<T, StoreError>,
) -> std::result::Result<std::result::Result<T, ()>, StoreError> {
    match gate.pass(auth, conn)? {
        Ok(()) => f(conn).map(Ok),
        Err(_) => Ok(Err(())),
    }
}

/// The answer to a request whose token the gate found no longer good; the
/// HTTP layer answers it as any refused credential.
fn refused_by_gate() -> Error {
    Error::Refused(ScimError::new(
        401,
        None,
        "missing, invalid, expired or revoked credential",
    ))
}

impl Ctx {
    /// The connector the request's token belongs to (`None`: a token
    /// without one, `AUTH_SECRET`): what it sees of `externalId` and
    /// whose ownership its writes are checked against.
    pub fn caller(&self) -> Option<Uuid> {
        self.schemas.caller()
    }

    /// The registry this request is served with: its organization's.
    pub fn registry(&self) -> Arc<crate::scim::schema::Registry> {
        self.schemas
            .get()
            .unwrap_or_else(|| self.state.registries.base())
    }

    /// The compatibility profile this request is served with: its
    /// connector's (read with the registry, so a change is served from the
    /// next request everywhere), or `lenient`, what scimd did before
    /// profiles existed, for a token without one.
    pub fn profile(&self) -> crate::scim::profile::Profile {
        self.registry().policy().profile_of(self.caller())
    }

    /// When the request's first statement found its organization's schemas
    /// changed since the registry it was given was built (on another
    /// instance, or by a request racing this one), nothing was read or
    /// written with it: this gives the request the current registry and
    /// says it should start over. `false` when it need not (or cannot).
    pub fn restart(&self) -> bool {
        match self.gate.restart() {
            Some(reg) => {
                self.schemas.set(reg);
                true
            }
            None => false,
        }
    }

    /// Makes the check the request still owes now, when its work ended
    /// without reaching the store (a client error found against the cached
    /// registry): the one round trip the answer would cost anyway, made
    /// here so that a registry found stale can still be [`Self::restart`]ed.
    /// A refusal is left in the gate for the HTTP layer to answer. With
    /// only the registry's version owed (`AUTH_SECRET`) it is confirmed
    /// only on an idle connection, so a client error is not turned into a
    /// wait while the database is busy or away.
    pub async fn settle_now(&self) {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        if self.gate.is_pending() {
            let _settled = store::read(&self.state.pool, move |conn| gate.pass(&auth, conn)).await;
        } else if self.gate.schema_pending() {
            let _settled =
                store::read_if_idle(&self.state.pool, move |conn| gate.pass(&auth, conn)).await;
        }
    }

    /// `store::read`, after the gate.
    pub async fn read<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut store::Conn) -> std::result::Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::read(&self.state.pool, move |conn| {
            gated(&gate, &auth, conn, &mut f)
        })
        .await?
        .map_err(|()| refused_by_gate())
    }

    /// `store::read`, with the gate's check carried inside `f`'s statement
    /// when its shape has room for it (`f` gets the probe and says what it
    /// found); otherwise, or when `f` fails (a 404 must not tell a revoked
    /// token whether the resource exists), checked on its own afterwards.
    pub async fn read_probed<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(
                &mut store::Conn,
                Option<&store::tokens::Probe>,
            ) -> std::result::Result<(T, store::tokens::Probed), StoreError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::read(&self.state.pool, move |conn| {
            let probe = gate.probe();
            match f(conn, probe.as_ref()) {
                Ok((t, probed)) => match gate.probed(&auth, conn, probed)? {
                    Ok(()) => Ok(Ok(t)),
                    Err(_) => Ok(Err(())),
                },
                Err(e) => match gate.pass(&auth, conn)? {
                    Ok(()) => Err(e),
                    Err(_) => Ok(Err(())),
                },
            }
        })
        .await?
        .map_err(|()| refused_by_gate())
    }

    /// `store::in_tx`, with the gate's check carried inside `f`'s first
    /// statement when it has room for it (`f` gets the probe, ends with
    /// `StoreError::TokenNotLive` before writing anything when it found the
    /// token not live, and says what it found). A check `f` did not carry
    /// is made before COMMIT, and a refusal then rolls back what `f` wrote.
    /// When `f` fails (its transaction rolled back, so nothing more can run
    /// in it), an owed check is made on its own afterwards.
    pub async fn in_tx_probed<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(
                &mut store::Conn,
                Option<&store::tokens::Probe>,
            ) -> std::result::Result<(T, store::tokens::Probed), StoreError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        let inner = gate.clone();
        let inner_auth = Arc::clone(&auth);
        let outcome = store::in_tx(&self.state.pool, &self.state.tx_retries, move |conn| {
            let probe = inner.probe();
            let (t, probed) = f(conn, probe.as_ref())?;
            match inner.probed(&inner_auth, conn, probed)? {
                Ok(()) => Ok(t),
                Err(_) => Err(StoreError::TokenNotLive),
            }
        })
        .await;
        match outcome {
            Ok(t) => Ok(t),
            Err(e) => {
                if gate.is_pending() {
                    let (g, a) = (gate.clone(), Arc::clone(&auth));
                    // A refusal is kept by the gate, read just below.
                    let _ = store::read(&self.state.pool, move |conn| g.pass(&a, conn)).await?;
                }
                if gate.refused().is_some() {
                    return Err(refused_by_gate());
                }
                match e {
                    // The probe and the full read disagreed (the token
                    // changed between them): nothing was written; retry.
                    StoreError::TokenNotLive => Err(Error::Store(StoreError::Unavailable(
                        "the token changed during the request".into(),
                    ))),
                    other => Err(Error::Store(other)),
                }
            }
        }
    }

    /// `store::read_snapshot`, after the gate (checked outside the snapshot).
    pub async fn read_snapshot<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut store::Conn) -> std::result::Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::read(&self.state.pool, move |conn| {
            gated(&gate, &auth, conn, |c| store::snapshot(c, &mut f))
        })
        .await?
        .map_err(|()| refused_by_gate())
    }

    /// `store::single`, after the gate: the gate's read is not the single
    /// statement, so a repeat after a lost connection runs it again first.
    pub async fn single<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut store::Conn, bool) -> std::result::Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::single(&self.state.pool, move |conn, again| {
            gated(&gate, &auth, conn, |c| f(c, again))
        })
        .await?
        .map_err(|()| refused_by_gate())
    }

    /// `store::single`, with the gate's check carried in `f`'s first read:
    /// `f` reads with [`Checkpoint::probe`] and calls [`Checkpoint::settle`]
    /// with what it found before it writes anything, so a refused token
    /// writes nothing. When `f` fails before settling (a 404 must not tell
    /// a revoked token whether the resource exists), the check is made on
    /// its own and a refusal answers instead.
    pub async fn single_probed<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut store::Conn, bool, &Checkpoint<'_>) -> std::result::Result<T, StoreError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::single(&self.state.pool, move |conn, again| {
            // A token refused before (on an earlier attempt) owes no probe,
            // so `f` would not see it: stop here.
            if gate.refused().is_some() {
                return Ok(Err(()));
            }
            let cp = Checkpoint {
                gate: &gate,
                auth: &auth,
            };
            match f(conn, again, &cp) {
                Ok(t) => Ok(Ok(t)),
                Err(StoreError::TokenNotLive) if gate.refused().is_some() => Ok(Err(())),
                Err(e) => match gate.pass(&auth, conn)? {
                    Ok(()) => Err(e),
                    Err(_) => Ok(Err(())),
                },
            }
        })
        .await?
        .map_err(|()| refused_by_gate())
    }

    /// `store::in_tx`, with the gate inside the transaction, before `f`: a
    /// refused token ends it with nothing written.
    pub async fn in_tx<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut store::Conn) -> std::result::Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (gate, auth) = (self.gate.clone(), Arc::clone(&self.state.auth));
        store::in_tx(&self.state.pool, &self.state.tx_retries, move |conn| {
            gated(&gate, &auth, conn, &mut f)
        })
        .await?
        .map_err(|()| refused_by_gate())
    }
}

/// The gate's check as a [`Ctx::single_probed`] operation makes it: carried
/// in its first read, settled before its first write.
pub struct Checkpoint<'a> {
    gate: &'a gate::Gate,
    auth: &'a crate::auth::Authenticator,
}

impl Checkpoint<'_> {
    /// The check still owed, for the read to carry.
    pub fn probe(&self) -> Option<store::tokens::Probe> {
        self.gate.probe()
    }

    /// Settles the check with what the read found (`probed`), reading the
    /// token on its own when the read did not carry it. `TokenNotLive` when
    /// the token is refused: the operation must stop, having written nothing.
    pub fn settle(
        &self,
        conn: &mut store::Conn,
        probed: store::tokens::Probed,
    ) -> std::result::Result<(), StoreError> {
        match self.gate.probed(self.auth, conn, probed)? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::TokenNotLive),
        }
    }
}

/// Why an operation did not happen: the client's request was refused with
/// a precise SCIM error, or the store failed. `http::error` maps both.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Refused(ScimError),
    #[error("{0}")]
    Store(StoreError),
}

impl From<ScimError> for Error {
    fn from(e: ScimError) -> Self {
        Error::Refused(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Runs CPU-heavy work (validation of large bodies, argon2) on the blocking
/// pool, off the async workers.
pub async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ScimError::new(503, None, format!("blocking pool: {e}")))?
}

/// One field of a request that failed validation, and why, so the admin API
/// can list every bad field at once and a command can print them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// `field` is wrong: `message`.
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// `field: message; field: message`, for a one-line summary.
    pub fn summary(errors: &[FieldError]) -> String {
        errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Who asks for an operation, as its records name them: the audit log's
/// actor (which carries the organization acted in) and the `created_by` of
/// anything it creates.
#[derive(Debug, Clone)]
pub struct Requester {
    pub actor: store::audit::Actor,
    pub created_by: String,
}

impl Requester {
    /// An authenticated API caller.
    pub fn of(p: &Principal) -> Requester {
        Requester {
            actor: p.audit_actor(),
            created_by: p.actor(),
        }
    }

    /// The command line, acting in organization `org_id`: its changes are
    /// audited too, under `cli`.
    pub fn cli(org_id: Uuid) -> Requester {
        Requester {
            actor: store::audit::Actor {
                org_id,
                token_id: None,
                name: "cli".into(),
                connector: None,
                request_id: None,
            },
            created_by: "cli".into(),
        }
    }

    pub fn org_id(&self) -> Uuid {
        self.actor.org_id
    }
}
