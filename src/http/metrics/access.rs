//! The middleware around every request: it assigns the request id, counts
//! the request, and writes one access-log line.
//!
//! The line holds only what is safe to keep: method, route template (not
//! the path, which can hold a user name; not the query, which can hold a
//! filter with an e-mail address), status, duration, the token id (never its
//! value; the Authorization header is not read here at all), peer address
//! and request id.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::error::{server_fault_body, Flavor, ServerFault};
use crate::state::AppState;

/// The `log` target of access lines, so they can be routed or silenced
/// apart from the rest (`RUST_LOG=scimd::access=off`).
pub const ACCESS_TARGET: &str = "scimd::access";
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";
/// The longest incoming request id that is kept.
const MAX_REQUEST_ID: usize = 64;
/// Polled by probes and scrapers every few seconds: counted, not logged.
const QUIET_ROUTES: [&str; 2] = ["/health", "/metrics"];

/// This request's id, in its extensions and its `X-Request-Id` header.
#[derive(Clone, Debug)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's `X-Request-Id` when it is a short plain token (so it
    /// cannot break a log line or a header), else a new UUID.
    pub fn for_request(headers: &HeaderMap) -> RequestId {
        match headers.get(X_REQUEST_ID) {
            Some(v) if is_sane(v.as_bytes()) => RequestId(v.clone()),
            _ => RequestId::generate(),
        }
    }

    fn generate() -> RequestId {
        let mut buf = Uuid::encode_buffer();
        let text = Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        // A hyphenated UUID is always a valid header value.
        RequestId(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-")))
    }

    pub fn as_str(&self) -> &str {
        // Only sane (ASCII) values are ever stored.
        self.0.to_str().unwrap_or("-")
    }
}

fn is_sane(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Who made the request: put in the request's extensions by the auth
/// extractor once it accepted a credential. `None` is `AUTH_SECRET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller(pub Option<Uuid>);

impl Caller {
    pub fn of(p: &Principal) -> Caller {
        Caller(p.token_id)
    }
}

/// One access-log line; `Display` writes it in logfmt.
#[derive(Debug)]
pub struct AccessLine<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: StatusCode,
    pub elapsed: Duration,
    /// `None` when no credential was accepted.
    pub caller: Option<Caller>,
    pub peer: Option<IpAddr>,
    pub request_id: &'a str,
}

impl fmt::Display for AccessLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "method={} route={} status={} ms={:.3} token=",
            self.method,
            self.route,
            self.status.as_u16(),
            self.elapsed.as_secs_f64() * 1000.0
        )?;
        match self.caller {
            None => f.write_str("-")?,
            Some(Caller(None)) => f.write_str("AUTH_SECRET")?,
            Some(Caller(Some(id))) => write!(f, "{id}")?,
        }
        f.write_str(" peer=")?;
        match self.peer {
            Some(ip) => write!(f, "{ip}")?,
            None => f.write_str("-")?,
        }
        write!(f, " request_id={}", self.request_id)
    }
}

/// The middleware (`middleware::from_fn(observe)`).
pub async fn observe<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let started = Instant::now();
    let request_id = RequestId::for_request(req.headers());
    req.extensions_mut().insert(request_id.clone());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Arc::clone(&s.metrics));
    // An inner error comes back without its request (which cannot be cloned
    // before routing), so what the log needs from it is taken now.
    let (method, peer) = (req.method().clone(), req.peer_addr().map(|a| a.ip()));
    let result = next.call(req).await;
    let elapsed = started.elapsed();
    match result {
        Ok(mut res) => {
            res.headers_mut().insert(X_REQUEST_ID, request_id.0.clone());
            let req = res.request();
            let route: Cow<'static, str> = match req.match_pattern() {
                Some(p) => Cow::Owned(p),
                None => Cow::Borrowed(UNMATCHED),
            };
            let caller = req.extensions().get::<Caller>().copied();
            let status = res.status();
            log_access(&AccessLine {
                method: method.as_str(),
                route: &route,
                status,
                elapsed,
                caller,
                peer,
                request_id: request_id.as_str(),
            });
            if let Some(m) = metrics {
                m.record_request(route, method.as_str(), status.as_u16(), elapsed);
            }
            Ok(hide_fault(res, &request_id))
        }
        // Handlers' and extractors' errors arrive as responses; only an
        // inner middleware fails like this. Its route is unknown, but the
        // answer still carries the request id and is counted and logged.
        Err(e) => {
            let mut resp = e.error_response();
            if resp.status().is_server_error() {
                // Errors that escaped every handler (actix's own): no cause
                // of ours to log, and a generic body like any other 5xx.
                let status = resp.status();
                log::error!("request {}: {status}: {e}", request_id.as_str());
                resp.headers_mut().remove(header::CONTENT_LENGTH);
                resp = resp.set_body(BoxBody::new(
                    server_fault_body(Flavor::Json, status, request_id.as_str()).to_string(),
                ));
            }
            resp.headers_mut()
                .insert(X_REQUEST_ID, request_id.0.clone());
            let status = resp.status();
            log_access(&AccessLine {
                method: method.as_str(),
                route: UNMATCHED,
                status,
                elapsed,
                caller: None,
                peer,
                request_id: request_id.as_str(),
            });
            if let Some(m) = metrics {
                m.record_request(
                    Cow::Borrowed(UNMATCHED),
                    method.as_str(),
                    status.as_u16(),
                    elapsed,
                );
            }
            Err(InternalError::from_response(e, resp).into())
        }
    }
}

/// A 5xx answer: its cause (a [`ServerFault`], if the error layer recorded
/// one) is logged once, with the request id, and the body is replaced by a
/// generic one naming that id, whatever produced the response.
fn hide_fault<B: MessageBody>(
    res: ServiceResponse<B>,
    request_id: &RequestId,
) -> ServiceResponse<EitherBody<B>> {
    let status = res.status();
    if !status.is_server_error() {
        return res.map_into_left_body();
    }
    let cause = res
        .response()
        .extensions()
        .get::<ServerFault>()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| "no cause recorded".to_string());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        log::warn!("request {}: {status}: {cause}", request_id.as_str());
    } else {
        log::error!("request {}: {status}: {cause}", request_id.as_str());
    }
    let flavor = Flavor::of(res.request());
    let body = server_fault_body(flavor, status, request_id.as_str()).to_string();
    res.map_body(|head, _| {
        head.headers_mut().remove(header::CONTENT_LENGTH);
        EitherBody::right(BoxBody::new(body))
    })
}

fn log_access(line: &AccessLine<'_>) {
    if log::log_enabled!(target: ACCESS_TARGET, log::Level::Info)
        && !QUIET_ROUTES.contains(&line.route)
    {
        log::info!(target: ACCESS_TARGET, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_for(value: &[u8]) -> String {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        RequestId::for_request(&h).as_str().to_string()
    }

    #[test]
    fn sane_ids_are_kept_others_replaced() {
        assert_eq!(id_for(b"abc-123_X.y"), "abc-123_X.y");
        let long = "a".repeat(64);
        assert_eq!(id_for(long.as_bytes()), long);
        for bad in [&b"a".repeat(65)[..], b"a b", b"a\"b", b"a=b", b"\xc3\xa9"] {
            let got = id_for(bad);
            assert!(Uuid::parse_str(&got).is_ok(), "{bad:?} -> {got}");
        }
        let generated = RequestId::for_request(&HeaderMap::new());
        assert!(Uuid::parse_str(generated.as_str()).is_ok());
    }

    #[test]
    fn line_format() {
        let id = Uuid::nil();
        let mut line = AccessLine {
            method: "GET",
            route: "/scim/v2/Users/{id}",
            status: StatusCode::NOT_FOUND,
            elapsed: Duration::from_micros(1500),
            caller: Some(Caller(Some(id))),
            peer: Some(IpAddr::from([127, 0, 0, 1])),
            request_id: "r1",
        };
        assert_eq!(
            line.to_string(),
            format!("method=GET route=/scim/v2/Users/{{id}} status=404 ms=1.500 token={id} peer=127.0.0.1 request_id=r1")
        );
        line.caller = None;
        line.peer = None;
        assert!(line.to_string().contains(" token=- peer=- "));
        line.caller = Some(Caller(None));
        assert!(line.to_string().contains(" token=AUTH_SECRET "));
    }
}
