//! The endpoints of resource types an organization declared
//! (`/scim/v2/{endpoint}`, RFC 7644 §3.3–3.6): mounted after every built-in
//! route, so a declared type can never shadow one; the type is looked up in
//! the caller's registry, and an endpoint no type serves is a 404. Each
//! handler parses, makes one call into `service::custom`, and renders.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::resources::{read_response, written_response};
use super::{condition, fresh, method_not_allowed, resource_response, scim_json, Params, ScimBody};
use crate::http::authed::{note_refusal, AccessClass, Authed, ScimRead, ScimWrite};
use crate::http::error::HttpAuthError;
use crate::http::error::ScimFailure;
use crate::scim::list::ListQuery;
use crate::service::custom;
use crate::service::resources::parse_id;
use crate::service::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/{endpoint}/.search")
            .route(web::post().to(search))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{endpoint}")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{endpoint}/{id}")
            .route(web::get().to(get))
            .route(web::put().to(write))
            .route(web::patch().to(write))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

async fn list(
    auth: DeclaredAuthed<ScimRead>,
    ctx: Ctx,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_pairs(&params.0, ctx.profile())?;
    page(&ctx, auth.org_id, path.as_str(), &q).await
}

/// A page of the type served at `endpoint`, for `GET /{endpoint}` and
/// `POST /{endpoint}/.search`.
async fn page(
    ctx: &Ctx,
    org: uuid::Uuid,
    endpoint: &str,
    q: &ListQuery,
) -> Result<HttpResponse, ScimFailure> {
    fresh(ctx, move || async move {
        let rt = custom::type_at(ctx, endpoint)?;
        let page = custom::list(ctx, org, &rt, q).await?;
        Ok(scim_json(StatusCode::OK, &page.into_json()))
    })
    .await
}

async fn search(
    auth: DeclaredAuthed<ScimRead>,
    ctx: Ctx,
    path: web::Path<String>,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_search_request(&body.0, ctx.profile())?;
    page(&ctx, auth.org_id, path.as_str(), &q).await
}

async fn create(
    auth: DeclaredAuthed<ScimWrite>,
    ctx: Ctx,
    path: web::Path<String>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = &params.projection_only()?;
    let (ctx, actor, endpoint, body) = (&ctx, &auth.audit_actor(), path.as_str(), &body.0);
    fresh(ctx, move || async move {
        let rt = custom::type_at(ctx, endpoint)?;
        let w = custom::create(ctx, actor, &rt, body, p).await?;
        Ok(resource_response(
            StatusCode::CREATED,
            &w.json.unwrap_or_default(),
            w.version,
        ))
    })
    .await
}

async fn get(
    auth: DeclaredAuthed<ScimRead>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = &params.projection_only()?;
    let cond = condition(&req, header::IF_NONE_MATCH);
    let (endpoint, raw_id) = (&path.0, &path.1);
    let (ctx, org) = (&ctx, auth.org_id);
    fresh(ctx, move || {
        let cond = cond.clone();
        async move {
            let rt = custom::type_at(ctx, endpoint)?;
            let id = parse_id(raw_id)?;
            Ok(read_response(
                custom::get(ctx, org, &rt, id, p, cond).await?,
            ))
        }
    })
    .await
}

/// PUT replaces, PATCH modifies.
async fn write(
    auth: DeclaredAuthed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = &params.projection_only()?;
    let if_match = condition(&req, header::IF_MATCH);
    let patch = req.method() == Method::PATCH;
    let (endpoint, raw_id) = (&path.0, &path.1);
    let (ctx, actor, body) = (&ctx, &auth.audit_actor(), &body.0);
    fresh(ctx, move || {
        let if_match = if_match.clone();
        async move {
            let rt = custom::type_at(ctx, endpoint)?;
            let id = parse_id(raw_id)?;
            let edit = if patch {
                custom::Edit::Patch(body)
            } else {
                custom::Edit::Replace(body)
            };
            let w = custom::write(ctx, actor, &rt, (id, if_match), edit, p).await?;
            Ok(written_response(&w))
        }
    })
    .await
}

async fn delete(
    auth: DeclaredAuthed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimFailure> {
    let if_match = condition(&req, header::IF_MATCH);
    let (endpoint, raw_id) = (&path.0, &path.1);
    let (ctx, actor) = (&ctx, &auth.audit_actor());
    fresh(ctx, move || {
        let if_match = if_match.clone();
        async move {
            let rt = custom::type_at(ctx, endpoint)?;
            let id = parse_id(raw_id)?;
            custom::delete(ctx, actor, &rt, id, if_match).await?;
            Ok(HttpResponse::NoContent().finish())
        }
    })
    .await
}

/// The caller of a declared type's endpoint. Without a credential, the
/// answer is 401 where the `default` organization (whose view anonymous
/// callers get) serves the endpoint, as on any protected route, and the 404
/// an unknown path gets elsewhere; either way before the body is read.
pub struct DeclaredAuthed<A: AccessClass>(Authed<A>);

impl<A: AccessClass> std::ops::Deref for DeclaredAuthed<A> {
    type Target = Authed<A>;
    fn deref(&self) -> &Authed<A> {
        &self.0
    }
}

impl<A: AccessClass + 'static> actix_web::FromRequest for DeclaredAuthed<A> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_some() {
            let fut = Authed::<A>::from_request(req, payload);
            return Box::pin(async move { Ok(DeclaredAuthed(fut.await?)) });
        }
        let endpoint = req
            .match_info()
            .get("endpoint")
            .unwrap_or_default()
            .to_string();
        let state = req.app_data::<web::Data<crate::state::AppState>>().cloned();
        // Decided now when the default organization's registry is at hand,
        // so the refusal comes before any other extractor's (an empty body).
        if let Some(state) = &state {
            let org = crate::store::orgs::DEFAULT_ORG_ID;
            if let Some(reg) = state.registries.cached_registry(org) {
                let served = reg
                    .resource_type_by_endpoint(&format!("/{endpoint}"))
                    .is_some();
                let error = refusal(state, &endpoint, served);
                return Box::pin(async move { Err(error) });
            }
        }
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ScimFailure(crate::scim::error::ScimError::new(
                    500,
                    None,
                    "application state missing",
                ))
                .into());
            };
            Err(anonymous(&state, &endpoint).await)
        })
    }
}

async fn anonymous(state: &crate::state::AppState, endpoint: &str) -> actix_web::Error {
    let regs = std::sync::Arc::clone(&state.registries);
    let org = crate::store::orgs::DEFAULT_ORG_ID;
    let served =
        match crate::service::schemas::for_request(&state.pool, &regs, org, None, false).await {
            Ok((reg, _, _)) => reg
                .resource_type_by_endpoint(&format!("/{endpoint}"))
                .is_some(),
            // Not known: a 401 reveals nothing a 404 would not.
            Err(_) => true,
        };
    refusal(state, endpoint, served)
}

/// 401 where the endpoint is `served`, the 404 of an unknown path elsewhere.
fn refusal(state: &crate::state::AppState, endpoint: &str, served: bool) -> actix_web::Error {
    if !served {
        return ScimFailure(crate::scim::error::ScimError::not_found(format!(
            "no resource type is served at /{endpoint}"
        )))
        .into();
    }
    let error = crate::auth::AuthError::Unauthorized(crate::auth::Failure::Missing);
    note_refusal(state, &error);
    HttpAuthError {
        error,
        flavor: crate::http::error::Flavor::Scim,
    }
    .into()
}
