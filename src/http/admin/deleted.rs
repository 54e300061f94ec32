//! `/api/v1/deleted`: the organization's soft-deleted resources, to list,
//! restore (`POST …/{id}/restore`) or purge now (`DELETE …/{id}`).
//! Scope `all`: a restore writes, a purge destroys.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::bad;
use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::service::deleted::{self, RestoreError};
use crate::service::Requester;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/deleted", web::get().to(list))
        .route("/deleted/{id}/restore", web::post().to(restore))
        .route("/deleted/{id}", web::delete().to(purge));
}

impl From<RestoreError> for ApiError {
    fn from(e: RestoreError) -> Self {
        match e {
            RestoreError::NotFound => ApiError::NotFound(e.to_string()),
            RestoreError::Taken(_) => ApiError::Conflict(e.to_string()),
            RestoreError::Store(s) => ApiError::Store(s),
        }
    }
}

fn deleted_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no such deleted resource".into()))
}

async fn list(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (mut resource_type, mut cursor, mut limit) = (None, None, 50_i64);
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    for (k, v) in pairs.into_inner() {
        match k.as_str() {
            "resource_type" => resource_type = Some(v),
            "cursor" => {
                cursor = Some(
                    crate::service::keyset::decode(&v)
                        .ok_or_else(|| bad("cursor", "not a cursor this endpoint gave"))?,
                );
            }
            "limit" => {
                limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=500).contains(l))
                    .ok_or_else(|| bad("limit", "must be a whole number from 1 to 500"))?;
            }
            other => return Err(bad(other, "unknown parameter")),
        }
    }
    let page = deleted::list(&state.pool, auth.org_id, resource_type, cursor, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn restore(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = deleted_id(&path)?;
    let restored = deleted::restore(
        &state.pool,
        &state.tx_retries,
        &Requester::of(&auth),
        id,
        state.clock.now(),
    )
    .await?;
    log::info!(
        "{} {id} restored by {}",
        restored.resource_type,
        auth.actor()
    );
    Ok(HttpResponse::Ok().json(restored))
}

async fn purge(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = deleted_id(&path)?;
    let gone = deleted::purge(
        &state.pool,
        &state.tx_retries,
        &Requester::of(&auth),
        id,
        state.clock.now(),
    )
    .await?;
    if !gone {
        return Err(ApiError::NotFound("no such deleted resource".into()));
    }
    log::info!("deleted resource {id} purged by {}", auth.actor());
    Ok(HttpResponse::NoContent().finish())
}
