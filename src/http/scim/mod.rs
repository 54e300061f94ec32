//! `/scim/v2`: the SCIM protocol endpoints (RFC 7644), and the extractors
//! that turn raw requests into typed values or SCIM errors — content type,
//! body size, JSON syntax and query parameters — before any handler runs.

mod bulk;
mod custom;
mod discovery;
mod me;
mod resources;
mod search;

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpMessage as _;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::Value;

use super::error::{scim_error_response, ScimFailure, SCIM_CONTENT_TYPE};
use crate::scim::error::ScimError;
use crate::scim::etag::{etag, EtagCondition};
use crate::scim::resource::Projection;
use crate::scim::schema::parse_attr_list;
use crate::service::Ctx;
use crate::state::AppState;

/// Runs a handler's work, and once more when its first statement found the
/// organization's schemas changed since the request's registry was built
/// (declared or changed on another instance a moment before): nothing was
/// read or written then, and the second run has the current registry. A
/// client error found without the store is checked the same way, since the
/// attribute it names may have just been declared. So
/// a change is served from every instance's next request, not answered
/// with a 503 there.
pub(crate) async fn fresh<T, Fut>(
    ctx: &Ctx,
    mut work: impl FnMut() -> Fut,
) -> Result<T, ScimFailure>
where
    Fut: Future<Output = Result<T, ScimFailure>>,
{
    let first = work().await;
    // A 5xx tells nothing, and when the store was away, trying it again
    // here would only double the wait.
    if first.as_ref().is_err_and(|f| f.0.status < 500) {
        ctx.settle_now().await;
    }
    if ctx.restart() {
        return work().await;
    }
    first
}

/// The largest request body accepted (advertised as `maxPayloadSize`). A PUT
/// of a group with 100,000 members is about 5 MB.
pub const MAX_PAYLOAD_SIZE: usize = 10 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .app_data(web::PayloadConfig::new(MAX_PAYLOAD_SIZE))
            .configure(|cfg| {
                let mut mounted = Mounted::default();
                discovery::configure(cfg);
                // Before the resources: `/Users/.search` must not match `/Users/{id}`.
                search::configure(cfg);
                resources::configure(cfg, &mut mounted);
                bulk::configure(cfg, &mut mounted);
                me::configure(cfg);
                // Last: a declared type's endpoint never shadows a built-in.
                custom::configure(cfg);
                cfg.app_data(web::Data::new(mounted));
            })
            .default_service(web::to(|req: HttpRequest| async move {
                super::error::not_found(&req)
            })),
    );
}

/// What the router really serves, recorded by the code that mounts each
/// route, so that `/ServiceProviderConfig` (`discovery::features`) claims a
/// feature only when its routes are there.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mounted {
    /// `PATCH /Users/{id}` and `/Groups/{id}`.
    pub patch: bool,
    /// `POST /Bulk`.
    pub bulk: bool,
    /// `GET /Users` and `/Groups` with filter, sortBy and both kinds of paging.
    pub list: bool,
    /// Resource reads and writes that send `ETag` and honour `If-Match` and
    /// `If-None-Match`.
    pub conditional: bool,
}

pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    scim_error_response(&ScimError::new(
        405,
        None,
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

/// The service layer's per-request context, from the request: shared
/// state, this server's SCIM base URL and the request id.
impl FromRequest for Ctx {
    type Error = ScimFailure;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return ready(Err(
                ScimError::new(500, None, "application state missing").into()
            ));
        };
        let root = match &state.config.public_url {
            Some(u) => u.clone(),
            None => {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        };
        let request_id = req
            .extensions()
            .get::<crate::http::metrics::RequestId>()
            .map_or_else(|| "-".to_string(), |r| r.as_str().to_string());
        ready(Ok(Ctx {
            base: format!("{root}/scim/v2"),
            state: state.into_inner(),
            request_id,
            gate: crate::http::authed::gate_of(req),
            schemas: crate::http::authed::schemas_of(req),
        }))
    }
}

/// The query string as ordered pairs; a malformed one is a SCIM 400.
pub struct Params(pub Vec<(String, String)>);

impl FromRequest for Params {
    type Error = ScimFailure;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| Params(q.into_inner()))
                .map_err(|e| {
                    ScimError::invalid_value(format!("malformed query string: {e}")).into()
                }),
        )
    }
}

impl Params {
    /// The projection parameters; any other parameter is refused, so a
    /// client is never silently served something it did not ask for.
    pub fn projection_only(&self) -> Result<Projection, ScimFailure> {
        let mut p = Projection::default();
        for (k, v) in &self.0 {
            if k.eq_ignore_ascii_case("attributes") {
                p.attributes.extend(parse_attr_list(v)?);
            } else if k.eq_ignore_ascii_case("excludedAttributes") {
                p.excluded.extend(parse_attr_list(v)?);
            } else {
                return Err(ScimError::invalid_value(format!(
                    "query parameter '{k}' is not supported here"
                ))
                .into());
            }
        }
        Ok(p)
    }
}

/// A SCIM JSON request body. Content-Type must be `application/scim+json`
/// or `application/json` (a missing one is tolerated); bodies larger than
/// [`MAX_PAYLOAD_SIZE`] are refused before they are read.
pub struct ScimBody(pub Value);

impl FromRequest for ScimBody {
    type Error = ScimFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v.to_str().is_ok_and(|s| {
                let essence = s.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case(SCIM_CONTENT_TYPE)
                    || essence.eq_ignore_ascii_case("application/json")
            }),
        };
        let bytes = web::Bytes::from_request(req, payload);
        let log_req = req.clone();
        let timeout = req
            .app_data::<web::Data<AppState>>()
            .map_or(std::time::Duration::from_secs(30), |s| {
                s.config.body_timeout
            });
        Box::pin(async move {
            if !content_type_ok {
                return Err(ScimError::new(
                    415,
                    None,
                    "Content-Type must be application/scim+json or application/json",
                )
                .into());
            }
            // A client that trickles its body must not hold a worker forever.
            let bytes = actix_web::rt::time::timeout(timeout, bytes)
                .await
                .map_err(|_| ScimError::new(408, None, "timed out reading the request body"))?;
            let bytes = bytes.map_err(|e| {
                if let Some(PayloadError::Overflow) = e.as_error::<PayloadError>() {
                    ScimError::too_large(format!(
                        "request body exceeds maxPayloadSize ({MAX_PAYLOAD_SIZE} bytes)"
                    ))
                } else if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ScimError::too_large(format!(
                        "request body exceeds maxPayloadSize ({MAX_PAYLOAD_SIZE} bytes)"
                    ))
                } else {
                    ScimError::invalid_syntax(format!("cannot read request body: {e}"))
                }
            })?;
            // For the request log, should the caller be a connector.
            log_req
                .extensions_mut()
                .insert(crate::http::request_log::RawBody(bytes.clone()));
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(ScimError::invalid_syntax("request body is empty").into());
            }
            serde_json::from_slice(&bytes).map(ScimBody).map_err(|e| {
                ScimError::invalid_syntax(format!("request body is not valid JSON: {e}")).into()
            })
        })
    }
}

/// `If-Match` (for writes) or `If-None-Match` (for reads).
pub fn condition(req: &HttpRequest, name: header::HeaderName) -> Option<EtagCondition> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(EtagCondition::parse)
}

/// A response carrying one resource, with its ETag (and Location on 201).
pub fn resource_response(status: StatusCode, body: &Value, version: i64) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .insert_header((header::ETAG, etag(version)));
    if status == StatusCode::CREATED {
        if let Some(loc) = body.pointer("/meta/location").and_then(Value::as_str) {
            resp.insert_header((header::LOCATION, loc.to_string()));
        }
    }
    resp.body(body.to_string())
}

pub fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    // Straight into bytes: `to_string` goes through `fmt::Display`, whose
    // adapter cost a 100-user page a few percent of its CPU.
    let mut bytes = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        // Writing a `Value` into memory cannot fail; if it ever did, the
        // client gets an error rather than half a document.
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(bytes)
}
