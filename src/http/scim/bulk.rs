//! `POST /Bulk` (RFC 7644 §3.7). Operations run in dependency order whatever
//! their order in the request: one whose data or path names `bulkId:X` runs
//! after the operation that creates X. Each operation is its own transaction,
//! through the same code as the single-resource endpoints, so a failed one
//! leaves nothing half-written and the others still run (until
//! `failOnErrors` is reached).

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::users::{self, Change};
use super::{groups, method_not_allowed, scim_json, Ctx, Projection, ScimBody};
use crate::http::authed::{Authed, ScimWrite};
use crate::http::error::{scim_error_body, server_fault_body, Flavor, ScimFailure};
use crate::scim::bulk::{self, BulkOp, Method};
use crate::scim::error::{ScimError, ScimType};
use crate::scim::etag::{etag, EtagCondition};
use crate::scim::path::AttrPath;
use crate::store::audit::Actor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Bulk")
            .route(web::post().to(handle))
            .default_service(web::to(method_not_allowed)),
    );
}

/// What a successful operation reports.
struct Done {
    status: u16,
    location: String,
    version: Option<i64>,
    /// The id of a created resource, for later `bulkId:` references.
    created: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Users,
    Groups,
}

fn parse_path(path: &str) -> Result<(Kind, Option<&str>), ScimError> {
    let mut parts = path.trim_start_matches('/').split('/');
    let kind = match parts.next() {
        Some(p) if p.eq_ignore_ascii_case("Users") => Kind::Users,
        Some(p) if p.eq_ignore_ascii_case("Groups") => Kind::Groups,
        _ => {
            return Err(ScimError::invalid_path(format!(
                "path {path:?} must be /Users, /Groups, /Users/{{id}} or /Groups/{{id}}"
            )))
        }
    };
    let id = parts.next().filter(|s| !s.is_empty());
    if parts.next().is_some() {
        return Err(ScimError::invalid_path(format!(
            "path {path:?} has too many segments"
        )));
    }
    Ok((kind, id))
}

/// Bulk results do not carry resources, so nothing costly is read for them.
fn lean() -> Projection {
    Projection {
        attributes: Vec::new(),
        excluded: vec![AttrPath::new("members"), AttrPath::new("groups")],
    }
}

async fn execute(
    ctx: &Ctx,
    org: &Actor,
    op: &BulkOp,
    data: Option<Value>,
    path: &str,
) -> Result<Done, ScimFailure> {
    let method = op.method.clone().map_err(|m| {
        ScimError::invalid_syntax(format!("method {m:?} must be POST, PUT, PATCH or DELETE"))
    })?;
    let (kind, id) = parse_path(path)?;
    let data = || {
        data.clone()
            .ok_or_else(|| ScimError::invalid_syntax(format!("{} needs data", method.as_str())))
    };
    let if_match = op.version.as_deref().map(EtagCondition::parse);
    let p = lean();
    let location = |id: &str| {
        format!(
            "{}/{}/{id}",
            ctx.base,
            if kind == Kind::Users {
                "Users"
            } else {
                "Groups"
            }
        )
    };
    match (method, id) {
        (Method::Post, None) => {
            if op.bulk_id.is_none() {
                return Err(ScimError::invalid_value(
                    "bulkId is required for POST (RFC 7644 §3.7)",
                )
                .into());
            }
            let w = match kind {
                Kind::Users => users::create_user(ctx, org, data()?, &p).await?,
                Kind::Groups => groups::create_group(ctx, org, data()?, &p).await?,
            };
            let id = w.json["id"].as_str().unwrap_or_default().to_string();
            Ok(Done {
                status: 201,
                location: location(&id),
                version: Some(w.version),
                created: Some(id),
            })
        }
        (Method::Post, Some(_)) => {
            Err(ScimError::invalid_path("POST goes to /Users or /Groups, without an id").into())
        }
        (_, None) => Err(ScimError::invalid_path(format!(
            "{} needs a resource id in its path",
            method.as_str()
        ))
        .into()),
        (method, Some(raw)) => {
            let id = super::resource_id(raw)?;
            let change = match method {
                Method::Put => Some(Change::Replace(data()?)),
                Method::Patch => Some(Change::Patch(data()?)),
                _ => None,
            };
            let (status, version) = match (change, kind) {
                (None, Kind::Users) => (204, {
                    users::delete_user(ctx, org, id, if_match).await?;
                    None
                }),
                (None, Kind::Groups) => (204, {
                    groups::delete_group(ctx, org, id, if_match).await?;
                    None
                }),
                (Some(c), Kind::Users) => (
                    200,
                    Some(
                        users::write_user(ctx, org, id, if_match, c, &p)
                            .await?
                            .version,
                    ),
                ),
                (Some(c), Kind::Groups) => (
                    200,
                    Some(groups::write_group(ctx, org, id, if_match, c, &p).await?.1),
                ),
            };
            Ok(Done {
                status,
                location: location(raw),
                version,
                created: None,
            })
        }
    }
}

fn result(op: &BulkOp, outcome: &Result<Done, ScimError>, request_id: &str) -> Value {
    let mut r = Map::new();
    r.insert(
        "method".into(),
        json!(op
            .method
            .as_ref()
            .map_or_else(|m| m.as_str(), |m| m.as_str())),
    );
    if let Some(b) = &op.bulk_id {
        r.insert("bulkId".into(), json!(b));
    }
    match outcome {
        Ok(done) => {
            r.insert("location".into(), json!(done.location));
            if let Some(v) = done.version {
                r.insert("version".into(), json!(etag(v)));
            }
            r.insert("status".into(), json!(done.status.to_string()));
        }
        // A server fault in one operation: as for a whole response, the
        // cause goes to the log and the client gets the request id.
        Err(e) if e.status >= 500 => {
            log::error!(
                "request {request_id}: bulk operation: {}: {}",
                e.status,
                e.detail
            );
            r.insert("status".into(), json!(e.status.to_string()));
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            r.insert(
                "response".into(),
                server_fault_body(Flavor::Scim, status, request_id),
            );
        }
        Err(e) => {
            r.insert("status".into(), json!(e.status.to_string()));
            r.insert("response".into(), scim_error_body(e));
        }
    }
    Value::Object(r)
}

/// Why a reference cannot be used, worded for the client.
fn unresolved(r: &str, pending: &HashSet<String>, failed: &HashSet<String>) -> ScimError {
    let why = if failed.contains(r) {
        "the operation that creates it failed"
    } else if pending.contains(r) {
        "it is part of a circular reference that cannot be broken"
    } else {
        "no POST operation in this request has that bulkId"
    };
    ScimError::new(
        409,
        Some(ScimType::InvalidValue),
        format!("bulkId:{r} cannot be resolved: {why}"),
    )
}

async fn handle(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let request = bulk::parse(&body.0)?;
    let ops = &request.ops;
    let org = auth.audit_actor();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut deferred: Vec<(usize, Vec<String>)> = Vec::new();
    let mut errors = 0;
    while !pending.is_empty() && request.fail_on_errors.is_none_or(|f| errors < f) {
        let waiting: HashSet<String> = pending
            .iter()
            .filter_map(|&i| ops[i].bulk_id.clone())
            .collect();
        let ready = pending.iter().position(|&i| {
            bulk::references(&ops[i])
                .iter()
                .all(|r| !waiting.contains(r))
        });
        // A cycle: break it at a group whose only open references are
        // members (RFC 7644 §3.7.1), or let the first operation fail.
        let (pos, defer) = match ready {
            Some(p) => (p, false),
            None => match pending
                .iter()
                .position(|&i| bulk::only_member_refs(&ops[i], &waiting))
            {
                Some(p) => (p, true),
                None => (0, false),
            },
        };
        let i = pending.remove(pos);
        let op = &ops[i];
        let mut data = op.data.clone();
        if defer {
            if let Some(d) = &op.data {
                let (rest, later) = bulk::defer_member_refs(d, &waiting);
                data = Some(rest);
                deferred.push((i, later));
            }
        }
        let waiting_now: HashSet<String> = pending
            .iter()
            .filter_map(|&j| ops[j].bulk_id.clone())
            .collect();
        let open: Vec<String> = data
            .iter()
            .flat_map(|d| {
                bulk::references(&BulkOp {
                    data: Some(d.clone()),
                    ..op.clone()
                })
            })
            .filter(|r| !ids.contains_key(r))
            .collect();
        let outcome = match open.first() {
            Some(r) => Err(unresolved(r, &waiting_now, &failed)),
            None => {
                let data = data.map(|d| bulk::substitute(&d, &ids));
                let path = bulk::substitute_path(&op.path, &ids);
                execute(&ctx, &org, op, data, &path).await.map_err(|f| f.0)
            }
        };
        match &outcome {
            Ok(done) => {
                if let (Some(b), Some(id)) = (&op.bulk_id, &done.created) {
                    ids.insert(b.clone(), id.clone());
                }
            }
            Err(_) => {
                errors += 1;
                if let Some(b) = &op.bulk_id {
                    failed.insert(b.clone());
                }
            }
        }
        results[i] = Some(result(op, &outcome, &ctx.request_id));
    }
    // Members deferred to break a cycle: added now that both sides exist.
    for (i, refs) in deferred {
        let (Some(group), members) = (
            ops[i].bulk_id.as_ref().and_then(|b| ids.get(b)),
            refs.iter()
                .filter_map(|r| ids.get(r))
                .map(|id| json!({"value": id}))
                .collect::<Vec<_>>(),
        ) else {
            continue;
        };
        if members.is_empty() {
            continue;
        }
        let Ok(group) = Uuid::parse_str(group) else {
            continue;
        };
        let patch = json!({
            "schemas": [crate::scim::patch::PATCH_OP_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": members}]
        });
        match groups::write_group(&ctx, &org, group, None, Change::Patch(patch), &lean()).await {
            Ok((_, version)) => {
                if let Some(Value::Object(r)) = results[i].as_mut() {
                    r.insert("version".into(), json!(etag(version)));
                }
            }
            Err(ScimFailure(e)) => results[i] = Some(result(&ops[i], &Err(e), &ctx.request_id)),
        }
    }
    Ok(scim_json(
        StatusCode::OK,
        &bulk::response(results.into_iter().flatten().collect()),
    ))
}
