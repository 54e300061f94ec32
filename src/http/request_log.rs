//! The middleware (`middleware::from_fn(record)`) that hands each SCIM
//! request made with a connector's token to the request log
//! (`service::request_log`): the request body the `ScimBody` extractor
//! read ([`RawBody`]), the answer's body, status, route and timing. Other
//! requests pass through untouched, at the cost of one extension lookup.

use std::time::Instant;

use actix_web::body::{to_bytes, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use uuid::Uuid;

use crate::service::request_log::Record;
use crate::state::AppState;

/// Put in a request's extensions by the auth extractor: this request is a
/// connector's, in this organization, and is to be logged.
#[derive(Debug, Clone, Copy)]
pub struct LogScope {
    pub org: Uuid,
    pub connector: Uuid,
}

/// The request body as read, kept by `ScimBody` for the log (a shared
/// buffer, not a copy).
#[derive(Debug, Clone)]
pub struct RawBody(pub bytes::Bytes);

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let at = state.as_ref().map(|s| s.clock.now());
    let res = next.call(req).await?;
    let scope = res.request().extensions().get::<LogScope>().copied();
    let (Some(scope), Some(state), Some(at)) = (scope, state, at) else {
        return Ok(res.map_body(|_, b| EitherBody::left(b.boxed())));
    };
    let req = res.request().clone();
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (response, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => actix_web::web::Bytes::new(),
    };
    let request_body = req.extensions().get::<RawBody>().map(|b| b.0.clone());
    let request_id = req
        .extensions()
        .get::<crate::http::metrics::RequestId>()
        .map_or_else(String::new, |r| r.as_str().to_string());
    state.request_log.push(Record {
        org: scope.org,
        connector: scope.connector,
        at,
        method: req.method().to_string(),
        route: req
            .match_pattern()
            .unwrap_or_else(|| req.path().to_string()),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        status: status.as_u16(),
        duration: started.elapsed(),
        request_id,
        resource_id: req
            .match_info()
            .get("id")
            .and_then(|i| Uuid::parse_str(i).ok()),
        request_body,
        // A 5xx answer's body is replaced by a generic one on its way out;
        // the log must not keep the cause the client never saw.
        response_body: (!status.is_server_error()).then(|| bytes.clone()),
    });
    let response = response.set_body(bytes);
    Ok(ServiceResponse::new(http_req, response).map_body(|_, b| EitherBody::right(b.boxed())))
}
