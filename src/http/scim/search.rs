//! `POST /.search` (RFC 7644 §3.4.3) at the root and on each resource type.
//! The body is a SearchRequest; the answer is the same ListResponse a GET
//! with those parameters would give.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::{groups, method_not_allowed, scim_json, users, Ctx, ScimBody};
use crate::auth::extract::{Authed, ScimRead};
use crate::http::error::ScimFailure;
use crate::scim::discovery::list_response;
use crate::scim::error::ScimError;
use crate::scim::list::ListQuery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/.search", web::post().to(search_all)),
        ("/Users/.search", web::post().to(search_users)),
        ("/Groups/.search", web::post().to(search_groups)),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn search_users(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_search_request(&body.0)?;
    Ok(scim_json(
        StatusCode::OK,
        &users::search(&ctx, auth.org_id, q).await?,
    ))
}

async fn search_groups(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_search_request(&body.0)?;
    Ok(scim_json(
        StatusCode::OK,
        &groups::search(&ctx, auth.org_id, q).await?,
    ))
}

/// Across Users and Groups: users first, then groups, each in its own order
/// (`sortBy` applies within each type). A filter naming an attribute only one
/// type has matches nothing of the other. Index paging only: a cursor cannot
/// span two resource types, so `cursor` here is a 400.
async fn search_all(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_search_request(&body.0)?;
    if q.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "cursor paging is not available on /.search across resource types; search /Users/.search or /Groups/.search",
        )
        .into());
    }
    let (offset, count) = (q.offset(), q.page_size());
    let totals_only = |q: &ListQuery| ListQuery {
        count: Some(0),
        start_index: 1,
        ..q.clone()
    };

    let user_total = part_total(users::search(&ctx, auth.org_id, totals_only(&q)).await)?;
    let group_total = part_total(groups::search(&ctx, auth.org_id, totals_only(&q)).await)?;
    let mut resources = Vec::new();
    if offset < user_total && count > 0 {
        let page = ListQuery {
            start_index: offset + 1,
            count: Some(count),
            ..q.clone()
        };
        resources.extend(part_resources(
            users::search(&ctx, auth.org_id, page).await,
        )?);
    }
    let remaining = count - resources.len() as i64;
    if remaining > 0 && offset + (resources.len() as i64) < user_total + group_total {
        let group_offset = (offset - user_total).max(0);
        let page = ListQuery {
            start_index: group_offset + 1,
            count: Some(remaining),
            ..q.clone()
        };
        resources.extend(part_resources(
            groups::search(&ctx, auth.org_id, page).await,
        )?);
    }
    Ok(scim_json(
        StatusCode::OK,
        &list_response(user_total + group_total, q.start_index, resources),
    ))
}

/// A type whose schema does not have the filtered attribute contributes
/// nothing rather than failing the whole search.
fn part_total(r: Result<Value, ScimFailure>) -> Result<i64, ScimFailure> {
    match r {
        Ok(v) => Ok(v["totalResults"].as_i64().unwrap_or(0)),
        Err(ScimFailure(e)) if is_unknown_attribute(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

fn part_resources(r: Result<Value, ScimFailure>) -> Result<Vec<Value>, ScimFailure> {
    match r {
        Ok(mut v) => Ok(match v["Resources"].take() {
            Value::Array(a) => a,
            _ => Vec::new(),
        }),
        Err(ScimFailure(e)) if is_unknown_attribute(&e) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn is_unknown_attribute(e: &ScimError) -> bool {
    e.status == 400 && e.detail.contains("unknown attribute")
}
