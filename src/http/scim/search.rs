//! `POST /.search` (RFC 7644 §3.4.3) at the root and on each resource type.
//! The body is a SearchRequest; the answer is the same ListResponse a GET
//! with those parameters would give.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::resources::{Endpoint, Groups, Users};
use super::{method_not_allowed, scim_json, ScimBody};
use crate::http::authed::{Authed, ScimRead};
use crate::http::error::ScimFailure;
use crate::http::scim::fresh;
use crate::scim::list::ListQuery;
use crate::service::{search, Ctx};

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/.search", web::post().to(search_all)),
        ("/Users/.search", web::post().to(search_one::<Users>)),
        ("/Groups/.search", web::post().to(search_one::<Groups>)),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn search_one<E: Endpoint>(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_search_request(&body.0, ctx.profile())?;
    super::resources::list_page(&ctx, auth.org_id, E::KIND, &q).await
}

/// Across Users and Groups (see `service::search`).
async fn search_all(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = &ListQuery::from_search_request(&body.0, ctx.profile())?;
    let (ctx, org) = (&ctx, auth.org_id);
    fresh(ctx, move || async move {
        let page = search::search_all(ctx, org, q.clone()).await?;
        Ok(scim_json(StatusCode::OK, &page.into_json()))
    })
    .await
}
