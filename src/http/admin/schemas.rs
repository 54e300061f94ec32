//! `/api/v1/schemas`: declare, list, read, replace and remove the extension
//! schemas of the caller's organization, and `/api/v1/settings`: what it
//! does with attributes nobody declared; each handler one call into
//! `service::schemas`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::service::custom::{self, TypeRequest};
use crate::service::schemas::{self, DeclareRequest, SchemaError, Settings};
use crate::service::{FieldError, Requester};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/schemas")
            .route(web::post().to(add))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/schemas/{urn}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::delete().to(remove)),
    )
    .service(
        web::resource("/resource-types")
            .route(web::post().to(add_type))
            .route(web::get().to(list_types)),
    )
    .service(
        web::resource("/resource-types/{name}")
            .route(web::get().to(get_type))
            .route(web::put().to(replace_type))
            .route(web::delete().to(remove_type)),
    )
    .service(
        web::resource("/settings")
            .route(web::get().to(settings))
            .route(web::put().to(set_settings)),
    );
}

impl From<SchemaError> for ApiError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::Invalid(fields) => ApiError::Validation(fields),
            SchemaError::NotFound(_) => ApiError::NotFound(e.to_string()),
            SchemaError::Exists(_) | SchemaError::HoldsData(_) | SchemaError::Limit(_) => {
                ApiError::Conflict(e.to_string())
            }
            SchemaError::Store(s) => ApiError::Store(s),
        }
    }
}

/// `?force=true` (or `false`, or absent); anything else is refused rather
/// than read as "no", since forcing removes stored values.
fn force(req: &HttpRequest) -> Result<bool, ApiError> {
    let mut force = false;
    for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "force" {
            return Err(ApiError::Validation(vec![FieldError {
                field: key.chars().take(64).collect(),
                message: "unknown parameter; only `force` is accepted".into(),
            }]));
        }
        force = match value {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(ApiError::Validation(vec![FieldError {
                    field: "force".into(),
                    message: "must be true or false".into(),
                }]))
            }
        };
    }
    Ok(force)
}

async fn add(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<DeclareRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = schemas::add(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("schema {} declared by {}", view.id, auth.actor());
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/schemas/{}", view.id)))
        .json(view))
}

async fn list(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let views = schemas::list(&state.pool, auth.org_id).await?;
    Ok(HttpResponse::Ok().json(views))
}

async fn get(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = schemas::get(&state.pool, auth.org_id, &path).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn replace(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DeclareRequest>,
) -> Result<HttpResponse, ApiError> {
    let force = force(&req)?;
    let view = schemas::replace(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        &path,
        body.into_inner(),
        force,
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("schema {} replaced by {}", view.id, auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn remove(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let force = force(&req)?;
    schemas::remove(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        &path,
        force,
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("schema {} removed by {}", path.as_str(), auth.actor());
    Ok(HttpResponse::NoContent().finish())
}

async fn settings(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(schemas::settings(&state.pool, auth.org_id).await?))
}

async fn set_settings(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<Settings>,
) -> Result<HttpResponse, ApiError> {
    let set = schemas::set_settings(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!(
        "undeclared_attributes set to {} by {}",
        set.undeclared_attributes,
        auth.actor()
    );
    Ok(HttpResponse::Ok().json(set))
}

async fn add_type(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<TypeRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = custom::add_type(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("resource type {} declared by {}", view.name, auth.actor());
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/resource-types/{}", view.name)))
        .json(view))
}

async fn list_types(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(custom::list_types(&state.pool, auth.org_id).await?))
}

async fn get_type(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(custom::get_type(&state.pool, auth.org_id, &path).await?))
}

async fn replace_type(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<TypeRequest>,
) -> Result<HttpResponse, ApiError> {
    let force = force(&req)?;
    let view = custom::replace_type(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        &path,
        body.into_inner(),
        force,
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("resource type {} replaced by {}", view.name, auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn remove_type(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let force = force(&req)?;
    custom::remove_type(
        &schemas::Env::of(&state),
        &Requester::of(&auth),
        &path,
        force,
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!(
        "resource type {} removed by {}",
        path.as_str(),
        auth.actor()
    );
    Ok(HttpResponse::NoContent().finish())
}
