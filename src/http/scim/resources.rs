//! `/Users` and `/Groups` (RFC 7644 §3.3–3.6): one set of handlers, the
//! resource type chosen by the route. Each parses, makes one call into
//! `service::resources` or `service::query`, and renders.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::{
    condition, method_not_allowed, resource_response, scim_json, Mounted, Params, ScimBody,
};
use crate::http::authed::{Authed, ScimRead, ScimWrite};
use crate::http::error::ScimFailure;
use crate::http::scim::fresh;
use crate::scim::etag::etag;
use crate::scim::list::ListQuery;
use crate::scim::resource::Kind;
use crate::service::query::{self, ResolvedQuery};
use crate::service::resources::{self, parse_id, Change, Read, Update, Written};
use crate::service::Ctx;

/// A route's resource type, as a type parameter of the handlers.
pub trait Endpoint: 'static {
    const KIND: Kind;
}

pub struct Users;
pub struct Groups;

impl Endpoint for Users {
    const KIND: Kind = Kind::User;
}

impl Endpoint for Groups {
    const KIND: Kind = Kind::Group;
}

pub fn configure(cfg: &mut web::ServiceConfig, mounted: &mut Mounted) {
    routes::<Users>(cfg);
    routes::<Groups>(cfg);
    // What `routes` mounts: list (filter, sort, paging), PATCH, and handlers
    // that take `condition` and answer with `etag`.
    mounted.list = true;
    mounted.patch = true;
    mounted.conditional = true;
}

fn routes<E: Endpoint>(cfg: &mut web::ServiceConfig) {
    let base = format!("/{}", E::KIND.endpoint());
    cfg.service(
        web::resource(base.clone())
            .route(web::get().to(list::<E>))
            .route(web::post().to(create::<E>))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource(format!("{base}/{{id}}"))
            .route(web::get().to(get::<E>))
            .route(web::put().to(write::<E>))
            .route(web::patch().to(write::<E>))
            .route(web::delete().to(delete::<E>))
            .default_service(web::to(method_not_allowed)),
    );
}

/// What a PUT or PATCH body asks for, by the request's method.
pub fn change(req: &HttpRequest, body: ScimBody) -> Change {
    if req.method() == Method::PATCH {
        Change::Patch(body.0)
    } else {
        Change::Replace(body.0)
    }
}

/// 200 with the resource, or 204 with only its ETag when the service
/// returned none (a PATCH of a large group).
pub fn written_response(w: &Written) -> HttpResponse {
    match &w.json {
        Some(json) => resource_response(StatusCode::OK, json, w.version),
        None => HttpResponse::NoContent()
            .insert_header((header::ETAG, etag(w.version)))
            .finish(),
    }
}

/// A read's answer: the resource, or 304 (RFC 7644 §3.14).
pub fn read_response(r: Read) -> HttpResponse {
    match r {
        Read::Found { json, version } => resource_response(StatusCode::OK, &json, version),
        Read::NotModified(version) => HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(version)))
            .finish(),
    }
}

async fn create<E: Endpoint>(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let (ctx, actor, body, p) = (&ctx, &auth.audit_actor(), &body.0, &p);
    fresh(ctx, move || async move {
        let w = resources::create(ctx, actor, E::KIND, body.clone(), p).await?;
        let json = w.json.unwrap_or_default();
        Ok(resource_response(StatusCode::CREATED, &json, w.version))
    })
    .await
}

async fn get<E: Endpoint>(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let cond = condition(&req, header::IF_NONE_MATCH);
    let (id, org, ctx, p) = (parse_id(&path)?, auth.org_id, &ctx, &p);
    fresh(ctx, move || {
        let cond = cond.clone();
        async move {
            Ok(read_response(
                resources::get(ctx, org, E::KIND, id, p, cond).await?,
            ))
        }
    })
    .await
}

/// PUT replaces (RFC 7644 §3.5.1), PATCH modifies (§3.5.2).
async fn write<E: Endpoint>(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let change = change(&req, body);
    let (id, if_match) = (parse_id(&path)?, condition(&req, header::IF_MATCH));
    let (ctx, actor, change, p) = (&ctx, &auth.audit_actor(), &change, &p);
    fresh(ctx, move || {
        let update = Update::new(E::KIND, id, if_match.clone(), change.clone());
        async move {
            Ok(written_response(
                &resources::write(ctx, actor, update, p).await?,
            ))
        }
    })
    .await
}

async fn delete<E: Endpoint>(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimFailure> {
    let if_match = condition(&req, header::IF_MATCH);
    let (id, ctx, actor) = (parse_id(&path)?, &ctx, &auth.audit_actor());
    fresh(ctx, move || {
        let if_match = if_match.clone();
        async move {
            resources::delete(ctx, actor, E::KIND, id, if_match).await?;
            Ok(HttpResponse::NoContent().finish())
        }
    })
    .await
}

async fn list<E: Endpoint>(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    list_page(
        &ctx,
        auth.org_id,
        E::KIND,
        &ListQuery::from_pairs(&params.0, ctx.profile())?,
    )
    .await
}

/// A list of one resource type, as `GET /{endpoint}` and `POST
/// /{endpoint}/.search` answer it; resolved against the registry inside
/// [`fresh`], so a stale one starts it over.
pub async fn list_page(
    ctx: &Ctx,
    org: uuid::Uuid,
    kind: Kind,
    q: &ListQuery,
) -> Result<HttpResponse, ScimFailure> {
    fresh(ctx, move || async move {
        let q = ResolvedQuery::new(ctx, org, kind, q)?;
        Ok(scim_json(
            StatusCode::OK,
            &query::list(ctx, q).await?.into_json(),
        ))
    })
    .await
}
