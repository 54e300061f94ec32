//! The application layer: one module per capability. Each operation owns
//! its transaction, calls the pure engines in `scim`, writes the audit
//! entry and returns typed results. It knows nothing of HTTP (`http` parses
//! and renders around one call here) and reaches PostgreSQL only through
//! `store`.

pub mod bulk;
pub mod me;
mod members;
pub mod password;
pub mod query;
pub mod resources;
pub mod search;

use std::sync::Arc;

use crate::scim::error::ScimError;
use crate::state::AppState;
use crate::store::StoreError;

/// What every operation runs with: the shared state, the SCIM base URL its
/// representations point at, and the request's id for the log.
#[derive(Clone)]
pub struct Ctx {
    pub state: Arc<AppState>,
    /// e.g. `https://scim.example.com/scim/v2`, for `meta.location` and `$ref`.
    pub base: String,
    /// The request's id, for the 5xx details Bulk reports per operation.
    pub request_id: String,
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
