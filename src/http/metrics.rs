//! `GET /metrics` and the per-request access middleware that feeds it; the
//! registry itself is [`crate::metrics::Metrics`].
//!
//! `GET /metrics` needs no credential, like `/health`: it reveals no secret,
//! but it does reveal traffic volumes and route usage, so operators should
//! firewall it or bind scimd to a private address behind their proxy.

mod access;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

pub use access::{observe, AccessLine, Caller, RequestId, ACCESS_TARGET, X_REQUEST_ID};

/// `GET /metrics`.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.encode() {
        Ok(body) => HttpResponse::Ok().content_type(CONTENT_TYPE).body(body),
        Err(e) => {
            log::error!("cannot encode metrics: {e}");
            super::error::json_error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error",
                &[],
            )
        }
    }
}
