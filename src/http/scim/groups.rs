//! `/Groups` (RFC 7644 §3.3–3.6). Members live in rows; a request that does
//! not return `members` never reads them.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

use super::users::{Change, Written};
use super::{
    condition, method_not_allowed, not_modified, resource_id, resource_response, scim_json, Ctx,
    Params, Projection, ScimBody,
};
use crate::http::authed::{Authed, ScimRead, ScimWrite};
use crate::http::error::ScimFailure;
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::list::ListQuery;
use crate::scim::resource::{render, Reference, ResourceInfo};
use crate::scim::schema::{
    needs_attribute, project, validate, Registry, ResourceTypeDef, WriteMode,
};
use crate::store::audit::{self, Actor};
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

/// POST /Groups, also used by Bulk.
pub async fn create_group(
    ctx: &Ctx,
    actor: &Actor,
    body: Value,
    p: &Projection,
) -> Result<Written, ScimFailure> {
    let reg = &ctx.state.registry;
    let now = ctx.state.clock.now();
    let with_members = wants_members(ctx, p)?;
    let (actor, org) = (actor.clone(), actor.org_id);
    let rt = group_type(reg)?;
    crate::scim::limits::check_resource(rt, &body, reg.max_values())?;
    let mut doc = validate(reg, rt, &body, WriteMode::Create)?;
    let members = take_members(&mut doc)?;
    let group = store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        let created = groups::create(conn, org, doc.clone(), &members, now)?;
        audit::record(
            conn,
            &actor,
            "group.create",
            "Group",
            &created.id.to_string(),
            201,
            now,
        )?;
        if with_members {
            return groups::get(conn, org, created.id, true);
        }
        Ok(created)
    })
    .await?;
    let json = to_json(ctx, &group, p)?;
    Ok(Written {
        json,
        version: group.meta.version,
    })
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

/// PUT or PATCH /Groups/{id}, also used by Bulk. `None` means the group
/// changed but is too large to return (answer 204, see
/// [`PATCH_INLINE_MEMBERS`]); the version is still reported.
pub async fn write_group(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    if_match: Option<EtagCondition>,
    change: Change,
    p: &Projection,
) -> Result<(Option<Value>, i64), ScimFailure> {
    let ops = match &change {
        Change::Patch(body) => Some(crate::scim::patch::parse_request(body)?),
        Change::Replace(_) => None,
    };
    super::users::check_limits(
        &ctx.state.registry,
        group_type(&ctx.state.registry)?,
        &change,
        ops.as_deref(),
    )?;
    let reg = ctx.state.registry.clone();
    let now = ctx.state.clock.now();
    let asked_for_members = p.attributes.iter().any(|a| a.attr_is("members"));
    let with_members = wants_members(ctx, p)?;
    let is_replace = matches!(change, Change::Replace(_));
    let (actor, org) = (actor.clone(), actor.org_id);
    let action = if is_replace {
        "group.replace"
    } else {
        "group.patch"
    };
    let group = store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        let updated = groups::update_with(conn, org, id, if_match.as_ref(), now, |current| {
            let rt = group_type(&reg)?;
            let mode = WriteMode::Replace {
                existing: &current.doc,
            };
            match (&change, &ops) {
                (Change::Patch(_), Some(ops)) => {
                    let outcome = crate::scim::patch::apply(&reg, rt, &current.doc, ops)?;
                    Ok(GroupWrite {
                        doc: validate(&reg, rt, &outcome.doc, mode)?,
                        members: members_change(outcome.members)?,
                    })
                }
                (Change::Replace(body), _) | (Change::Patch(body), None) => {
                    let mut doc = validate(&reg, rt, body, mode)?;
                    let members = take_members(&mut doc)?;
                    Ok(GroupWrite {
                        doc,
                        members: MembersChange::Replace(members),
                    })
                }
            }
        })?;
        audit::record(conn, &actor, action, "Group", &id.to_string(), 200, now)?;
        // A PUT returns the members it was sent; a PATCH of a large group
        // skips reading them unless asked (see PATCH_INLINE_MEMBERS).
        let inline = with_members
            && (is_replace || updated.member_count <= PATCH_INLINE_MEMBERS || asked_for_members);
        if inline {
            return groups::get(conn, org, id, true);
        }
        Ok(updated)
    })
    .await?;
    if with_members && group.members.is_none() {
        return Ok((None, group.meta.version));
    }
    Ok((Some(to_json(ctx, &group, p)?), group.meta.version))
}

/// DELETE /Groups/{id}, also used by Bulk.
pub async fn delete_group(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    if_match: Option<EtagCondition>,
) -> Result<(), ScimFailure> {
    let (actor, now) = (actor.clone(), ctx.state.clock.now());
    store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        groups::delete(conn, actor.org_id, id, if_match.as_ref(), now)?;
        audit::record(
            conn,
            &actor,
            "group.delete",
            "Group",
            &id.to_string(),
            204,
            now,
        )
    })
    .await?;
    Ok(())
}

fn written_response(written: (Option<Value>, i64)) -> HttpResponse {
    match written {
        (Some(json), version) => resource_response(StatusCode::OK, &json, version),
        (None, version) => HttpResponse::NoContent()
            .insert_header((header::ETAG, crate::scim::etag::etag(version)))
            .finish(),
    }
}

async fn create(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let w = create_group(&ctx, &auth.audit_actor(), body.0, &p).await?;
    Ok(resource_response(StatusCode::CREATED, &w.json, w.version))
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
    if let Some(resp) = not_modified(&req, group.meta.version) {
        return Ok(resp);
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
    write(auth, ctx, req, path, params, Change::Replace(body.0)).await
}

async fn patch(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    write(auth, ctx, req, path, params, Change::Patch(body.0)).await
}

async fn write(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
    params: Params,
    change: Change,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let if_match = condition(&req, header::IF_MATCH);
    let id = resource_id(&path)?;
    let written = write_group(&ctx, &auth.audit_actor(), id, if_match, change, &p).await?;
    Ok(written_response(written))
}

async fn delete(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimFailure> {
    let if_match = condition(&req, header::IF_MATCH);
    delete_group(&ctx, &auth.audit_actor(), resource_id(&path)?, if_match).await?;
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
    let page = store::read_snapshot(&ctx.state.pool, move |conn| {
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
