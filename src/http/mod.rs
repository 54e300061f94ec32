//! The one route table, and the framework error handlers that make sure even
//! malformed requests get our error bodies.

pub mod admin;
pub mod admin_ui;
pub mod authed;
pub mod client_ip;
pub mod error;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod request_log;
pub mod scim;

use actix_web::{error::JsonPayloadError, web, HttpRequest, HttpResponse};

use crate::service::FieldError;
use error::json_error_response;

/// Admin API bodies are small; anything larger is refused unread.
const ADMIN_BODY_LIMIT: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::scrape))
        .service(
            web::scope("/api/v1")
                .app_data(
                    web::JsonConfig::default()
                        .limit(ADMIN_BODY_LIMIT)
                        .error_handler(admin_json_error),
                )
                .configure(admin::configure)
                .configure(openapi::configure),
        )
        .configure(scim::configure)
        .configure(admin_ui::configure)
        .default_service(web::to(
            |req: HttpRequest| async move { error::not_found(&req) },
        ));
}

fn admin_json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::http::StatusCode;
    let (status, message) = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is too large".to_string(),
        ),
        JsonPayloadError::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json".to_string(),
        ),
        JsonPayloadError::Deserialize(e) => {
            (StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}"))
        }
        other => (
            StatusCode::BAD_REQUEST,
            format!("invalid request body: {other}"),
        ),
    };
    let resp: HttpResponse =
        json_error_response(status, "bad_request", &message, &[] as &[FieldError]);
    actix_web::error::InternalError::from_response(err, resp).into()
}
