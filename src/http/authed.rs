//! The actix extractor every protected route uses. The type names the access
//! the route needs (`Authed<ScimWrite>`), so a handler cannot forget it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};

use super::error::{Flavor, HttpAuthError};
use super::metrics::Caller;
use crate::auth::scope::Access;
use crate::auth::{AuthError, Principal};
use crate::state::AppState;

pub trait AccessClass {
    const ACCESS: Access;
}

pub struct ScimRead;
pub struct ScimWrite;
pub struct AdminAll;
pub struct AdminRead;
pub struct ConnectRead;
pub struct ConnectWrite;

impl AccessClass for ScimRead {
    const ACCESS: Access = Access::ScimRead;
}
impl AccessClass for ScimWrite {
    const ACCESS: Access = Access::ScimWrite;
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
                .authenticate(&state.pool, header.as_deref(), client, A::ACCESS, now)
                .await
            {
                Ok(principal) => {
                    // For the access log: which token made this request.
                    req.extensions_mut().insert(Caller::of(&principal));
                    Ok(Authed {
                        principal,
                        _access: PhantomData,
                    })
                }
                Err(error) => {
                    match &error {
                        AuthError::Unauthorized(f) => {
                            log::info!("authentication refused: {}", f.as_str());
                            state.metrics.auth_failure(*f);
                        }
                        AuthError::Forbidden(_) => state.metrics.forbidden(),
                        AuthError::Store(_) | AuthError::Busy => {}
                    }
                    Err(HttpAuthError { error, flavor })
                }
            }
        })
    }
}
