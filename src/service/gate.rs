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
pub struct Gate(Arc<Mutex<Slot>>);

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
            *s = Slot::Pending(p);
        }
    }

    /// Whether a check is still owed.
    pub fn is_pending(&self) -> bool {
        self.0.lock().is_ok_and(|s| matches!(*s, Slot::Pending(_)))
    }

    /// The refusal the check found, if it found one.
    pub fn refused(&self) -> Option<Failure> {
        match *self.0.lock().ok()? {
            Slot::Refused(f) => Some(f),
            _ => None,
        }
    }

    /// The check owed, to carry inside the request's first statement.
    pub fn probe(&self) -> Option<Probe> {
        match &*self.0.lock().ok()? {
            Slot::Pending(p) => Some(p.probe()),
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
        let pending = match &*self.lock()? {
            Slot::Open => return Ok(Ok(())),
            Slot::Refused(f) => return Ok(Err(*f)),
            Slot::Pending(p) => p.clone(),
        };
        // A lost connection leaves the check owed, so the retry makes it.
        let outcome = auth.settle_probed(conn, &pending, probed)?;
        *self.lock()? = match outcome {
            Ok(()) => Slot::Open,
            Err(f) => Slot::Refused(f),
        };
        Ok(outcome)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Slot>, StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::Db("authentication gate poisoned".into()))
    }
}
