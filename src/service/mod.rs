//! The application layer: one module per capability. Each operation owns
//! its transaction, calls the pure engines in `scim`, writes the audit
//! entry and returns typed results. It knows nothing of HTTP (`http` parses
//! and renders around one call here) and reaches PostgreSQL only through
//! `store`.

use serde::Serialize;

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
