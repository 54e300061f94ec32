//! The token check a request still owes when its credential was accepted on
//! the row this process read before (`auth::Pending`): made once, on the
//! connection the request's first store call runs on, before that call's
//! own statements. A request then takes one connection and one blocking
//! hop, not one for the token and one for its work.

use std::sync::{Arc, Mutex};

use crate::auth::{Authenticator, Failure, Pending};
use crate::store::tokens::{Probe, Probed};
use crate::store::{Conn, StoreError};

/// Shared between the request's extractors, its operations and the
/// middleware that settles a check no operation made (a handler that
/// answered without the store, or refused the request first).
#[derive(Debug, Clone, Default)]
pub struct Gate(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    slot: Slot,
    /// The schema version the request's registry was built at, when that
    /// is still to be confirmed (with the token check), and the cache to
    /// tell when it was not.
    schema: Option<Expected>,
    /// Set when a statement found the schemas changed since the request's
    /// registry was built: every later store call of the request fails the
    /// same way, so nothing is read or written with it, until the request
    /// starts over with `fresh` (see [`Gate::restart`]).
    stale: Option<Stale>,
}

#[derive(Clone)]
struct Stale {
    expected: Expected,
    /// The current registry and its version, read on the connection that
    /// found the change; `None` when that read failed.
    fresh: Option<(i64, Arc<crate::scim::schema::Registry>)>,
}

impl std::fmt::Debug for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stale {:?}", self.expected)
    }
}

#[derive(Clone)]
struct Expected {
    version: i64,
    org: uuid::Uuid,
    registries: Arc<super::schemas::Registries>,
}

impl std::fmt::Debug for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "schema version {} of {}", self.version, self.org)
    }
}

#[derive(Debug, Default)]
enum Slot {
    /// Nothing owed: the token was read for this request, or there is none.
    #[default]
    Open,
    Pending(Pending),
    Refused(Failure),
}

impl Gate {
    /// Owes `p` before the first store call.
    pub fn defer(&self, p: Pending) {
        if let Ok(mut s) = self.0.lock() {
            s.slot = Slot::Pending(p);
        }
    }

    /// The owed check also confirms that `org`'s schemas are still at
    /// `version` (the registry the request was given, from `registries`);
    /// when they are not, the check answers `StoreError::RegistryStale`
    /// and `registries` forgets the stale entry.
    pub fn expect_schema_version(
        &self,
        registries: Arc<super::schemas::Registries>,
        org: uuid::Uuid,
        version: i64,
    ) {
        if let Ok(mut s) = self.0.lock() {
            s.schema = Some(Expected {
                version,
                org,
                registries,
            });
        }
    }

    /// Whether the token check is still owed.
    pub fn is_pending(&self) -> bool {
        self.0
            .lock()
            .is_ok_and(|s| matches!(s.slot, Slot::Pending(_)))
    }

    /// Whether only the registry's version is still to be confirmed (no
    /// token check owed: `AUTH_SECRET`).
    pub fn schema_pending(&self) -> bool {
        self.0
            .lock()
            .is_ok_and(|s| matches!(s.slot, Slot::Open) && s.schema.is_some())
    }

    /// The refusal the check found, if it found one.
    pub fn refused(&self) -> Option<Failure> {
        match self.0.lock().ok()?.slot {
            Slot::Refused(f) => Some(f),
            _ => None,
        }
    }

    /// The check owed, to carry inside the request's first statement.
    pub fn probe(&self) -> Option<Probe> {
        let s = self.0.lock().ok()?;
        match &s.slot {
            Slot::Pending(p) => {
                let mut probe = p.probe();
                probe.schema_version = s.schema.as_ref().map(|e| e.version);
                Some(probe)
            }
            _ => None,
        }
    }

    /// Makes the owed check on `conn`, once: `Ok(Err(_))` when it refused
    /// the token, and then every later call refuses too, so nothing of the
    /// request is read or written for a token found revoked.
    pub fn pass(
        &self,
        auth: &Authenticator,
        conn: &mut Conn,
    ) -> Result<Result<(), Failure>, StoreError> {
        self.probed(auth, conn, Probed::Skipped)
    }

    /// [`Self::pass`], after a statement that carried [`Self::probe`] and
    /// found `probed`.
    pub fn probed(
        &self,
        auth: &Authenticator,
        conn: &mut Conn,
        probed: Probed,
    ) -> Result<Result<(), Failure>, StoreError> {
        let (pending, expected) = {
            let mut s = self.lock()?;
            match &s.slot {
                Slot::Open => {
                    // No token check owed (AUTH_SECRET): the registry's
                    // version, when still to be confirmed, is read on its
                    // own, once, on the request's first store call.
                    if s.stale.is_some() {
                        return Err(StoreError::RegistryStale);
                    }
                    let Some(e) = s.schema.take() else {
                        return Ok(Ok(()));
                    };
                    drop(s);
                    let now = crate::store::schemas::version(conn, e.org)?;
                    if now != e.version {
                        return Err(self.went_stale(conn, e));
                    }
                    return Ok(Ok(()));
                }
                Slot::Refused(f) => return Ok(Err(*f)),
                Slot::Pending(p) => (p.clone(), s.schema.clone()),
            }
        };
        // A lost connection leaves the check owed, so the retry makes it.
        let outcome = auth.settle_probed(conn, &pending, probed)?;
        {
            let mut s = self.lock()?;
            s.slot = match outcome {
                Ok(_) => Slot::Open,
                Err(f) => Slot::Refused(f),
            };
            // Confirmed (or refused) with the token: nothing more to check.
            s.schema = None;
        }
        match (outcome, expected) {
            (Ok(Some(now)), Some(e)) if now != e.version => {
                // The token is good, but the schemas changed since the
                // registry was built: nothing may be answered with it.
                Err(self.went_stale(conn, e))
            }
            (Ok(_), _) => Ok(Ok(())),
            (Err(f), _) => Ok(Err(f)),
        }
    }

    /// Records that the request's registry is stale, reading the current
    /// one on `conn` (into the cache too) for the request's second start.
    fn went_stale(&self, conn: &mut Conn, e: Expected) -> StoreError {
        let fresh = match e.registries.load(conn, e.org) {
            Ok(found) => Some(found),
            Err(err) => {
                log::warn!("organization {}: schemas not re-read: {err}", e.org);
                e.registries.forget(e.org, e.version);
                None
            }
        };
        if let Ok(mut s) = self.0.lock() {
            s.stale = Some(Stale { expected: e, fresh });
        }
        StoreError::RegistryStale
    }

    /// When a statement found the request's registry stale: the current
    /// one, and the gate reset so that the request can start over with it
    /// (its version confirmed again on the first store call). `None` when
    /// the registry is not stale, or could not be read.
    pub fn restart(&self) -> Option<Arc<crate::scim::schema::Registry>> {
        let mut s = self.0.lock().ok()?;
        let stale = s.stale.take()?;
        let Some((version, reg)) = stale.fresh else {
            s.stale = Some(stale);
            return None;
        };
        s.schema = Some(Expected {
            version,
            ..stale.expected
        });
        Some(reg)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::Db("authentication gate poisoned".into()))
    }
}
