//! `/api/v1/tokens`: create, list, get, revoke.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::{self, audit, StoreError};
use crate::tokens::{self, CreateTokenRequest, IssueError, TokenView};

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
    let now = state.clock.now();
    let new = body.into_inner().check(now).map_err(ApiError::Validation)?;
    let (org, actor, audit_actor) = (auth.org_id, auth.actor(), auth.audit_actor());
    let max = state.config.max_tokens_per_org;
    let created = store::in_tx(&state.pool, &state.tx_retries, move |conn| {
        tokens::check_limit(conn, org, max, now).map_err(|e| match e {
            tokens::LimitError::Store(s) => s,
            limit => StoreError::Rejected(crate::scim::error::ScimError::new(
                409,
                None,
                limit.to_string(),
            )),
        })?;
        let created = tokens::issue(conn, org, new.clone(), &actor, now).map_err(|e| match e {
            IssueError::Store(s) => s,
            IssueError::Crypto(c) | IssueError::Refused(c) => StoreError::Unavailable(c),
        })?;
        let id = created.view.id.to_string();
        audit::record(conn, &audit_actor, "token.create", "Token", &id, 201, now)?;
        Ok(created)
    })
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
    let org = auth.org_id;
    let rows = store::run(&state.pool, move |conn| store::tokens::list(conn, org)).await?;
    let now = state.clock.now();
    let views: Vec<TokenView> = rows.into_iter().map(|r| TokenView::new(r, now)).collect();
    Ok(HttpResponse::Ok().json(views))
}

async fn get(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (org, id) = (auth.org_id, token_id(&path)?);
    let row = store::run(&state.pool, move |conn| store::tokens::get(conn, org, id))
        .await
        .map_err(not_found)?;
    Ok(HttpResponse::Ok().json(TokenView::new(row, state.clock.now())))
}

async fn revoke(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (token_id(&path)?, state.clock.now());
    let actor = auth.audit_actor();
    store::in_tx(&state.pool, &state.tx_retries, move |conn| {
        tokens::revoke(conn, &actor, id, now)
    })
    .await
    .map_err(not_found)?;
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
        return Err(ApiError::Validation(vec![crate::service::FieldError {
            field: "grace_seconds".into(),
            message: "must be between 0 and 86400".into(),
        }]));
    }
    let (id, now) = (token_id(&path)?, state.clock.now());
    let actor = auth.audit_actor();
    let rotated = store::in_tx(&state.pool, &state.tx_retries, move |conn| {
        tokens::rotate(conn, &actor, id, grace, now).map_err(|e| match e {
            IssueError::Store(s) => s,
            IssueError::Crypto(c) | IssueError::Refused(c) => StoreError::Unavailable(c),
        })
    })
    .await
    .map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("no such token".into()),
        StoreError::Conflict(_) => {
            ApiError::Conflict("a revoked or expired token cannot be rotated".into())
        }
        other => other.into(),
    })?;
    log::info!(
        "token {id} rotated by {} (grace {grace_seconds}s)",
        auth.actor()
    );
    Ok(HttpResponse::Ok().json(rotated))
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("no such token".into()),
        other => other.into(),
    }
}
