//! `POST /Bulk` (RFC 7644 §3.7): runs the operations in the order
//! `scim::bulk::Planner` gives. Each operation is its own transaction,
//! through the same write path as the single-resource endpoints, so a
//! failed one leaves nothing half-written and the others still run (until
//! `failOnErrors` is reached).

use serde_json::{json, Value};
use uuid::Uuid;

use super::resources::{self, Change, Update};
use super::{Ctx, Error, Result};
use crate::scim::bulk::{BulkOp, BulkRequest, Method, Planner, Step};
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::path::AttrPath;
use crate::scim::resource::{Kind, Projection};
use crate::store::audit::Actor;

/// What a successful operation reports.
#[derive(Debug)]
pub struct Done {
    pub status: u16,
    pub location: String,
    pub version: Option<i64>,
}

/// One operation's result, in request order.
pub struct OpResult<'r> {
    pub op: &'r BulkOp,
    pub outcome: Result<Done>,
}

/// What a Bulk operation's path names: Users or Groups, or a resource
/// type the organization declared.
enum Target {
    Builtin(Kind),
    Declared(crate::scim::schema::ResourceTypeDef),
}

fn parse_path<'p>(
    ctx: &Ctx,
    path: &'p str,
) -> std::result::Result<(Target, Option<&'p str>), ScimError> {
    let mut parts = path.trim_start_matches('/').split('/');
    let first = parts.next().unwrap_or_default();
    let target = match Kind::from_endpoint(first) {
        Some(kind) => Target::Builtin(kind),
        None => match super::custom::type_at(ctx, first) {
            Ok(rt) => Target::Declared(rt),
            Err(_) => {
                return Err(ScimError::invalid_path(format!(
                    "path {path:?} must be /Users, /Groups or a declared resource type's endpoint, with or without an id"
                )))
            }
        },
    };
    let id = parts.next().filter(|s| !s.is_empty());
    if parts.next().is_some() {
        return Err(ScimError::invalid_path(format!(
            "path {path:?} has too many segments"
        )));
    }
    Ok((target, id))
}

/// Bulk results do not carry resources, so nothing costly is read for them.
fn lean() -> Projection {
    Projection {
        attributes: Vec::new(),
        excluded: vec![AttrPath::new("members"), AttrPath::new("groups")],
    }
}

/// Runs one operation; returns what it reports and, for a POST, the id it
/// created.
async fn execute(
    ctx: &Ctx,
    actor: &Actor,
    op: &BulkOp,
    data: Option<Value>,
    path: &str,
) -> Result<(Done, Option<String>)> {
    let method = op.method.clone().map_err(|m| {
        ScimError::invalid_syntax(format!("method {m:?} must be POST, PUT, PATCH or DELETE"))
    })?;
    let (target, id) = parse_path(ctx, path)?;
    let kind = match target {
        Target::Builtin(kind) => kind,
        Target::Declared(rt) => {
            return execute_declared(ctx, actor, op, method, data, &rt, id).await
        }
    };
    let data = || {
        data.clone().ok_or_else(|| {
            Error::from(ScimError::invalid_syntax(format!(
                "{} needs data",
                method.as_str()
            )))
        })
    };
    let if_match = op.version.as_deref().map(EtagCondition::parse);
    let p = lean();
    let location = |id: &str| format!("{}/{}/{id}", ctx.base, kind.endpoint());
    match (method, id) {
        (Method::Post, None) => {
            if op.bulk_id.is_none() {
                return Err(ScimError::invalid_value(
                    "bulkId is required for POST (RFC 7644 §3.7)",
                )
                .into());
            }
            let w = resources::create(ctx, actor, kind, data()?, &p).await?;
            let id = w.id.to_string();
            let done = Done {
                status: 201,
                location: location(&id),
                version: Some(w.version),
            };
            Ok((done, Some(id)))
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
            let id = resources::parse_id(raw)?;
            let change = match method {
                Method::Put => Some(Change::Replace(data()?)),
                Method::Patch => Some(Change::Patch(data()?)),
                Method::Delete | Method::Post => None,
            };
            let (status, version) = match change {
                None => {
                    resources::delete(ctx, actor, kind, id, if_match).await?;
                    (204, None)
                }
                Some(c) => {
                    let w = resources::write(ctx, actor, Update::new(kind, id, if_match, c), &p)
                        .await?;
                    (200, Some(w.version))
                }
            };
            let done = Done {
                status,
                location: location(raw),
                version,
            };
            Ok((done, None))
        }
    }
}

/// [`execute`] for a declared resource type's resources.
async fn execute_declared(
    ctx: &Ctx,
    actor: &Actor,
    op: &BulkOp,
    method: Method,
    data: Option<Value>,
    rt: &crate::scim::schema::ResourceTypeDef,
    id: Option<&str>,
) -> Result<(Done, Option<String>)> {
    use super::custom::{self, Edit};
    let needs_data = || {
        data.clone().ok_or_else(|| {
            Error::from(ScimError::invalid_syntax(format!(
                "{} needs data",
                method.as_str()
            )))
        })
    };
    let if_match = op.version.as_deref().map(EtagCondition::parse);
    let p = lean();
    let location = |id: &str| format!("{}{}/{id}", ctx.base, rt.endpoint);
    match (&method, id) {
        (Method::Post, None) => {
            if op.bulk_id.is_none() {
                return Err(ScimError::invalid_value(
                    "bulkId is required for POST (RFC 7644 §3.7)",
                )
                .into());
            }
            let w = custom::create(ctx, actor, rt, &needs_data()?, &p).await?;
            let id = w.id.to_string();
            let done = Done {
                status: 201,
                location: location(&id),
                version: Some(w.version),
            };
            Ok((done, Some(id)))
        }
        (Method::Post, Some(_)) => Err(ScimError::invalid_path(format!(
            "POST goes to {}, without an id",
            rt.endpoint
        ))
        .into()),
        (_, None) => Err(ScimError::invalid_path(format!(
            "{} needs a resource id in its path",
            method.as_str()
        ))
        .into()),
        (Method::Delete, Some(raw)) => {
            let id = resources::parse_id(raw)?;
            custom::delete(ctx, actor, rt, id, if_match).await?;
            let done = Done {
                status: 204,
                location: location(raw),
                version: None,
            };
            Ok((done, None))
        }
        (Method::Put | Method::Patch, Some(raw)) => {
            let id = resources::parse_id(raw)?;
            let body = needs_data()?;
            let edit = if method == Method::Patch {
                Edit::Patch(&body)
            } else {
                Edit::Replace(&body)
            };
            let w = custom::write(ctx, actor, rt, (id, if_match), edit, &p).await?;
            let done = Done {
                status: 200,
                location: location(raw),
                version: Some(w.version),
            };
            Ok((done, None))
        }
    }
}

/// Runs a Bulk request; one result per operation that ran (or could not),
/// in request order.
pub async fn run<'r>(ctx: &Ctx, actor: &Actor, request: &'r BulkRequest) -> Vec<OpResult<'r>> {
    let ops = &request.ops;
    let mut results: Vec<Option<Result<Done>>> = (0..ops.len()).map(|_| None).collect();
    let mut plan = Planner::new(request);
    while let Some(step) = plan.next_step() {
        let (index, outcome) = match step {
            Step::Unresolved { index, error } => (index, Err(error.into())),
            Step::Run { index, data, path } => {
                match execute(ctx, actor, &ops[index], data, &path).await {
                    Ok((done, created)) => {
                        plan.succeeded(index, created);
                        (index, Ok(done))
                    }
                    Err(e) => {
                        plan.failed(index);
                        (index, Err(e))
                    }
                }
            }
        };
        results[index] = Some(outcome);
    }
    // Members deferred to break a cycle: added now that both sides exist.
    for add in plan.deferred() {
        let Ok(group) = Uuid::parse_str(&add.group) else {
            continue;
        };
        let members: Vec<Value> = add.members.iter().map(|id| json!({"value": id})).collect();
        let patch = json!({
            "schemas": [crate::scim::patch::PATCH_OP_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": members}]
        });
        let update = Update::new(Kind::Group, group, None, Change::Patch(patch));
        let written = resources::write(ctx, actor, update, &lean()).await;
        let slot = &mut results[add.index];
        match (written, slot.as_mut()) {
            (Ok(w), Some(Ok(done))) => done.version = Some(w.version),
            (Err(e), _) => *slot = Some(Err(e)),
            (Ok(_), _) => {}
        }
    }
    ops.iter()
        .zip(results)
        .filter_map(|(op, r)| r.map(|outcome| OpResult { op, outcome }))
        .collect()
}
