//! Declared resource types (issue 16): declaring, replacing and removing a
//! type (`/api/v1/resource-types`, `scimd schema add`), and the SCIM
//! operations on its resources at its own endpoint. The resources go
//! through the same pure engines as Users and Groups (validation, PATCH,
//! projection, filters), over one table for every declared type.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::schemas::{changes, field_errors, Env, SchemaError};
use super::{Ctx, Requester, Result};
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::list::ListQuery;
use crate::scim::resource::{render_owned, Projection, ResourceInfo};
use crate::scim::schema::declared_type::{check_type_against, parse_resource_type, DeclaredType};
use crate::scim::schema::define::DefinitionError;
use crate::scim::schema::{
    project_owned, schema_json, validate_collecting, Registry, ResourceTypeDef, WriteMode,
};
use crate::store::custom::{self as rows, ResourceRow, TypeRow};
use crate::store::{self, audit, PgPool, StoreError};

/// The body of `POST /api/v1/resource-types` and `PUT
/// /api/v1/resource-types/{name}` (and of such an entry in a `scimd schema
/// add` file).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TypeRequest {
    /// As `/ResourceTypes` serves one: `name`, `endpoint`, `schema`,
    /// `description`.
    pub resource_type: Value,
    /// Its core schema, as `/Schemas` serves one.
    pub schema: Value,
}

/// A declared resource type as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TypeView {
    pub name: String,
    pub endpoint: String,
    #[serde(rename = "resourceType")]
    pub resource_type: Value,
    pub schema: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TypeView {
    fn of(row: TypeRow) -> TypeView {
        let parsed = parse_resource_type(&row.definition, &row.schema).ok();
        let schema = parsed
            .as_ref()
            .map_or_else(|| row.schema.clone(), |t| schema_json(&t.schema, ""));
        TypeView {
            endpoint: parsed
                .as_ref()
                .map_or_else(String::new, |t| t.resource_type.endpoint.to_string()),
            name: row.name,
            resource_type: row.definition,
            schema,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The declared types among `rows` that this version can read; one it
/// cannot (written by a newer one) is left out and logged.
pub(super) fn declared_types(rows: &[TypeRow]) -> Vec<DeclaredType> {
    rows.iter()
        .filter_map(|r| match parse_resource_type(&r.definition, &r.schema) {
            Ok(t) => Some(t),
            Err(e) => {
                log::error!(
                    "organization {}: stored resource type {} is unreadable and left out: {}",
                    r.org_id,
                    r.name,
                    e.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                None
            }
        })
        .collect()
}

fn parse(request: &TypeRequest) -> std::result::Result<DeclaredType, SchemaError> {
    parse_resource_type(&request.resource_type, &request.schema).map_err(field_errors)
}

/// The registry of the organization's built-in and declared types: what a
/// new type is checked against.
fn registry_of(base: &Registry, types: &[TypeRow]) -> Registry {
    base.with_declared_types(&declared_types(types))
}

pub async fn add_type(
    env: &Env<'_>,
    by: &Requester,
    request: TypeRequest,
    now: DateTime<Utc>,
) -> std::result::Result<TypeView, SchemaError> {
    let t = parse(&request)?;
    let base = Arc::clone(&env.base);
    let max = env.max_schemas;
    let actor = by.actor.clone();
    let row = TypeRow {
        org_id: by.org_id(),
        name_key: rows::key(t.resource_type.name),
        name: t.resource_type.name.to_string(),
        endpoint_key: rows::key(t.resource_type.endpoint),
        definition: request.resource_type.clone(),
        schema: request.schema.clone(),
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        let types = rows::types(conn, actor.org_id)?;
        if types.len() >= max {
            return Ok(Err(SchemaError::Limit(max)));
        }
        let (_, schema_rows) = store::schemas::load(conn, actor.org_id)?;
        // A declared extension's URN may not be taken by a type's core
        // schema either.
        if schema_rows
            .iter()
            .any(|r| r.urn.eq_ignore_ascii_case(t.schema.id))
        {
            return Ok(Err(field_errors(vec![DefinitionError::new(
                "schema.id",
                format!("{} is already declared as an extension", t.schema.id),
            )])));
        }
        if let Err(e) = check_type_against(&registry_of(&base, &types), &t) {
            return Ok(Err(field_errors(e)));
        }
        rows::insert_type(conn, &row)?;
        let paths = crate::scim::schema::define::indexed_paths(&t.schema);
        rows::set_indexed(conn, actor.org_id, &row.name, t.schema.id, &paths, false)?;
        store::schemas::bump(conn, actor.org_id)?;
        audit::record(
            conn,
            &actor,
            "resource_type.add",
            "ResourceType",
            &row.name,
            201,
            now,
        )?;
        Ok(Ok(()))
    })
    .await??;
    Ok(TypeView::of(stored))
}

pub async fn list_types(
    pool: &PgPool,
    org: Uuid,
) -> std::result::Result<Vec<TypeView>, StoreError> {
    let found = store::read(pool, move |conn| rows::types(conn, org)).await?;
    Ok(found.into_iter().map(TypeView::of).collect())
}

pub async fn get_type(
    pool: &PgPool,
    org: Uuid,
    name: &str,
) -> std::result::Result<TypeView, SchemaError> {
    let n = name.to_string();
    match store::read(pool, move |conn| rows::get_type(conn, org, &n)).await {
        Ok(row) => Ok(TypeView::of(row)),
        Err(StoreError::NotFound) => Err(SchemaError::NotFound(name.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Replaces a declared type's definition. The name and endpoint stay;
/// changes to its core schema follow the rules for a declared schema:
/// removing or retyping an attribute that resources hold, or requiring one
/// they lack, is refused with the count unless `force` (which removes those
/// values, in the same transaction).
pub async fn replace_type(
    env: &Env<'_>,
    by: &Requester,
    name: &str,
    request: TypeRequest,
    force: bool,
    now: DateTime<Utc>,
) -> std::result::Result<TypeView, SchemaError> {
    let t = parse(&request)?;
    let actor = by.actor.clone();
    let name = name.to_string();
    let stored = store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        let old = match rows::get_type(conn, actor.org_id, &name) {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Ok(Err(SchemaError::NotFound(name.clone()))),
            Err(e) => return Err(e),
        };
        let Ok(old_t) = parse_resource_type(&old.definition, &old.schema) else {
            return Err(StoreError::Db(format!("stored resource type {name} is unreadable")));
        };
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if !same(old_t.resource_type.name, t.resource_type.name)
            || !same(old_t.resource_type.endpoint, t.resource_type.endpoint)
            || !same(old_t.schema.id, t.schema.id)
        {
            return Ok(Err(field_errors(vec![DefinitionError::new(
                "resourceType",
                "a declared type keeps its name, endpoint and core schema URN; remove and add it to change them",
            )])));
        }
        let (dropped, now_required) = changes(&old_t.schema, &t.schema);
        let conflicting = if dropped.is_empty() {
            0
        } else {
            rows::holding(conn, actor.org_id, &old.name, &dropped)?
        };
        let lacking = rows::lacking(conn, actor.org_id, &old.name, &now_required)?;
        if (conflicting > 0 || lacking > 0) && !force {
            let mut why = Vec::new();
            if conflicting > 0 {
                why.push(format!(
                    "{conflicting} resources hold values of {} that the new definition removes or retypes",
                    dropped.join(", ")
                ));
            }
            if lacking > 0 {
                why.push(format!("{lacking} resources lack a value the new definition requires"));
            }
            return Ok(Err(SchemaError::HoldsData(format!(
                "{}; ?force=true applies it and removes the values that no longer fit",
                why.join("; ")
            ))));
        }
        if conflicting > 0 {
            rows::strip(conn, actor.org_id, &old.name, &dropped, now)?;
        }
        let row = TypeRow {
            definition: request.resource_type.clone(),
            schema: request.schema.clone(),
            updated_at: now,
            ..old
        };
        rows::replace_type(conn, &row)?;
        let paths = crate::scim::schema::define::indexed_paths(&t.schema);
        rows::set_indexed(conn, actor.org_id, &row.name, t.schema.id, &paths, true)?;
        store::schemas::bump(conn, actor.org_id)?;
        let action = if conflicting > 0 || lacking > 0 {
            "resource_type.replace.forced"
        } else {
            "resource_type.replace"
        };
        audit::record(conn, &actor, action, "ResourceType", &row.name, 200, now)?;
        Ok(Ok(row))
    })
    .await??;
    Ok(TypeView::of(stored))
}

/// Removes a declared type; refused while it has resources, unless
/// `force`, which deletes them in the same transaction.
pub async fn remove_type(
    env: &Env<'_>,
    by: &Requester,
    name: &str,
    force: bool,
    now: DateTime<Utc>,
) -> std::result::Result<(), SchemaError> {
    let actor = by.actor.clone();
    let name = name.to_string();
    store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        let row = match rows::get_type(conn, actor.org_id, &name) {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Ok(Err(SchemaError::NotFound(name.clone()))),
            Err(e) => return Err(e),
        };
        let (_, schema_rows) = store::schemas::load(conn, actor.org_id)?;
        let extensions: Vec<&str> = schema_rows
            .iter()
            .filter(|s| s.extends.eq_ignore_ascii_case(&row.name))
            .map(|s| s.urn.as_str())
            .collect();
        if !extensions.is_empty() {
            return Ok(Err(SchemaError::HoldsData(format!(
                "{} is extended by {}; remove those schemas first",
                row.name,
                extensions.join(", ")
            ))));
        }
        let n = rows::holding(conn, actor.org_id, &row.name, &[])?;
        if n > 0 && !force {
            return Ok(Err(SchemaError::HoldsData(format!(
                "{n} {} resources exist; ?force=true (scimd schema remove --force) deletes them with the type",
                row.name
            ))));
        }
        rows::delete_type(conn, actor.org_id, &row.name)?;
        rows::set_indexed(conn, actor.org_id, &row.name, "", &[], false)?;
        store::schemas::bump(conn, actor.org_id)?;
        let action = if n > 0 { "resource_type.remove.forced" } else { "resource_type.remove" };
        audit::record(conn, &actor, action, "ResourceType", &row.name, 204, now)?;
        Ok(Ok(()))
    })
    .await??;
    Ok(())
}

// ---- the resources ------------------------------------------------------

/// The declared type served at `endpoint` for this request, or 404.
pub fn type_at(ctx: &Ctx, endpoint: &str) -> Result<ResourceTypeDef> {
    let reg = ctx.registry();
    let path = format!("/{endpoint}");
    match reg.resource_type_by_endpoint(&path) {
        Some(rt) if !matches!(rt.name, "User" | "Group") => Ok(rt.clone()),
        _ => Err(ScimError::not_found(format!("no resource type is served at {path}")).into()),
    }
}

fn action(rt: &ResourceTypeDef, verb: &str) -> String {
    format!("{}.{verb}", rt.name.to_ascii_lowercase())
}

pub(super) fn render(ctx: &Ctx, rt: &ResourceTypeDef, row: ResourceRow, p: &Projection) -> Value {
    let reg = ctx.registry();
    let id = row.id.to_string();
    let info = ResourceInfo {
        id: &id,
        resource_type: rt.name,
        created: row.created_at,
        last_modified: row.last_modified,
        version: row.version,
        location: format!("{}{}/{id}", ctx.base, rt.endpoint),
    };
    let origin = row.origin();
    let mut doc = row.doc;
    super::ownership::hide(ctx.caller(), &origin, &mut doc);
    if rt.has_schema(crate::scim::schema::PROVENANCE_SCHEMA) {
        crate::scim::schema::provenance::add(reg.policy(), &origin, &mut doc);
    }
    let full = render_owned(doc, &info, "", None);
    project_owned(&reg, rt, full, &p.attributes, &p.excluded)
}

fn written(
    ctx: &Ctx,
    rt: &ResourceTypeDef,
    row: ResourceRow,
    p: &Projection,
) -> super::resources::Written {
    let (id, version) = (row.id, row.version);
    super::resources::Written {
        id,
        json: Some(render(ctx, rt, row, p)),
        version,
    }
}

fn audit_entry(
    by: &audit::Actor,
    rt: &ResourceTypeDef,
    verb: &str,
    id: Uuid,
    status: u16,
    now: DateTime<Utc>,
    ignored: &[String],
) -> audit::Entry {
    audit::Entry::new(by, &action(rt, verb), rt.name, &id.to_string(), status, now)
        .with_dropped(ignored)
}

pub async fn create(
    ctx: &Ctx,
    by: &audit::Actor,
    rt: &ResourceTypeDef,
    body: &Value,
    p: &Projection,
) -> Result<super::resources::Written> {
    let reg = ctx.registry();
    crate::scim::limits::check_resource(rt, body, reg.max_values())?;
    let (doc, ignored) = validate_collecting(&reg, rt, body, WriteMode::Create, ctx.profile())?;
    let (by, now, rt_owned, id) = (
        by.clone(),
        ctx.state.clock.now(),
        rt.clone(),
        Uuid::now_v7(),
    );
    let policy = reg.policy();
    // A connector creating again what it soft-deleted (the same
    // externalId, within the retention) gets it back, as for Users.
    let recreate = match (by.connector, doc.get("externalId").and_then(Value::as_str)) {
        (Some(c), Some(e)) if policy.delete == crate::scim::policy::DeleteMode::Soft => {
            Some((c, e.to_string(), policy.retention_days))
        }
        _ => None,
    };
    let stored = ctx
        .in_tx(move |conn| {
            if let Some((c, external_id, retention)) = &recreate {
                let key = store::archive::type_key(rt_owned.name);
                let old = store::archive::find_recreated(
                    conn,
                    by.org_id,
                    &key,
                    *c,
                    external_id,
                    *retention,
                    now,
                )?;
                if let Some(old) = old {
                    store::archive::restore(conn, by.org_id, old, now)?;
                    let current = rows::get(conn, by.org_id, rt_owned.name, old, true)?;
                    let row = rows::update(conn, &current, doc.clone(), Some(*c), now)?;
                    store::events::record(
                        conn,
                        &audit_entry(&by, &rt_owned, "create", old, 201, now, &ignored)
                            .with_details(serde_json::json!({"restored": true})),
                        old,
                        &store::events::Change::between(None, Some(&row.doc), Some(row.version)),
                    )?;
                    return Ok(row);
                }
            }
            let origin = super::ownership::created(by.connector, &doc);
            let row = rows::insert(conn, by.org_id, rt_owned.name, id, &doc, origin, now)?;
            store::events::record(
                conn,
                &audit_entry(&by, &rt_owned, "create", id, 201, now, &ignored),
                id,
                &store::events::Change::between(None, Some(&row.doc), Some(row.version)),
            )?;
            Ok(row)
        })
        .await?;
    Ok(written(ctx, rt, stored, p))
}

pub async fn get(
    ctx: &Ctx,
    org: Uuid,
    rt: &ResourceTypeDef,
    id: Uuid,
    p: &Projection,
    cond: Option<EtagCondition>,
) -> Result<super::resources::Read> {
    let name = rt.name.to_string();
    let row = ctx
        .read(move |conn| rows::get(conn, org, &name, id, false))
        .await?;
    if cond.as_ref().is_some_and(|c| c.matches(row.version)) {
        return Ok(super::resources::Read::NotModified(row.version));
    }
    let version = row.version;
    Ok(super::resources::Read::Found {
        json: render(ctx, rt, row, p),
        version,
    })
}

/// What a PUT or PATCH brings.
pub enum Edit<'a> {
    /// The new resource.
    Replace(&'a Value),
    /// A PatchOp request.
    Patch(&'a Value),
}

/// PUT or PATCH, under the row's lock, `If-Match` checked.
pub async fn write(
    ctx: &Ctx,
    by: &audit::Actor,
    rt: &ResourceTypeDef,
    (id, if_match): (Uuid, Option<EtagCondition>),
    edit: Edit<'_>,
    p: &Projection,
) -> Result<super::resources::Written> {
    let (body, patch) = match edit {
        Edit::Replace(b) => (b, false),
        Edit::Patch(b) => (b, true),
    };
    let (reg, profile) = (ctx.registry(), ctx.profile());
    let ops = if patch {
        let ops = crate::scim::patch::parse_request(body, profile)?;
        crate::scim::limits::check_ops(rt, &ops, reg.max_values())?;
        Some(ops)
    } else {
        crate::scim::limits::check_resource(rt, body, reg.max_values())?;
        None
    };
    let (by, now, rt_owned, body) = (by.clone(), ctx.state.clock.now(), rt.clone(), body.clone());
    let verb = if patch { "patch" } else { "replace" };
    let stored = ctx
        .in_tx(move |conn| {
            let current = rows::get(conn, by.org_id, rt_owned.name, id, true)?;
            store::check_precondition(if_match.as_ref(), current.version)?;
            let origin = current.origin();
            let what = format!("{} {id}", rt_owned.name);
            super::ownership::check(&reg, by.connector, &what, &origin)?;
            let shown = super::ownership::visible(by.connector, &origin, &current.doc);
            let (input, mut ignored) = match &ops {
                Some(ops) => {
                    let outcome = crate::scim::patch::apply(&reg, &rt_owned, &shown, ops, profile)?;
                    (outcome.doc, outcome.ignored)
                }
                None => (body.clone(), Vec::new()),
            };
            let (mut doc, left_out) = validate_collecting(
                &reg,
                &rt_owned,
                &input,
                WriteMode::Replace { existing: &shown },
                profile,
            )?;
            ignored.extend(left_out);
            let next = super::ownership::carry(by.connector, &origin, &current.doc, &mut doc);
            if doc == current.doc && next.external_id_by == origin.external_id_by {
                return Ok(current);
            }
            let row = rows::update(conn, &current, doc, next.external_id_by, now)?;
            store::events::record(
                conn,
                &audit_entry(&by, &rt_owned, verb, id, 200, now, &ignored),
                id,
                &store::events::Change::between(
                    Some(&current.doc),
                    Some(&row.doc),
                    Some(row.version),
                ),
            )?;
            Ok(row)
        })
        .await?;
    Ok(written(ctx, rt, stored, p))
}

pub async fn delete(
    ctx: &Ctx,
    by: &audit::Actor,
    rt: &ResourceTypeDef,
    id: Uuid,
    if_match: Option<EtagCondition>,
) -> Result<()> {
    let (by, now, rt_owned, reg) = (
        by.clone(),
        ctx.state.clock.now(),
        rt.clone(),
        ctx.registry(),
    );
    ctx.in_tx(move |conn| {
        let current = rows::get(conn, by.org_id, rt_owned.name, id, true)?;
        store::check_precondition(if_match.as_ref(), current.version)?;
        let what = format!("{} {id}", rt_owned.name);
        super::ownership::check(&reg, by.connector, &what, &current.origin())?;
        let soft = reg.policy().delete == crate::scim::policy::DeleteMode::Soft;
        if soft {
            store::archive::archive(
                conn,
                by.org_id,
                store::archive::Source::Resources,
                &store::archive::type_key(rt_owned.name),
                id,
                &by.name,
                now,
            )?;
        }
        rows::delete(conn, by.org_id, rt_owned.name, id)?;
        let entry = audit_entry(&by, &rt_owned, "delete", id, 204, now, &[]);
        let entry = if soft {
            entry.with_details(serde_json::json!({"soft": true}))
        } else {
            entry
        };
        let change = store::events::Change::between(Some(&current.doc), None, None);
        store::events::record(conn, &entry, id, &change)
    })
    .await?;
    Ok(())
}

/// A page of the type's resources (`GET /{endpoint}`, `POST
/// /{endpoint}/.search`).
pub async fn list(
    ctx: &Ctx,
    org: Uuid,
    rt: &ResourceTypeDef,
    q: &ListQuery,
) -> Result<super::query::ListPage> {
    let reg = ctx.registry();
    // Checked before a connection is taken, as for Users and Groups.
    let projection = Projection {
        attributes: q.attributes.clone(),
        excluded: q.excluded.clone(),
    };
    let (now, rt_owned, q_owned, reg_owned, scope) = (
        ctx.state.clock.now(),
        rt.clone(),
        q.clone(),
        Arc::clone(&reg),
        ctx.caller(),
    );
    let page = ctx
        .read(move |conn| {
            store::query::list_resources(conn, &reg_owned, &rt_owned, org, scope, &q_owned, now)
        })
        .await?;
    let resources = page
        .items
        .into_iter()
        .map(|r| render(ctx, rt, r, &projection))
        .collect();
    Ok(super::query::ListPage {
        total: page.total,
        start_index: q.start_index,
        resources,
        cursor_mode: q.cursor.is_some(),
        next_cursor: page.next_cursor,
        previous_cursor: page.previous_cursor,
    })
}
