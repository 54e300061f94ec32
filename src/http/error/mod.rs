//! The one place errors become HTTP responses: SCIM error bodies (RFC 7644
//! §3.12) under `/scim/v2`, JSON `{error, message}` bodies elsewhere. 500 and
//! 503 bodies are generic; their cause is logged here, once.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::auth::AuthError;
use crate::scim::error::ScimError;
use crate::service::tokens::TokenError;
use crate::service::FieldError;
use crate::store::StoreError;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
pub const SCIM_ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER: &str = "1";

/// Which body shape a route family answers errors with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Scim,
    Json,
}

impl Flavor {
    pub fn of(req: &HttpRequest) -> Flavor {
        if req.path().starts_with("/scim/") || req.path() == "/scim" {
            Flavor::Scim
        } else {
            Flavor::Json
        }
    }
}

pub fn scim_error_body(e: &ScimError) -> serde_json::Value {
    let mut body = json!({
        "schemas": [SCIM_ERROR_URN],
        "status": e.status.to_string(),
        "detail": e.detail,
    });
    if let Some(t) = e.scim_type {
        body["scimType"] = json!(t.as_str());
    }
    body
}

/// The cause of a 5xx answer, kept off its body: the access middleware
/// logs it once, with the request id, and puts that id in the body
/// ([`server_fault_body`]), so an operator can find the cause from what a
/// client reports without the client ever seeing database or crypto text.
#[derive(Debug, Clone)]
pub struct ServerFault(pub String);

/// The only detail a 5xx body gives.
pub fn generic_detail(status: StatusCode) -> &'static str {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        "the service is temporarily unavailable; retry later"
    } else {
        "internal server error"
    }
}

/// A 5xx body in the flavor of its route, naming only the request id.
pub fn server_fault_body(
    flavor: Flavor,
    status: StatusCode,
    request_id: &str,
) -> serde_json::Value {
    let detail = format!("{} (request id {request_id})", generic_detail(status));
    match flavor {
        Flavor::Scim => scim_error_body(&ScimError::new(status.as_u16(), None, detail)),
        Flavor::Json => {
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "unavailable"
            } else {
                "internal"
            };
            json!({ "error": code, "message": detail })
        }
    }
}

pub fn scim_error_response(e: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    resp.content_type(SCIM_CONTENT_TYPE);
    if e.status == 401 {
        resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scimd\""));
    }
    if e.status == 503 {
        resp.insert_header((header::RETRY_AFTER, RETRY_AFTER));
    }
    if status.is_server_error() {
        let mut resp = resp.json(scim_error_body(&ScimError::new(
            e.status,
            None,
            generic_detail(status),
        )));
        resp.extensions_mut().insert(ServerFault(e.detail.clone()));
        return resp;
    }
    resp.json(scim_error_body(e))
}

/// A JSON error of the admin API.
pub fn json_error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: &[FieldError],
) -> HttpResponse {
    let mut body = json!({ "error": code, "message": message });
    if !fields.is_empty() {
        body["fields"] = json!(fields);
    }
    let mut resp = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scimd\""));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.insert_header((header::RETRY_AFTER, RETRY_AFTER));
    }
    if status.is_server_error() {
        body["message"] = json!(generic_detail(status));
        let mut resp = resp.json(body);
        resp.extensions_mut()
            .insert(ServerFault(message.to_string()));
        return resp;
    }
    resp.json(body)
}

/// The status, error code and message of a store error. For a 5xx the
/// message is the cause, which the responses keep off their bodies.
fn store_status(e: &StoreError) -> (StatusCode, &'static str, String) {
    match e {
        StoreError::Unavailable(cause) | StoreError::ConnectionLost(cause) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("database unavailable: {cause}"),
        ),
        StoreError::NotFound => (StatusCode::NOT_FOUND, "not_found", "not found".into()),
        StoreError::PreconditionFailed => (
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            e.to_string(),
        ),
        StoreError::Revoked => (StatusCode::CONFLICT, "conflict", e.to_string()),
        // The gate answers this as a refused credential; never left as is.
        StoreError::TokenNotLive => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, invalid, expired or revoked credential".into(),
        ),
        StoreError::Conflict(c) => (
            StatusCode::CONFLICT,
            "conflict",
            format!("conflicts with an existing entry ({c})"),
        ),
        // Nothing was read or written; the next request is served with the
        // organization's current schemas.
        StoreError::RegistryStale => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        ),
        StoreError::Rejected(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            "rejected",
            e.detail.clone(),
        ),
        StoreError::Transient { cause, .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("transaction rolled back: {cause}"),
        ),
        StoreError::Db(cause) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("database error: {cause}"),
        ),
    }
}

/// Authentication failures, in the flavor of the route that refused them.
#[derive(Debug)]
pub struct HttpAuthError {
    pub error: AuthError,
    pub flavor: Flavor,
}

impl std::fmt::Display for HttpAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for HttpAuthError {
    fn status_code(&self) -> StatusCode {
        match &self.error {
            AuthError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
            AuthError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AuthError::Store(e) => store_status(e).0,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The failure reason goes to the log, not to the client: telling a
        // caller "revoked" vs "unknown" helps only an attacker.
        let (status, code, message) = match &self.error {
            AuthError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing, invalid, expired or revoked credential".to_string(),
            ),
            AuthError::Forbidden(a) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this credential lacks the required scope ({})",
                    a.describe()
                ),
            ),
            AuthError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "too many credential checks are in progress; retry later".to_string(),
            ),
            AuthError::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("this credential's rate limit is spent; retry in {retry_after} s"),
            ),
            AuthError::Store(e) => store_status(e),
        };
        let mut response = match self.flavor {
            Flavor::Scim => scim_error_response(&ScimError::new(status.as_u16(), None, message)),
            Flavor::Json => json_error_response(status, code, &message, &[]),
        };
        // Okta and Entra ID both wait for Retry-After before retrying a 429.
        if let AuthError::RateLimited { retry_after } = &self.error {
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&retry_after.to_string())
            {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Errors of the admin API (`/api/v1`).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid(fields) => ApiError::Validation(fields),
            TokenError::NotFound => ApiError::NotFound(e.to_string()),
            TokenError::NotRotatable => ApiError::Conflict(e.to_string()),
            // A refusal decided inside the transaction: 409 `rejected`.
            TokenError::Limit { .. } => ApiError::Store(StoreError::Rejected(ScimError::new(
                409,
                None,
                e.to_string(),
            ))),
            // Minting needs the OS random source; without it, retry later.
            TokenError::Crypto(cause) => ApiError::Store(StoreError::Unavailable(cause)),
            TokenError::Store(s) => ApiError::Store(s),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Store(e) => store_status(e).0,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Validation(fields) => {
                let message = FieldError::summary(fields);
                json_error_response(
                    StatusCode::BAD_REQUEST,
                    "validation_failed",
                    &message,
                    fields,
                )
            }
            ApiError::BadRequest(m) => {
                json_error_response(StatusCode::BAD_REQUEST, "bad_request", m, &[])
            }
            ApiError::NotFound(m) => {
                json_error_response(StatusCode::NOT_FOUND, "not_found", m, &[])
            }
            ApiError::Conflict(m) => json_error_response(StatusCode::CONFLICT, "conflict", m, &[]),
            ApiError::Store(e) => {
                let (status, code, message) = store_status(e);
                json_error_response(status, code, &message, &[])
            }
            ApiError::Internal(cause) => json_error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("internal error: {cause}"),
                &[],
            ),
        }
    }
}

/// A not-found answer for any path, in the path's flavor.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    match Flavor::of(req) {
        Flavor::Scim => scim_error_response(&ScimError::not_found(format!(
            "no such endpoint: {}",
            req.path()
        ))),
        Flavor::Json => {
            json_error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint", &[])
        }
    }
}

pub fn scim_content_type() -> HeaderValue {
    HeaderValue::from_static(SCIM_CONTENT_TYPE)
}

#[cfg(test)]
mod tests;

/// Any failure of a `/scim/v2` handler, answered with a SCIM error body.
#[derive(Debug)]
pub struct ScimFailure(pub ScimError);

impl std::fmt::Display for ScimFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        ScimFailure(e)
    }
}

impl From<StoreError> for ScimFailure {
    fn from(e: StoreError) -> Self {
        ScimFailure(match e {
            StoreError::Rejected(e) => e,
            StoreError::NotFound => ScimError::not_found("resource not found"),
            StoreError::PreconditionFailed => ScimError::precondition_failed(e.to_string()),
            StoreError::Conflict(c) => {
                ScimError::uniqueness(format!("conflicts with an existing resource ({c})"))
            }
            other => {
                let (status, _, message) = store_status(&other);
                ScimError::new(status.as_u16(), None, message)
            }
        })
    }
}

impl ResponseError for ScimFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    fn error_response(&self) -> HttpResponse {
        scim_error_response(&self.0)
    }
}

impl From<crate::service::Error> for ScimFailure {
    fn from(e: crate::service::Error) -> Self {
        match e {
            crate::service::Error::Refused(e) => ScimFailure(e),
            crate::service::Error::Store(e) => e.into(),
        }
    }
}
