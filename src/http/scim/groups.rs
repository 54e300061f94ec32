//! `/Groups` (RFC 7644 §3.3–3.6). Members live in rows; a request that does
//! not return `members` never reads them.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

use super::{
    condition, method_not_allowed, resource_id, resource_response, scim_json, Ctx, Params,
    Projection, ScimBody,
};
use crate::auth::extract::{Authed, ScimRead, ScimWrite};
use crate::http::error::ScimFailure;
use crate::scim::error::ScimError;
use crate::scim::list::ListQuery;
use crate::scim::resource::{render, Reference, ResourceInfo};
use crate::scim::schema::{
    needs_attribute, project, validate, Registry, ResourceTypeDef, WriteMode,
};
use crate::store::groups::{self, GroupWrite, MembersChange, StoredGroup};
use crate::store::members::MemberKind;
use crate::store::{self, query};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Groups")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/Groups/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

pub fn group_type(reg: &Registry) -> Result<&ResourceTypeDef, ScimError> {
    reg.resource_type("Group")
        .ok_or_else(|| ScimError::new(500, None, "Group resource type is not registered"))
}

pub fn to_json(ctx: &Ctx, g: &StoredGroup, p: &Projection) -> Result<Value, ScimError> {
    let reg = &ctx.state.registry;
    let id = g.id.to_string();
    let info = ResourceInfo {
        id: &id,
        resource_type: "Group",
        created: g.meta.created,
        last_modified: g.meta.last_modified,
        version: g.meta.version,
        location: format!("{}/Groups/{id}", ctx.base),
    };
    let refs: Option<Vec<Reference>> = g.members.as_ref().map(|ms| {
        ms.iter()
            .map(|m| Reference {
                value: m.id.to_string(),
                reference: format!(
                    "{}/{}/{}",
                    ctx.base,
                    if m.kind == MemberKind::Group {
                        "Groups"
                    } else {
                        "Users"
                    },
                    m.id
                ),
                display: m.display.clone(),
                kind: m.kind.as_str(),
            })
            .collect()
    });
    let full = render(&g.doc, &info, "members", refs.as_deref());
    Ok(project(
        reg,
        group_type(reg)?,
        &full,
        &p.attributes,
        &p.excluded,
    ))
}

pub fn wants_members(ctx: &Ctx, p: &Projection) -> Result<bool, ScimError> {
    let reg = &ctx.state.registry;
    Ok(needs_attribute(
        reg,
        group_type(reg)?,
        "members",
        &p.attributes,
        &p.excluded,
    ))
}

/// Splits the validated document into the stored document and member ids.
fn take_members(doc: &mut Value) -> Result<Vec<Uuid>, ScimError> {
    let Some(members) = doc.as_object_mut().and_then(|m| m.remove("members")) else {
        return Ok(Vec::new());
    };
    members
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let v = m.get("value").and_then(Value::as_str).unwrap_or_default();
            Uuid::parse_str(v).map_err(|_| {
                ScimError::invalid_value(format!(
                    "member {v} is not a user or group of this organization"
                ))
            })
        })
        .collect()
}

async fn create(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let reg = ctx.state.registry.clone();
    let (org, now) = (auth.org_id, ctx.state.clock.now());
    let with_members = wants_members(&ctx, &p)?;
    let group = store::in_tx(&ctx.state.pool, move |conn| {
        let mut doc = validate(&reg, group_type(&reg)?, &body.0, WriteMode::Create)?;
        let members = take_members(&mut doc)?;
        let created = groups::create(conn, org, doc, &members, now)?;
        if with_members {
            return groups::get(conn, org, created.id, true);
        }
        Ok(created)
    })
    .await?;
    let json = to_json(&ctx, &group, &p)?;
    Ok(resource_response(
        StatusCode::CREATED,
        &json,
        group.meta.version,
    ))
}

async fn get(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let (org, id) = (auth.org_id, resource_id(&path)?);
    let with_members = wants_members(&ctx, &p)?;
    let group = store::run(&ctx.state.pool, move |conn| {
        groups::get(conn, org, id, with_members)
    })
    .await?;
    if condition(&req, header::IF_NONE_MATCH).is_some_and(|c| c.matches(group.meta.version)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, crate::scim::etag::etag(group.meta.version)))
            .finish());
    }
    let json = to_json(&ctx, &group, &p)?;
    Ok(resource_response(StatusCode::OK, &json, group.meta.version))
}

async fn replace(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let (org, id, now) = (auth.org_id, resource_id(&path)?, ctx.state.clock.now());
    let if_match = condition(&req, header::IF_MATCH);
    let reg = ctx.state.registry.clone();
    let with_members = wants_members(&ctx, &p)?;
    let group = store::in_tx(&ctx.state.pool, move |conn| {
        groups::update_with(conn, org, id, if_match.as_ref(), now, |current| {
            let mode = WriteMode::Replace {
                existing: &current.doc,
            };
            let mut doc = validate(&reg, group_type(&reg)?, &body.0, mode)?;
            let members = take_members(&mut doc)?;
            Ok(GroupWrite {
                doc,
                members: MembersChange::Replace(members),
            })
        })?;
        groups::get(conn, org, id, with_members)
    })
    .await?;
    let json = to_json(&ctx, &group, &p)?;
    Ok(resource_response(StatusCode::OK, &json, group.meta.version))
}

/// Above this many members a PATCH answers 204 rather than the whole group
/// (RFC 7644 §3.5.2 allows either), unless `attributes` asks for members:
/// otherwise adding one member to a 100,000-member group would cost as much
/// as reading all of them.
const PATCH_INLINE_MEMBERS: i64 = 1000;

/// Turns the engine's member delta into a store change. Ids that are not
/// UUIDs cannot be members: adding one is an error, removing one is a no-op.
fn members_change(delta: crate::scim::patch::MemberDelta) -> Result<MembersChange, ScimError> {
    let parse_all = |ids: &[String]| -> Result<Vec<Uuid>, ScimError> {
        ids.iter()
            .map(|v| {
                Uuid::parse_str(v).map_err(|_| {
                    ScimError::invalid_value(format!(
                        "member {v} is not a user or group of this organization"
                    ))
                })
            })
            .collect()
    };
    let remove: Vec<Uuid> = delta
        .remove
        .iter()
        .filter_map(|v| Uuid::parse_str(v).ok())
        .collect();
    let add = parse_all(&delta.add)?;
    Ok(match delta.replace {
        Some(list) => {
            let mut ids = parse_all(&list)?;
            ids.extend(add);
            ids.retain(|i| !remove.contains(i));
            MembersChange::Replace(ids)
        }
        None if add.is_empty() && remove.is_empty() => MembersChange::Keep,
        None => MembersChange::Delta { add, remove },
    })
}

async fn patch(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let ops = crate::scim::patch::parse_request(&body.0)?;
    let (org, id, now) = (auth.org_id, resource_id(&path)?, ctx.state.clock.now());
    let if_match = condition(&req, header::IF_MATCH);
    let reg = ctx.state.registry.clone();
    let asked_for_members = p.attributes.iter().any(|a| a.attr_is("members"));
    let with_members = wants_members(&ctx, &p)?;
    let group = store::in_tx(&ctx.state.pool, move |conn| {
        let updated = groups::update_with(conn, org, id, if_match.as_ref(), now, |current| {
            let rt = group_type(&reg)?;
            let outcome = crate::scim::patch::apply(&reg, rt, &current.doc, &ops)?;
            let mode = WriteMode::Replace {
                existing: &current.doc,
            };
            let doc = validate(&reg, rt, &outcome.doc, mode)?;
            Ok(GroupWrite {
                doc,
                members: members_change(outcome.members)?,
            })
        })?;
        let inline =
            with_members && (updated.member_count <= PATCH_INLINE_MEMBERS || asked_for_members);
        if inline {
            return groups::get(conn, org, id, true);
        }
        Ok(updated)
    })
    .await?;
    if with_members && group.members.is_none() {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ETAG, crate::scim::etag::etag(group.meta.version)))
            .finish());
    }
    let json = to_json(&ctx, &group, &p)?;
    Ok(resource_response(StatusCode::OK, &json, group.meta.version))
}

async fn delete(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimFailure> {
    let (org, id) = (auth.org_id, resource_id(&path)?);
    let if_match = condition(&req, header::IF_MATCH);
    store::in_tx(&ctx.state.pool, move |conn| {
        groups::delete(conn, org, id, if_match.as_ref())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list(
    auth: Authed<ScimRead>,
    ctx: Ctx,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let q = ListQuery::from_pairs(&params.0)?;
    Ok(scim_json(
        StatusCode::OK,
        &search(&ctx, auth.org_id, q).await?,
    ))
}

/// A ListResponse of groups for `q`; members are read (for the whole page in
/// one query) only when they are returned.
pub async fn search(ctx: &Ctx, org: Uuid, q: ListQuery) -> Result<Value, ScimFailure> {
    let projection = Projection {
        attributes: q.attributes.clone(),
        excluded: q.excluded.clone(),
    };
    let with_members = wants_members(ctx, &projection)?;
    let (reg, now) = (ctx.state.registry.clone(), ctx.state.clock.now());
    let cursor_mode = q.cursor.is_some();
    let start_index = q.start_index;
    let page = store::run(&ctx.state.pool, move |conn| {
        query::list_groups(conn, org, &reg, &q, now, with_members)
    })
    .await?;
    let resources = page
        .items
        .iter()
        .map(|g| to_json(ctx, g, &projection))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::page_response(
        page,
        resources,
        cursor_mode,
        start_index,
    ))
}
