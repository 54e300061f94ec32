//! `/Users` (RFC 7644 §3.3–3.6).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

use super::{
    condition, method_not_allowed, not_modified, resource_id, resource_response, scim_json, Ctx,
    Params, Projection, ScimBody,
};
use crate::auth::hash;
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
use crate::store::users::{self, GroupRef, StoredUser, UserWrite};
use crate::store::{self, query, StoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Users")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/Users/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

pub fn user_type(reg: &Registry) -> Result<&ResourceTypeDef, ScimError> {
    reg.resource_type("User")
        .ok_or_else(|| ScimError::new(500, None, "User resource type is not registered"))
}

/// The representation of `u`, projected as the request asked.
pub fn to_json(
    ctx: &Ctx,
    u: &StoredUser,
    groups: Option<&[GroupRef]>,
    p: &Projection,
) -> Result<Value, ScimError> {
    let reg = &ctx.state.registry;
    let id = u.id.to_string();
    let info = ResourceInfo {
        id: &id,
        resource_type: "User",
        created: u.meta.created,
        last_modified: u.meta.last_modified,
        version: u.meta.version,
        location: format!("{}/Users/{id}", ctx.base),
    };
    let refs: Option<Vec<Reference>> = groups.map(|gs| {
        gs.iter()
            .map(|g| Reference {
                value: g.id.to_string(),
                reference: format!("{}/Groups/{}", ctx.base, g.id),
                display: Some(g.display.clone()),
                kind: if g.direct { "direct" } else { "indirect" },
            })
            .collect()
    });
    let full = render(&u.doc, &info, "groups", refs.as_deref());
    Ok(project(
        reg,
        user_type(reg)?,
        &full,
        &p.attributes,
        &p.excluded,
    ))
}

pub fn wants_groups(ctx: &Ctx, p: &Projection) -> Result<bool, ScimError> {
    let reg = &ctx.state.registry;
    Ok(needs_attribute(
        reg,
        user_type(reg)?,
        "groups",
        &p.attributes,
        &p.excluded,
    ))
}

/// Removes the password from a validated document and returns its hash:
/// only the hash is stored, never in the document. `pre` is the password
/// this write was seen to carry and its hash, computed before the
/// transaction ([`prehash`]); another password is hashed here.
fn take_password(doc: &mut Value, pre: Option<&Prehashed>) -> Result<Option<String>, ScimError> {
    let Some(pw) = doc.as_object_mut().and_then(|m| m.remove("password")) else {
        return Ok(None);
    };
    let pw = pw.as_str().unwrap_or_default();
    if let Some(p) = pre.filter(|p| p.plain == pw) {
        return Ok(Some(p.hash.clone()));
    }
    hash::hash(pw)
        .map(Some)
        .map_err(|e| ScimError::new(500, None, e.to_string()))
}

/// A password a write carries, with its argon2id hash.
#[derive(Clone)]
struct Prehashed {
    plain: String,
    hash: String,
}

/// The password in a PUT body, or the last one a PATCH writes, hashed on
/// the blocking pool before the transaction: argon2 (~40 ms, 19 MiB) then
/// holds neither the user's row lock nor an async worker.
async fn prehash(
    change: &Change,
    ops: Option<&[crate::scim::patch::PatchOp]>,
) -> Result<Option<Prehashed>, ScimFailure> {
    let password_in = |v: &Value| -> Option<String> {
        let m = v.as_object()?;
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("password"))
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    let plain = match (change, ops) {
        (_, Some(ops)) => ops.iter().rev().find_map(|op| match &op.path {
            Some(p) if p.attr().attr_is("password") && p.attr().sub.is_none() => {
                op.value.as_ref()?.as_str().map(str::to_string)
            }
            Some(_) => None,
            None => password_in(op.value.as_ref()?),
        }),
        (Change::Replace(body), None) | (Change::Patch(body), None) => password_in(body),
    };
    let Some(plain) = plain else {
        return Ok(None);
    };
    let hashed = web::block(move || hash::hash(&plain).map(|hash| Prehashed { plain, hash }))
        .await
        .map_err(|e| ScimError::new(503, None, format!("blocking pool: {e}")))?
        .map_err(|e| ScimError::new(500, None, e.to_string()))?;
    Ok(Some(hashed))
}

/// The result of a write: the projected representation and its version.
pub struct Written {
    pub json: Value,
    pub version: i64,
}

/// POST /Users, also used by Bulk.
pub async fn create_user(
    ctx: &Ctx,
    actor: &Actor,
    body: Value,
    p: &Projection,
) -> Result<Written, ScimFailure> {
    let now = ctx.state.clock.now();
    let actor = actor.clone();
    // Everything that needs no stored state (limits, validation, the
    // password's argon2) happens before a connection is taken, on the
    // blocking pool.
    let checked = ctx.state.registry.clone();
    let (doc, password_hash) = web::block(move || {
        let rt = user_type(&checked)?;
        crate::scim::limits::check_resource(rt, &body, checked.max_values())?;
        let mut doc = validate(&checked, rt, &body, WriteMode::Create)?;
        let password_hash = take_password(&mut doc, None)?;
        Ok::<_, ScimError>((doc, password_hash))
    })
    .await
    .map_err(|e| ScimError::new(503, None, format!("blocking pool: {e}")))??;
    let stored = store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        let user = users::create(
            conn,
            actor.org_id,
            UserWrite {
                doc: doc.clone(),
                password_hash: password_hash.clone(),
            },
            now,
        )?;
        audit::record(
            conn,
            &actor,
            "user.create",
            "User",
            &user.id.to_string(),
            201,
            now,
        )?;
        Ok(user)
    })
    .await?;
    let json = to_json(ctx, &stored, Some(&[]), p)?;
    Ok(Written {
        json,
        version: stored.meta.version,
    })
}

/// PUT /Users/{id} (replace) or PATCH /Users/{id}, also used by Bulk. For a
/// PATCH the pure engine applies the operations to the stored document
/// inside the transaction that holds the row lock; either way the result is
/// validated as a whole resource before it is stored.
/// Checks a write before it is stored: gets the stored and the new document
/// (the latter validated, password still in it). `/Me` uses one to keep a
/// person to the attributes they may change about themselves.
pub type Guard = fn(&Value, &Value) -> Result<(), ScimError>;

pub async fn write_user(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    if_match: Option<EtagCondition>,
    change: Change,
    p: &Projection,
) -> Result<Written, ScimFailure> {
    write_user_guarded(ctx, actor, id, if_match, change, p, None).await
}

pub async fn write_user_guarded(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    if_match: Option<EtagCondition>,
    change: Change,
    p: &Projection,
    guard: Option<Guard>,
) -> Result<Written, ScimFailure> {
    let ops = match &change {
        Change::Patch(body) => Some(crate::scim::patch::parse_request(body)?),
        Change::Replace(_) => None,
    };
    check_limits(
        &ctx.state.registry,
        user_type(&ctx.state.registry)?,
        &change,
        ops.as_deref(),
    )?;
    let pre = prehash(&change, ops.as_deref()).await?;
    let reg = ctx.state.registry.clone();
    let now = ctx.state.clock.now();
    let with_groups = wants_groups(ctx, p)?;
    let (actor, org) = (actor.clone(), actor.org_id);
    let action = match change {
        Change::Replace(_) => "user.replace",
        Change::Patch(_) => "user.patch",
    };
    let (user, groups) = store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        let user = users::update_with(conn, org, id, if_match.as_ref(), now, |current| {
            let rt = user_type(&reg)?;
            let patched;
            let input = match (&change, &ops) {
                (Change::Patch(_), Some(ops)) => {
                    patched = crate::scim::patch::apply(&reg, rt, &current.doc, ops)?.doc;
                    &patched
                }
                (Change::Replace(body), _) | (Change::Patch(body), None) => body,
            };
            let mode = WriteMode::Replace {
                existing: &current.doc,
            };
            let mut doc = validate(&reg, rt, input, mode)?;
            if let Some(g) = guard {
                g(&current.doc, &doc)?;
            }
            let password_hash = take_password(&mut doc, pre.as_ref())?;
            Ok(UserWrite { doc, password_hash })
        })?;
        audit::record(conn, &actor, action, "User", &id.to_string(), 200, now)?;
        let groups = groups_if(conn, org, id, with_groups)?;
        Ok((user, groups))
    })
    .await?;
    let json = to_json(ctx, &user, groups.as_deref(), p)?;
    Ok(Written {
        json,
        version: user.meta.version,
    })
}

/// DELETE /Users/{id}, also used by Bulk.
pub async fn delete_user(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    if_match: Option<EtagCondition>,
) -> Result<(), ScimFailure> {
    let (actor, now) = (actor.clone(), ctx.state.clock.now());
    store::in_tx(&ctx.state.pool, &ctx.state.tx_retries, move |conn| {
        users::delete(conn, actor.org_id, id, if_match.as_ref(), now)?;
        audit::record(
            conn,
            &actor,
            "user.delete",
            "User",
            &id.to_string(),
            204,
            now,
        )
    })
    .await?;
    Ok(())
}

/// The size limits of a PUT body or of PATCH operations, checked before the
/// transaction that locks the row (see `scim::limits`).
pub fn check_limits(
    reg: &Registry,
    rt: &ResourceTypeDef,
    change: &Change,
    ops: Option<&[crate::scim::patch::PatchOp]>,
) -> Result<(), ScimError> {
    match (change, ops) {
        (_, Some(ops)) => crate::scim::limits::check_ops(rt, ops, reg.max_values()),
        (Change::Replace(body), None) | (Change::Patch(body), None) => {
            crate::scim::limits::check_resource(rt, body, reg.max_values())
        }
    }
}

/// What a PUT or PATCH brings.
pub enum Change {
    Replace(Value),
    Patch(Value),
}

async fn create(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let w = create_user(&ctx, &auth.audit_actor(), body.0, &p).await?;
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
    let with_groups = wants_groups(&ctx, &p)?;
    let (user, groups) = store::run(&ctx.state.pool, move |conn| {
        let user = users::get(conn, org, id)?;
        let groups = if with_groups {
            users::groups_of(conn, org, &[id])?
                .remove(&id)
                .or(Some(Vec::new()))
        } else {
            None
        };
        Ok((user, groups))
    })
    .await?;
    if let Some(resp) = not_modified(&req, user.meta.version) {
        return Ok(resp);
    }
    let json = to_json(&ctx, &user, groups.as_deref(), &p)?;
    Ok(resource_response(StatusCode::OK, &json, user.meta.version))
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
    let written = write_user(&ctx, &auth.audit_actor(), id, if_match, change, &p).await?;
    Ok(resource_response(
        StatusCode::OK,
        &written.json,
        written.version,
    ))
}

async fn delete(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimFailure> {
    let if_match = condition(&req, header::IF_MATCH);
    delete_user(&ctx, &auth.audit_actor(), resource_id(&path)?, if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn groups_if(
    conn: &mut store::PgConnection,
    org: Uuid,
    id: Uuid,
    wanted: bool,
) -> Result<Option<Vec<GroupRef>>, StoreError> {
    if !wanted {
        return Ok(None);
    }
    Ok(Some(
        users::groups_of(conn, org, &[id])?
            .remove(&id)
            .unwrap_or_default(),
    ))
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

/// A ListResponse of users for `q` (list and `.search` alike): one query for
/// the page, one for the groups of all its users when they are returned.
pub async fn search(ctx: &Ctx, org: Uuid, q: ListQuery) -> Result<Value, ScimFailure> {
    let projection = Projection {
        attributes: q.attributes.clone(),
        excluded: q.excluded.clone(),
    };
    let with_groups = wants_groups(ctx, &projection)?;
    let (reg, now) = (ctx.state.registry.clone(), ctx.state.clock.now());
    let cursor_mode = q.cursor.is_some();
    let start_index = q.start_index;
    let (page, mut groups) = store::read_snapshot(&ctx.state.pool, move |conn| {
        let page = query::list_users(conn, org, &reg, &q, now)?;
        let groups = if with_groups {
            let ids: Vec<_> = page.items.iter().map(|u| u.id).collect();
            Some(users::groups_of(conn, org, &ids)?)
        } else {
            None
        };
        Ok((page, groups))
    })
    .await?;
    let mut resources = Vec::with_capacity(page.items.len());
    for u in &page.items {
        let g = groups.as_mut().map(|m| m.remove(&u.id).unwrap_or_default());
        resources.push(to_json(ctx, u, g.as_deref(), &projection)?);
    }
    Ok(super::page_response(
        page,
        resources,
        cursor_mode,
        start_index,
    ))
}
