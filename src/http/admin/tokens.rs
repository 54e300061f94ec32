//! `/api/v1/tokens`: create, list, get, revoke, rotate; each handler one
//! call into `service::tokens`.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::service::tokens::{self, CreateTokenRequest};
use crate::service::{FieldError, Requester};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tokens")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .route("/tokens/{id}/rotate", web::post().to(rotate))
    .service(
        web::resource("/tokens/{id}")
            .route(web::get().to(get))
            .route(web::delete().to(revoke)),
    );
}

/// A malformed id names no token: 404, like an unknown one.
fn token_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no such token".into()))
}

async fn create(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = tokens::create(
        &state.pool,
        &state.tx_retries,
        &Requester::of(&auth),
        body.into_inner(),
        state.config.max_tokens_per_org,
        state.clock.now(),
    )
    .await?;
    log::info!("token {} created by {}", created.view.id, auth.actor());
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tokens/{}", created.view.id)))
        .json(created))
}

async fn list(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let views = tokens::list(&state.pool, auth.org_id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(views))
}

async fn get(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = token_id(&path)?;
    let view = tokens::get(&state.pool, auth.org_id, id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn revoke(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = token_id(&path)?;
    let by = Requester::of(&auth);
    tokens::revoke(&state.pool, &state.tx_retries, &by, id, state.clock.now()).await?;
    log::info!("token {id} revoked by {}", auth.actor());
    Ok(HttpResponse::NoContent().finish())
}

/// The body of `POST /api/v1/tokens/{id}/rotate`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    #[serde(default)]
    pub grace_seconds: Option<i64>,
}

async fn rotate(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<RotateRequest>>,
) -> Result<HttpResponse, ApiError> {
    let grace_seconds = body.and_then(|b| b.into_inner().grace_seconds).unwrap_or(0);
    let grace = chrono::Duration::seconds(grace_seconds);
    if grace_seconds < 0 || grace > tokens::MAX_GRACE {
        return Err(ApiError::Validation(vec![FieldError {
            field: "grace_seconds".into(),
            message: "must be between 0 and 86400".into(),
        }]));
    }
    let id = token_id(&path)?;
    let by = Requester::of(&auth);
    let now = state.clock.now();
    let rotated = tokens::rotate(&state.pool, &state.tx_retries, &by, id, grace, now).await?;
    log::info!(
        "token {id} rotated by {} (grace {grace_seconds}s)",
        auth.actor()
    );
    Ok(HttpResponse::Ok().json(rotated))
}
