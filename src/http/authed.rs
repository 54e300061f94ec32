//! The actix extractor every protected route uses. The type names the access
//! the route needs (`Authed<ScimWrite>`), so a handler cannot forget it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{http::header, web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::error::{Flavor, HttpAuthError};
use super::metrics::Caller;
use crate::auth::scope::Access;
use crate::auth::{AuthError, Principal};
use crate::service::gate::Gate;
use crate::state::AppState;

/// The request's gate, shared by every extractor that asks for it (their
/// order in a handler's arguments does not matter).
pub fn gate_of(req: &HttpRequest) -> Gate {
    if let Some(g) = req.extensions().get::<Gate>() {
        return g.clone();
    }
    let g = Gate::default();
    req.extensions_mut().insert(g.clone());
    g
}

/// The request's registry slot (`service::Ctx::schemas`), made by the first
/// extractor that asks for it. Its presence tells [`Authed`] the handler
/// serves SCIM and needs the caller's organization's schemas.
pub fn schemas_of(req: &HttpRequest) -> crate::service::schemas::Slot {
    if let Some(s) = req.extensions().get::<crate::service::schemas::Slot>() {
        return s.clone();
    }
    let s = crate::service::schemas::Slot::default();
    req.extensions_mut().insert(s.clone());
    s
}

/// The bucket a request of `principal` is counted against, with its metric
/// label: its connector's limit (from the organization's registry, current
/// as any policy), or a token's own.
fn rate_limit_of(
    state: &AppState,
    principal: &Principal,
    slot: Option<&crate::service::schemas::Slot>,
) -> Option<(uuid::Uuid, String, crate::scim::policy::RateLimit)> {
    match principal.connector {
        Some(c) => {
            let reg = slot
                .and_then(crate::service::schemas::Slot::get)
                .or_else(|| state.registries.cached_registry(principal.org_id))?;
            let limit = reg.policy().connectors.get(&c)?.rate_limit?;
            Some((c, c.to_string(), limit))
        }
        None => {
            let (id, limit) = (principal.token_id?, principal.rate_limit?);
            Some((id, format!("token:{id}"), limit))
        }
    }
}

/// Logs and counts a refused credential, wherever it was refused.
pub fn note_refusal(state: &AppState, error: &AuthError) {
    match error {
        AuthError::Unauthorized(f) => {
            log::info!("authentication refused: {}", f.as_str());
            state.metrics.auth_failure(*f);
        }
        AuthError::Forbidden(_) => state.metrics.forbidden(),
        // Counted where the limit is known (`limit`).
        AuthError::Store(_) | AuthError::Busy | AuthError::RateLimited { .. } => {}
    }
}

pub trait AccessClass {
    const ACCESS: Access;
    /// Whether a known token's liveness check may wait for the request's
    /// first store call ([`Gate`]). Only for the SCIM routes, whose
    /// operations reach the store through `service::Ctx` and so through the
    /// gate; the admin routes read the token before their handler runs.
    const DEFERRED: bool = false;
}

pub struct ScimRead;
pub struct ScimWrite;
pub struct AdminAll;
pub struct AdminRead;
pub struct ConnectRead;
pub struct ConnectWrite;

impl AccessClass for ScimRead {
    const ACCESS: Access = Access::ScimRead;
    const DEFERRED: bool = true;
}
impl AccessClass for ScimWrite {
    const ACCESS: Access = Access::ScimWrite;
    const DEFERRED: bool = true;
}
impl AccessClass for AdminAll {
    const ACCESS: Access = Access::Admin;
}
impl AccessClass for AdminRead {
    const ACCESS: Access = Access::AdminRead;
}
impl AccessClass for ConnectRead {
    const ACCESS: Access = Access::ConnectRead;
}
impl AccessClass for ConnectWrite {
    const ACCESS: Access = Access::ConnectWrite;
}

/// An authenticated caller holding the access `A` names.
pub struct Authed<A: AccessClass> {
    pub principal: Principal,
    _access: PhantomData<A>,
}

impl<A: AccessClass> std::ops::Deref for Authed<A> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<A: AccessClass + 'static> FromRequest for Authed<A> {
    type Error = HttpAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let flavor = Flavor::of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|h| h.as_bytes().to_vec());
        let client = state.as_ref().and_then(|s| {
            super::client_ip::client_ip(
                req.peer_addr().map(|a| a.ip()),
                req.headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok()),
                &s.config.trusted_proxies,
            )
        });
        let gate = gate_of(req);
        let req = req.clone();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(HttpAuthError {
                    error: AuthError::Store(crate::store::StoreError::Unavailable(
                        "application state missing".into(),
                    )),
                    flavor,
                });
            };
            let now = state.clock.now();
            match state
                .auth
                .authenticate(
                    &state.pool,
                    header.as_deref(),
                    client,
                    A::ACCESS,
                    now,
                    A::DEFERRED,
                )
                .await
            {
                Ok(authed) => {
                    let mut principal = authed.principal;
                    principal.request_id = req
                        .extensions()
                        .get::<crate::http::metrics::RequestId>()
                        .map(|r| r.as_str().to_string());
                    let deferred = authed.pending.is_some();
                    if let Some(p) = authed.pending {
                        gate.defer(p);
                    }
                    // Extractors have all been created before any runs, so
                    // a handler taking a `Ctx` has put its slot here.
                    let slot = req
                        .extensions()
                        .get::<crate::service::schemas::Slot>()
                        .cloned();
                    if let Some(slot) = &slot {
                        let regs = std::sync::Arc::clone(&state.registries);
                        let (reg, version, confirm) =
                            crate::service::schemas::for_request_or_cached(
                                &state.pool,
                                &regs,
                                principal.org_id,
                                authed.schema_version,
                                deferred,
                            )
                            .await;
                        if confirm {
                            gate.expect_schema_version(regs, principal.org_id, version);
                        }
                        slot.set(reg);
                        slot.set_caller(principal.connector);
                    }
                    // Before the rate limit: a refused request is one the
                    // connector made, and is logged as such.
                    if let (Some(connector), Flavor::Scim) = (principal.connector, flavor) {
                        req.extensions_mut()
                            .insert(crate::http::request_log::LogScope {
                                org: principal.org_id,
                                connector,
                            });
                    }
                    if let Some((key, label, limit)) =
                        rate_limit_of(&state, &principal, slot.as_ref())
                    {
                        if let Err(l) = state.limiter.take(&state.pool, key, limit, now).await {
                            state.metrics.rate_limited(label);
                            return Err(HttpAuthError {
                                error: AuthError::RateLimited {
                                    retry_after: l.retry_after,
                                },
                                flavor,
                            });
                        }
                    }
                    // For the access log: which token made this request.
                    req.extensions_mut().insert(Caller::of(&principal));
                    Ok(Authed {
                        principal,
                        _access: PhantomData,
                    })
                }
                Err(error) => {
                    note_refusal(&state, &error);
                    Err(HttpAuthError { error, flavor })
                }
            }
        })
    }
}

/// The middleware (`middleware::from_fn(settle)`) that makes sure a
/// deferred token check was made before any answer leaves: a handler that
/// answered without the store (discovery, a refused filter) owes it still,
/// and one whose check refused the token answers as any refused credential,
/// whatever it had answered itself. Nothing was written for such a request:
/// every write goes through the gate first.
pub async fn settle<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let flavor = Flavor::of(req.request());
    let res = next.call(req).await?;
    let Some(gate) = res.request().extensions().get::<Gate>().cloned() else {
        return Ok(res.map_into_left_body());
    };
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res.map_into_left_body());
    };
    // A 5xx tells nothing and carries nothing; when the store could not
    // be reached for the request, trying again here only doubles the wait.
    let error = if gate.is_pending() && !res.status().is_server_error() {
        let (g, auth) = (gate.clone(), std::sync::Arc::clone(&state.auth));
        match crate::store::read(&state.pool, move |conn| g.pass(&auth, conn)).await {
            Ok(Ok(())) => None,
            Ok(Err(f)) => Some(AuthError::Unauthorized(f)),
            Err(e) => Some(AuthError::Store(e)),
        }
    } else if gate.schema_pending() && !res.status().is_server_error() {
        // Only the registry's version is unconfirmed (AUTH_SECRET, and the
        // handler answered without the store, e.g. a 400 for an attribute
        // the cached registry lacks). Confirmed when a connection is idle;
        // with the database busy or away the answer stands, since waiting
        // would turn a client error into a timeout.
        let (g, auth) = (gate.clone(), std::sync::Arc::clone(&state.auth));
        match crate::store::read_if_idle(&state.pool, move |conn| g.pass(&auth, conn)).await {
            Some(Err(e @ crate::store::StoreError::RegistryStale)) => Some(AuthError::Store(e)),
            _ => None,
        }
    } else {
        gate.refused().map(AuthError::Unauthorized)
    };
    let Some(error) = error else {
        return Ok(res.map_into_left_body());
    };
    note_refusal(&state, &error);
    res.request().extensions_mut().remove::<Caller>();
    let answer = HttpAuthError { error, flavor }.error_response();
    Ok(res.into_response(answer).map_into_right_body())
}

/// A credential where one is optional (discovery, RFC 7644 §4): no
/// `Authorization` header is an anonymous caller, served the `default`
/// organization's view; a header that does not authenticate is refused as
/// on any route (RFC 6750 §3.1), so a bad credential costs the same one
/// hash and one primary-key read everywhere and is never silently served.
pub struct MaybeAuthed<A: AccessClass>(pub Option<Authed<A>>);

impl<A: AccessClass + 'static> FromRequest for MaybeAuthed<A> {
    type Error = HttpAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(MaybeAuthed(None)) });
        }
        let fut = Authed::<A>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|a| MaybeAuthed(Some(a))) })
    }
}
