//! `POST /.search` (RFC 7644 §3.4.3) at the root and on each resource type.
//! The body is a SearchRequest; the answer is the same ListResponse a GET
//! with those parameters would give.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::{groups, method_not_allowed, scim_json, users, Ctx, ScimBody};
use crate::http::authed::{Authed, ScimRead};
use crate::http::error::ScimFailure;
use crate::scim::discovery::list_response;
use crate::scim::error::ScimError;
use crate::scim::filter::{check_defined, restrict, Restricted};
use crate::scim::list::ListQuery;
use crate::scim::path::AttrPath;

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
/// (`sortBy` applies within each type). Each type is searched with the
/// filter as it sees it (`filter::restrict`): an attribute the type does not
/// define is absent on every one of its resources, so `userName eq "a" or
/// displayName eq "b"` finds the user and the group, and a type the filter
/// can match nothing of is not queried at all. An attribute neither type
/// defines is still `400 invalidFilter`. Index paging only: a cursor cannot
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
    let reg = &ctx.state.registry;
    let (user_rt, group_rt) = (users::user_type(reg)?, groups::group_type(reg)?);
    if let Some(f) = &q.filter {
        check_defined(f, &|p| reg.defines(user_rt, p) || reg.defines(group_rt, p))?;
    }
    if let Some(p) = &q.sort_by {
        if !reg.defines(user_rt, p) && !reg.defines(group_rt, p) {
            return Err(ScimError::invalid_value(format!(
                "sortBy: neither Users nor Groups have the attribute '{p}'"
            ))
            .into());
        }
    }
    let user_q = restricted(&q, &|p| reg.defines(user_rt, p));
    let group_q = restricted(&q, &|p| reg.defines(group_rt, p));

    let (offset, count) = (q.offset(), q.page_size());
    let totals_only = |q: &ListQuery| ListQuery {
        count: Some(0),
        start_index: 1,
        ..q.clone()
    };
    let user_total = match &user_q {
        Some(uq) => total(&users::search(&ctx, auth.org_id, totals_only(uq)).await?),
        None => 0,
    };
    let group_total = match &group_q {
        Some(gq) => total(&groups::search(&ctx, auth.org_id, totals_only(gq)).await?),
        None => 0,
    };
    let mut resources = Vec::new();
    // A type with a non-zero total was not skipped, so its query is there.
    if let Some(uq) = user_q.filter(|_| offset < user_total && count > 0) {
        let page = ListQuery {
            start_index: offset + 1,
            count: Some(count),
            ..uq
        };
        resources.extend(page_resources(
            users::search(&ctx, auth.org_id, page).await?,
        ));
    }
    let remaining = count - resources.len() as i64;
    let groups_left = offset + (resources.len() as i64) < user_total + group_total;
    if let Some(gq) = group_q.filter(|_| remaining > 0 && groups_left) {
        let page = ListQuery {
            start_index: (offset - user_total).max(0) + 1,
            count: Some(remaining),
            ..gq
        };
        resources.extend(page_resources(
            groups::search(&ctx, auth.org_id, page).await?,
        ));
    }
    Ok(scim_json(
        StatusCode::OK,
        &list_response(user_total + group_total, q.start_index, resources),
    ))
}

/// `q` with its filter and sortBy as one resource type sees them; None when nothing of
/// that type can match, so the type need not be queried.
fn restricted(q: &ListQuery, defined: &dyn Fn(&AttrPath) -> bool) -> Option<ListQuery> {
    let filter = match q.filter.as_ref().map(|f| restrict(f, defined)) {
        None | Some(Restricted::Everything) => None,
        Some(Restricted::Nothing) => return None,
        Some(Restricted::Filter(f)) => Some(f),
    };
    // A sortBy the type lacks is absent on all its resources: they keep the
    // tie-break order (id), as resources without the value would.
    let sort_by = q.sort_by.clone().filter(|p| defined(p));
    Some(ListQuery {
        filter,
        sort_by,
        ..q.clone()
    })
}

fn total(list: &Value) -> i64 {
    list["totalResults"].as_i64().unwrap_or(0)
}

fn page_resources(mut list: Value) -> Vec<Value> {
    match list["Resources"].take() {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}
