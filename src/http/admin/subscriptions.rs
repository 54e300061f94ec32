//! `/api/v1/subscriptions`: where an organization's change events go
//! (issue 18). Each handler is one call into
//! `service::events::subscriptions`. Scope `all`: a subscription sends the
//! organization's data to a URL, like a token lets someone read it.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::service::events::subscriptions::{
    self, CreateRequest, Env, PatchRequest, ReplayRequest, SubscriptionError,
};
use crate::service::Requester;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/subscriptions")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/subscriptions/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .route("/subscriptions/{id}/replay", web::post().to(replay))
    .route(
        "/subscriptions/{id}/rotate-secret",
        web::post().to(rotate_secret),
    )
    .route(
        "/subscriptions/{id}/dead-letters",
        web::get().to(dead_letters),
    );
}

impl From<SubscriptionError> for ApiError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::Invalid(fields) => ApiError::Validation(fields),
            SubscriptionError::NotFound => ApiError::NotFound(e.to_string()),
            SubscriptionError::Store(s) => ApiError::Store(s),
        }
    }
}

fn env(state: &AppState) -> Env<'_> {
    Env {
        pool: &state.pool,
        retries: &state.tx_retries,
        sealer: &state.events.sealer,
        allowed: &state.events.allowed,
    }
}

/// A malformed id names no subscription: 404, like an unknown one.
fn subscription_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no such subscription".into()))
}

async fn create(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = subscriptions::create(
        &env(&state),
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    log::info!(
        "subscription {} ({}) created by {}",
        created.view.id,
        created.view.format,
        auth.actor()
    );
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/subscriptions/{}", created.view.id),
        ))
        .json(created))
}

async fn list(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subscriptions::list(&state.pool, auth.org_id).await?))
}

async fn get(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    Ok(HttpResponse::Ok().json(subscriptions::get(&state.pool, auth.org_id, id).await?))
}

async fn dead_letters(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    Ok(HttpResponse::Ok().json(subscriptions::dead_letters(&state.pool, auth.org_id, id).await?))
}

async fn update(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<PatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    let view = subscriptions::update(
        &env(&state),
        &Requester::of(&auth),
        id,
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    log::info!("subscription {id} changed by {}", auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn replay(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReplayRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    let view = subscriptions::replay(
        &env(&state),
        &Requester::of(&auth),
        id,
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    log::info!("subscription {id} replayed by {}", auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn rotate_secret(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    let created =
        subscriptions::rotate_secret(&env(&state), &Requester::of(&auth), id, state.clock.now())
            .await?;
    log::info!("subscription {id}: secret rotated by {}", auth.actor());
    Ok(HttpResponse::Ok().json(created))
}

async fn delete(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = subscription_id(&path)?;
    subscriptions::delete(&env(&state), &Requester::of(&auth), id, state.clock.now()).await?;
    log::info!("subscription {id} deleted by {}", auth.actor());
    Ok(HttpResponse::NoContent().finish())
}
