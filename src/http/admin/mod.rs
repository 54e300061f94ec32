//! The admin API under `/api/v1` (JSON).

pub mod audit;
pub mod connectors;
pub mod deleted;
pub mod schemas;
pub mod subscriptions;
pub mod tokens;

use actix_web::web;

use crate::http::error::ApiError;

/// A 400 naming one bad field or query parameter (at most 64 characters of
/// its name: it may be client text).
pub(crate) fn bad(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![crate::service::FieldError {
        field: field.chars().take(64).collect(),
        message: message.into(),
    }])
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    tokens::configure(cfg);
    audit::configure(cfg);
    schemas::configure(cfg);
    connectors::configure(cfg);
    deleted::configure(cfg);
    subscriptions::configure(cfg);
}
