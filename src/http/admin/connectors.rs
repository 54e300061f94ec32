//! `/api/v1/connectors` (create, list, get, change, delete, mint tokens),
//! `/api/v1/org` (the organization's policies) and
//! `/api/v1/ownership/transfer`; each handler one call into
//! `service::connectors`. Scope `all`, like tokens: a connector carries
//! tokens.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::bad;
use crate::http::authed::{AdminAll, Authed};
use crate::http::error::ApiError;
use crate::service::connectors::{
    self, ConnectorError, ConnectorTokenRequest, CreateConnectorRequest, Env, OrgSettingsRequest,
    PatchConnectorRequest, TransferRequest,
};
use crate::service::Requester;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/connectors")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/connectors/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(
        web::resource("/connectors/{id}/tokens")
            .route(web::post().to(mint_token))
            .route(web::get().to(tokens)),
    )
    .route("/connectors/{id}/requests", web::get().to(requests))
    .service(
        web::resource("/org")
            .route(web::get().to(org))
            .route(web::patch().to(configure_org)),
    )
    .route("/ownership/transfer", web::post().to(transfer))
    .route("/provenance/{type}/{id}", web::get().to(provenance));
}

async fn provenance(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, raw) = path.into_inner();
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound("no such resource".into()))?;
    let view = connectors::provenance(&state.pool, auth.org_id, kind, id)
        .await
        .map_err(|e| match e {
            ConnectorError::NotFound => ApiError::NotFound("no such resource".into()),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(view))
}

impl From<ConnectorError> for ApiError {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::Invalid(fields) => ApiError::Validation(fields),
            ConnectorError::NotFound => ApiError::NotFound(e.to_string()),
            ConnectorError::Exists(_) | ConnectorError::Owns { .. } => {
                ApiError::Conflict(e.to_string())
            }
            ConnectorError::Token(t) => t.into(),
            ConnectorError::Store(s) => ApiError::Store(s),
        }
    }
}

/// The SCIM base URL connectors are given: `SCIMD_PUBLIC_URL` when set,
/// else the address this request reached.
fn scim_url(state: &AppState, req: &HttpRequest) -> String {
    let root = match &state.config.public_url {
        Some(u) => u.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{}/scim/v2", root.trim_end_matches('/'))
}

fn env<'a>(state: &'a AppState, req: &HttpRequest) -> Env<'a> {
    Env {
        pool: &state.pool,
        retries: &state.tx_retries,
        scim_url: scim_url(state, req),
        max_tokens: state.config.max_tokens_per_org,
    }
}

/// A malformed id names no connector: 404, like an unknown one.
fn connector_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no such connector".into()))
}

async fn create(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateConnectorRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = connectors::create(
        &env(&state, &req),
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!(
        "connector {} ({}) created by {}",
        created.view.id,
        created.view.name,
        auth.actor()
    );
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/connectors/{}", created.view.id),
        ))
        .json(created))
}

async fn list(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let views = connectors::list(&env(&state, &req), auth.org_id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(views))
}

async fn get(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    let view = connectors::get(&env(&state, &req), auth.org_id, id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn update(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PatchConnectorRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    let view = connectors::update(
        &env(&state, &req),
        &Requester::of(&auth),
        id,
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("connector {id} changed by {}", auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn delete(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    connectors::delete(
        &env(&state, &req),
        &Requester::of(&auth),
        id,
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("connector {id} deleted by {}", auth.actor());
    Ok(HttpResponse::NoContent().finish())
}

async fn mint_token(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: Option<web::Json<ConnectorTokenRequest>>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    let created = connectors::mint_token(
        &env(&state, &req),
        &Requester::of(&auth),
        id,
        body.map(web::Json::into_inner).unwrap_or_default(),
        state.clock.now(),
    )
    .await?;
    log::info!(
        "token {} for connector {id} created by {}",
        created.view.id,
        auth.actor()
    );
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tokens/{}", created.view.id)))
        .json(created))
}

async fn tokens(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    // 404 for a connector of another organization, before its tokens.
    connectors::ensure(&state.pool, auth.org_id, id).await?;
    let views = crate::service::tokens::list(&state.pool, auth.org_id, state.clock.now()).await?;
    let mine: Vec<_> = views
        .into_iter()
        .filter(|t| t.connector_id == Some(id))
        .collect();
    Ok(HttpResponse::Ok().json(mine))
}

/// `?status=4xx&method=PATCH&resource_id=…&since=…&until=…&cursor=…&limit=…`.
fn request_query(req: &HttpRequest) -> Result<crate::store::request_log::RequestQuery, ApiError> {
    let mut q = crate::store::request_log::RequestQuery {
        limit: 50,
        ..Default::default()
    };
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let time = |field: &str, v: &str| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| bad(field, "must be an RFC 3339 date-time"))
    };
    for (k, v) in pairs.into_inner() {
        match k.as_str() {
            "status" => {
                q.status_class = Some(match v.as_str() {
                    "2xx" => 2,
                    "3xx" => 3,
                    "4xx" => 4,
                    "5xx" => 5,
                    _ => return Err(bad("status", "must be 2xx, 3xx, 4xx or 5xx")),
                });
            }
            "method" => {
                let m = v.to_ascii_uppercase();
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                    return Err(bad("method", "must be GET, POST, PUT, PATCH or DELETE"));
                }
                q.method = Some(m);
            }
            "resource_id" => {
                q.resource_id =
                    Some(Uuid::parse_str(&v).map_err(|_| bad("resource_id", "must be a UUID"))?);
            }
            "since" => q.since = Some(time("since", &v)?),
            "until" => q.until = Some(time("until", &v)?),
            "cursor" => {
                q.before = Some(
                    crate::service::keyset::decode(&v)
                        .ok_or_else(|| bad("cursor", "not a cursor this endpoint gave"))?,
                );
            }
            "limit" => {
                q.limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=500).contains(l))
                    .ok_or_else(|| bad("limit", "must be a whole number from 1 to 500"))?;
            }
            other => return Err(bad(other, "unknown parameter")),
        }
    }
    Ok(q)
}

async fn requests(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connector_id(&path)?;
    let q = request_query(&req)?;
    // 404 for a connector of another organization, before its log.
    connectors::ensure(&state.pool, auth.org_id, id).await?;
    let page = crate::service::request_log::list(&state.pool, auth.org_id, id, q).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn org(auth: Authed<AdminAll>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let view = connectors::org_settings(&state.pool, auth.org_id).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn configure_org(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<OrgSettingsRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = connectors::configure_org(
        &state.pool,
        &state.tx_retries,
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.registries.refresh(&state.pool, auth.org_id).await;
    log::info!("organization {} configured by {}", view.name, auth.actor());
    Ok(HttpResponse::Ok().json(view))
}

async fn transfer(
    auth: Authed<AdminAll>,
    state: web::Data<AppState>,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let done = connectors::transfer(
        &state.pool,
        &state.tx_retries,
        &Requester::of(&auth),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    log::info!(
        "{} resources transferred by {}",
        done.transferred,
        auth.actor()
    );
    Ok(HttpResponse::Ok().json(done))
}
