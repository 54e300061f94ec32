//! `/Me` (RFC 7644 §3.11) for connect-scoped tokens: the `x-user-email`
//! header names the person; `service::me` resolves them and keeps them to
//! what they may change about themselves.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::resources::{change, read_response};
use super::{condition, resource_response, Params, ScimBody};
use crate::http::authed::{Authed, ConnectRead, ConnectWrite};
use crate::http::error::ScimFailure;
use crate::http::scim::fresh;
use crate::service::{me, Ctx};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Me")
            .route(web::get().to(get))
            .route(web::put().to(write))
            .route(web::patch().to(write))
            .route(web::post().to(refuse))
            .route(web::delete().to(refuse))
            .default_service(web::to(super::method_not_allowed)),
    );
}

fn email(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("x-user-email")
        .and_then(|v| v.to_str().ok())
}

async fn get(
    auth: Authed<ConnectRead>,
    ctx: Ctx,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let cond = condition(&req, header::IF_NONE_MATCH);
    let (ctx, actor, email, p) = (&ctx, &auth.audit_actor(), email(&req), &p);
    fresh(ctx, move || {
        let cond = cond.clone();
        async move { Ok(read_response(me::get(ctx, actor, email, p, cond).await?)) }
    })
    .await
}

/// PUT or PATCH /Me.
async fn write(
    auth: Authed<ConnectWrite>,
    ctx: Ctx,
    req: HttpRequest,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let change = change(&req, body);
    let if_match = condition(&req, header::IF_MATCH);
    let (ctx, actor, email, change, p) = (&ctx, &auth.audit_actor(), email(&req), &change, &p);
    fresh(ctx, move || {
        let (if_match, change) = (if_match.clone(), change.clone());
        async move {
            let w = me::write(ctx, actor, email, if_match, change, p).await?;
            Ok(resource_response(
                StatusCode::OK,
                &w.json.unwrap_or_default(),
                w.version,
            ))
        }
    })
    .await
}

async fn refuse(_auth: Authed<ConnectRead>) -> Result<HttpResponse, ScimFailure> {
    Err(me::refuse_create_or_delete().into())
}
