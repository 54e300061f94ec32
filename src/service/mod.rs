//! The application layer: one module per capability. Each operation owns
//! its transaction, calls the pure engines in `scim`, writes the audit
//! entry and returns typed results. It knows nothing of HTTP (`http` parses
//! and renders around one call here) and reaches PostgreSQL only through
//! `store`.
//!
//! Operations are async, like `store::run`: the server awaits them on its
//! workers, and a `scimd` command drives them to completion on its thread.

pub mod audit;
pub mod orgs;
pub mod tokens;

use serde::Serialize;
use uuid::Uuid;

use crate::auth::Principal;
use crate::store;

/// One field of a request that failed validation, and why, so the admin API
/// can list every bad field at once and a command can print them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
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
            },
            created_by: "cli".into(),
        }
    }

    pub fn org_id(&self) -> Uuid {
        self.actor.org_id
    }
}
