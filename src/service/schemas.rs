//! Extension schemas declared at runtime, per organization (issue 16): the
//! admin operations (add, list, show, replace, remove; the admin API and
//! the CLI call the same functions) and the registry each request is
//! served with.
//!
//! Freshness across instances: every change bumps
//! `organizations.schema_version` in its transaction. A request whose token
//! row is read for it gets the version in the same statement; a request
//! accepted on a token this process knows uses the registry it cached and
//! has the version checked with the token, inside the request's first
//! statement (`store::tokens::Probe::schema_version`): a stale registry
//! answers nothing (`StoreError::RegistryStale`, 503) and is dropped, so no
//! instance serves a registry older than the last committed change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{FieldError, Requester};
use crate::scim::schema::define::{self, Declared, DefinitionError};
use crate::scim::schema::{schema_json, AttributeDef, Registry, SchemaDef};
use crate::state::AppState;
use crate::store::schemas::{Holder, SchemaRow};
use crate::store::{self, audit, PgPool, StoreError, TxRetries};

/// Most organizations whose registry one process keeps; past it the cache
/// starts again (a miss costs one read).
const MAX_CACHED: usize = 10_000;

/// Each organization's registry as this process last read it, with the
/// schema version it was built at.
pub struct Registries {
    base: Arc<Registry>,
    entries: Mutex<HashMap<Uuid, (i64, Arc<Registry>)>>,
}

impl Registries {
    /// Over `base`, the built-in registry every organization starts from.
    pub fn new(base: Registry) -> Self {
        Registries {
            base: Arc::new(base),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The built-in registry (no declarations).
    pub fn base(&self) -> Arc<Registry> {
        Arc::clone(&self.base)
    }

    /// `org`'s registry if this process holds one, unconfirmed: for
    /// answers that no stale registry can make wrong (whether an anonymous
    /// request gets 401 or 404).
    pub fn cached_registry(&self, org: Uuid) -> Option<Arc<Registry>> {
        self.cached(org).map(|(_, r)| r)
    }

    fn cached(&self, org: Uuid) -> Option<(i64, Arc<Registry>)> {
        let map = self.entries.lock().ok()?;
        map.get(&org).map(|(v, r)| (*v, Arc::clone(r)))
    }

    fn put(&self, org: Uuid, version: i64, reg: Arc<Registry>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_CACHED && !map.contains_key(&org) {
                map.clear();
            }
            // A slower reader must not replace a newer entry.
            if map.get(&org).is_none_or(|(v, _)| *v <= version) {
                map.insert(org, (version, reg));
            }
        }
    }

    /// Reads `org`'s registry into the cache now, at start-up, so that
    /// `AUTH_SECRET` requests find it cached even if the database is away
    /// later; without it the first one would wait for a connection. A
    /// failure is logged: the first request reads it instead.
    pub fn preload(&self, pool: &store::PgPool, org: Uuid) {
        if let Err(e) = store::read_blocking(pool, |conn| self.load(conn, org)) {
            log::warn!("organization {org}: schemas not read at start ({e}); read on first use");
        }
    }

    /// Drops `org`'s entry if it is still the one built at `version`.
    pub fn forget(&self, org: Uuid, version: i64) {
        if let Ok(mut map) = self.entries.lock() {
            if map.get(&org).is_some_and(|(v, _)| *v == version) {
                map.remove(&org);
            }
        }
    }

    /// The registry for `rows` (an organization's declarations). A stored
    /// definition this version cannot read (written by a newer one) is left
    /// out and logged, rather than making the organization unusable.
    fn build(
        &self,
        rows: &[SchemaRow],
        types: &[store::custom::TypeRow],
        ignore_undeclared: bool,
        policy: crate::scim::policy::OrgPolicy,
    ) -> Arc<Registry> {
        let default_policy = policy == crate::scim::policy::OrgPolicy::default();
        if rows.is_empty() && types.is_empty() && !ignore_undeclared && default_policy {
            return self.base();
        }
        let provenance = !policy.connectors.is_empty();
        let policy = Arc::new(policy);
        if rows.is_empty() && types.is_empty() && !ignore_undeclared {
            let reg = (*self.base).clone().with_policy(policy);
            return Arc::new(if provenance {
                reg.with_provenance()
            } else {
                reg
            });
        }
        let decls: Vec<Declared> = rows.iter().filter_map(declared_of).collect();
        let types = super::custom::declared_types(types);
        let reg = self
            .base
            .with_declared_types(&types)
            .with_declared(&decls)
            .with_undeclared_ignored(ignore_undeclared)
            .with_policy(policy);
        Arc::new(if provenance {
            reg.with_provenance()
        } else {
            reg
        })
    }

    /// Reads `org`'s registry into this process's cache again, after a
    /// change made here: the next request finds it current without a
    /// rebuild, and anonymous callers' 401-or-404 answers see the change
    /// at once. A failure leaves the stale entry, which the next request's
    /// version check replaces.
    pub async fn refresh(self: &Arc<Self>, pool: &PgPool, org: Uuid) {
        let regs = Arc::clone(self);
        let _refreshed = store::read(pool, move |conn| regs.load(conn, org)).await;
    }

    /// Reads `org`'s declarations on `conn` and caches the registry.
    pub(super) fn load(
        &self,
        conn: &mut store::Conn,
        org: Uuid,
    ) -> Result<(i64, Arc<Registry>), StoreError> {
        let store::schemas::Loaded {
            version,
            ignore_undeclared,
            rows,
        } = store::schemas::load_all(conn, org)?;
        // A second statement, on a cache miss only; both are read under
        // the version just read, which every change bumps.
        let types = store::custom::types(conn, org)?;
        // Policies and connectors ride with the schemas: the same version
        // says all of them are current.
        let settings = store::connectors::settings(conn, org)?;
        let connectors = store::connectors::list(conn, org)?;
        let policy = super::connectors::policy_of(&settings, &connectors);
        let reg = self.build(&rows, &types, ignore_undeclared, policy);
        self.put(org, version, Arc::clone(&reg));
        Ok((version, reg))
    }
}

fn declared_of(row: &SchemaRow) -> Option<Declared> {
    match define::parse_schema(&row.definition, "schema") {
        Ok(schema) => Some(Declared {
            extends: define::intern(&row.extends),
            required: row.required,
            schema,
        }),
        Err(errors) => {
            log::error!(
                "organization {}: stored schema {} is unreadable and left out: {}",
                row.org_id,
                row.urn,
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            None
        }
    }
}

/// Where a request's registry is put once its credential is known; shared
/// by the request's extractors like the gate, so their order does not
/// matter.
#[derive(Debug, Clone, Default)]
pub struct Slot(Arc<Mutex<Option<Arc<Registry>>>>, Arc<Mutex<Option<Uuid>>>);

impl Slot {
    /// Records the connector the request's token belongs to.
    pub fn set_caller(&self, connector: Option<Uuid>) {
        if let Ok(mut c) = self.1.lock() {
            *c = connector;
        }
    }

    /// The connector the request's token belongs to, if any.
    pub fn caller(&self) -> Option<Uuid> {
        self.1.lock().ok().and_then(|c| *c)
    }

    pub fn set(&self, reg: Arc<Registry>) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(reg);
        }
    }

    pub fn get(&self) -> Option<Arc<Registry>> {
        self.0.lock().ok()?.clone()
    }
}

/// The registry a request in `org` is served with, the schema version it
/// was built at, and whether the request's first statement must confirm
/// that version.
///
/// - `read_version`: the version came with the token row, read for this
///   request: current; the cache is used if it is at that version.
/// - `deferred`: the token is checked later, in the request's first
///   statement; the cached registry is used and its version checked there.
/// - neither (`AUTH_SECRET`, no credential): the version is read now.
pub async fn for_request(
    pool: &PgPool,
    registries: &Arc<Registries>,
    org: Uuid,
    read_version: Option<i64>,
    deferred: bool,
) -> Result<(Arc<Registry>, i64, bool), StoreError> {
    let cached = registries.cached(org);
    match (read_version, cached) {
        (Some(v), Some((cv, reg))) if v == cv => return Ok((reg, v, false)),
        (None, Some((cv, reg))) if deferred => return Ok((reg, cv, true)),
        _ => {}
    }
    let regs = Arc::clone(registries);
    let (version, reg) = store::read(pool, move |conn| {
        if read_version.is_none() && !deferred {
            // One primary-key read when the cache is current.
            let v = store::schemas::version(conn, org)?;
            if let Some(hit) = regs.cached(org).filter(|(cv, _)| *cv == v) {
                return Ok(hit);
            }
        }
        regs.load(conn, org)
    })
    .await?;
    // Read on a connection of its own: a change may commit before the
    // request's own statement, which then confirms the version.
    Ok((reg, version, deferred))
}

/// [`for_request`] for a request whose credential was accepted: when the
/// registry cannot be read (the database is away), the cached one, or the
/// built-in one, with a version no statement will confirm, so that client
/// errors are still found without the database and nothing the store
/// answers is served with it.
pub async fn for_request_or_cached(
    pool: &PgPool,
    registries: &Arc<Registries>,
    org: Uuid,
    read_version: Option<i64>,
    deferred: bool,
) -> (Arc<Registry>, i64, bool) {
    if read_version.is_none() && !deferred {
        // AUTH_SECRET: confirmed on the first store call (`Gate`), so a
        // request refused before it needs no database at all; read now
        // only when nothing is cached, and then without waiting for a
        // connection when none is idle or the database is away.
        if let Some((v, reg)) = registries.cached(org) {
            return (reg, v, true);
        }
        let regs = Arc::clone(registries);
        match store::read_if_idle(pool, move |conn| regs.load(conn, org)).await {
            Some(Ok((v, reg))) => return (reg, v, true),
            Some(Err(_)) => return (registries.base(), -1, true),
            None => {}
        }
    }
    match for_request(pool, registries, org, read_version, deferred).await {
        Ok(found) => found,
        Err(_) => match registries.cached(org) {
            Some((v, reg)) => (reg, v, true),
            None => (registries.base(), -1, true),
        },
    }
}

/// The body of `POST /api/v1/schemas` and `PUT /api/v1/schemas/{urn}`
/// (and of each entry of a `scimd schema add` file).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    /// The resource type the schema extends: `User` or `Group`.
    pub extends: String,
    /// Whether every resource of the type must carry the extension.
    #[serde(default)]
    pub required: bool,
    /// The schema, as `/Schemas` serves one (RFC 7643 §7).
    pub schema: Value,
}

/// A declared schema as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaView {
    pub id: String,
    pub extends: String,
    pub required: bool,
    pub schema: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SchemaView {
    fn of(row: SchemaRow, base_url: &str) -> SchemaView {
        // Shown as `/Schemas` would serve it, every characteristic spelled
        // out, so what a script reads back is what clients see.
        let schema = match define::parse_schema(&row.definition, "schema") {
            Ok(def) => schema_json(&def, base_url),
            Err(_) => row.definition.clone(),
        };
        SchemaView {
            id: row.urn,
            extends: row.extends,
            required: row.required,
            schema,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Why a schema operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The definition is invalid; nothing was stored.
    #[error("{}", FieldError::summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("no declared schema {0}")]
    NotFound(String),
    /// A schema with this URN exists already.
    #[error("schema {0} is already declared; PUT /api/v1/schemas/{{urn}} replaces it")]
    Exists(String),
    /// Stored resources hold values the change would invalidate; `force`
    /// applies it anyway.
    #[error("{0}")]
    HoldsData(String),
    #[error("this organization already declares {0} schemas (the limit)")]
    Limit(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) fn field_errors(errors: Vec<DefinitionError>) -> SchemaError {
    SchemaError::Invalid(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: e.path,
                message: e.message,
            })
            .collect(),
    )
}

/// Where the resources a schema extends are stored. Any name but User and
/// Group is a declared type's (checked against the registry before
/// anything is stored: `define::check_against`).
fn holder_of(extends: &str) -> Holder {
    if extends.eq_ignore_ascii_case("User") {
        Holder::Users
    } else if extends.eq_ignore_ascii_case("Group") {
        Holder::Groups
    } else {
        Holder::Declared(define::intern(&store::custom::key(extends)))
    }
}

/// `base` with the organization's declared resource types, which a schema
/// may extend too.
fn with_types(conn: &mut store::Conn, base: &Registry, org: Uuid) -> Result<Registry, StoreError> {
    let types = store::custom::types(conn, org)?;
    Ok(base.with_declared_types(&super::custom::declared_types(&types)))
}

/// Parses and checks a request on its own (no stored state needed).
fn parse_request(req: &DeclareRequest) -> Result<Declared, SchemaError> {
    let schema = define::parse_schema(&req.schema, "schema").map_err(field_errors)?;
    // User, Group, or a declared type (whether it exists is checked against
    // the organization's registry, in the transaction).
    let extends = if req.extends.eq_ignore_ascii_case("User") {
        "User"
    } else if req.extends.eq_ignore_ascii_case("Group") {
        "Group"
    } else {
        define::intern(&req.extends)
    };
    Ok(Declared {
        extends,
        required: req.required,
        schema,
    })
}

/// The registry of `rows` without the one keyed `skip`, from `base`.
fn registry_without(base: &Registry, rows: &[SchemaRow], skip: Option<&str>) -> Registry {
    let decls: Vec<Declared> = rows
        .iter()
        .filter(|r| skip.is_none_or(|k| r.urn_key != store::schemas::urn_key(k)))
        .filter_map(declared_of)
        .collect();
    base.with_declared(&decls)
}

/// What declaring, replacing and removing need: the store, and the
/// built-in registry a declaration is checked against. The server and the
/// command line each make one.
pub struct Env<'a> {
    pub pool: &'a PgPool,
    pub retries: &'a Arc<TxRetries>,
    pub base: Arc<Registry>,
    /// `SCIMD_MAX_SCHEMAS_PER_ORG`.
    pub max_schemas: usize,
}

impl<'a> Env<'a> {
    pub fn of(state: &'a AppState) -> Env<'a> {
        Env {
            pool: &state.pool,
            retries: &state.tx_retries,
            base: state.registries.base(),
            max_schemas: state.config.max_schemas_per_org,
        }
    }
}

/// Declares an extension schema in the requester's organization and audits
/// it; every instance serves it from its next request.
pub async fn add(
    env: &Env<'_>,
    by: &Requester,
    request: DeclareRequest,
    now: DateTime<Utc>,
) -> Result<SchemaView, SchemaError> {
    let decl = parse_request(&request)?;
    let max_schemas = env.max_schemas;
    let base = Arc::clone(&env.base);
    let actor = by.actor.clone();
    let row = SchemaRow {
        org_id: by.org_id(),
        urn_key: store::schemas::urn_key(decl.schema.id),
        urn: decl.schema.id.to_string(),
        extends: decl.extends.to_string(),
        required: request.required,
        definition: request.schema.clone(),
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    store::in_tx(env.pool, env.retries, move |conn| {
        // Concurrent changes in one organization are checked one after
        // another.
        store::schemas::lock(conn, actor.org_id)?;
        let (_, rows) = store::schemas::load(conn, actor.org_id)?;
        if rows.iter().any(|r| r.urn_key == row.urn_key) {
            return Ok(Err(SchemaError::Exists(row.urn.clone())));
        }
        if rows.len() >= max_schemas {
            return Ok(Err(SchemaError::Limit(max_schemas)));
        }
        let current = registry_without(&with_types(conn, &base, actor.org_id)?, &rows, None);
        if let Err(e) = define::check_against(&current, &decl) {
            return Ok(Err(field_errors(e)));
        }
        if decl.required {
            let holder = holder_of(decl.extends);
            let n = store::schemas::lacking(conn, holder, actor.org_id, &row.urn, &[], true)?;
            if n > 0 {
                return Ok(Err(SchemaError::HoldsData(format!(
                    "{n} {} resources exist without this extension; a required extension would make them invalid (declare it optional first)",
                    decl.extends
                ))));
            }
        }
        store::schemas::insert(conn, &row)?;
        let holder = holder_of(decl.extends);
        let paths = define::indexed_paths(&decl.schema);
        store::schemas::set_indexed(conn, holder, actor.org_id, &row.urn, &paths, false, false)?;
        store::schemas::bump(conn, actor.org_id)?;
        audit::record(conn, &actor, "schema.add", "Schema", &row.urn, 201, now)?;
        Ok(Ok(()))
    })
    .await??;
    Ok(SchemaView::of(stored, ""))
}

/// The organization's declared schemas, in the order they were declared.
pub async fn list(pool: &PgPool, org: Uuid) -> Result<Vec<SchemaView>, StoreError> {
    let (_, rows) = store::read(pool, move |conn| store::schemas::load(conn, org)).await?;
    Ok(rows.into_iter().map(|r| SchemaView::of(r, "")).collect())
}

pub async fn get(pool: &PgPool, org: Uuid, urn: &str) -> Result<SchemaView, SchemaError> {
    let key = urn.to_string();
    match store::read(pool, move |conn| store::schemas::get(conn, org, &key)).await {
        Ok(row) => Ok(SchemaView::of(row, "")),
        Err(StoreError::NotFound) => Err(SchemaError::NotFound(urn.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// What replacing `old` by `new` does to stored values: the attributes
/// whose values must go (removed, or their type or plurality changed) and
/// those that become required.
pub(super) fn changes(old: &SchemaDef, new: &SchemaDef) -> (Vec<String>, Vec<String>) {
    let mut dropped = Vec::new();
    let mut now_required = Vec::new();
    for a in &old.attributes {
        match new.attribute(a.name) {
            None => dropped.push(a.name.to_string()),
            Some(b) if incompatible(a, b) => dropped.push(a.name.to_string()),
            Some(_) => {}
        }
    }
    for b in &new.attributes {
        let was_required = old.attribute(b.name).is_some_and(|a| a.required);
        if b.required && !was_required && !dropped.iter().any(|d| d.eq_ignore_ascii_case(b.name)) {
            now_required.push(b.name.to_string());
        }
    }
    (dropped, now_required)
}

/// Whether values stored under `a` may be invalid under `b`.
fn incompatible(a: &AttributeDef, b: &AttributeDef) -> bool {
    if a.attr_type != b.attr_type || a.multi_valued != b.multi_valued {
        return true;
    }
    // A sub-attribute removed or retyped changes what a stored value may be.
    a.sub_attributes
        .iter()
        .any(|s| match b.sub_attribute(s.name) {
            None => true,
            Some(t) => s.attr_type != t.attr_type || s.multi_valued != t.multi_valued,
        })
}

/// Replaces a declared schema. Adding attributes or relaxing one is always
/// allowed; a change that stored values would violate is refused with
/// `HoldsData` (how many resources) unless `force`, which removes the
/// values that no longer fit, in the same transaction, with one audit
/// entry. Attributes made required are never invented: with `force`, the
/// resources lacking them keep their other values and must supply them on
/// their next replace.
pub async fn replace(
    env: &Env<'_>,
    by: &Requester,
    urn: &str,
    request: DeclareRequest,
    force: bool,
    now: DateTime<Utc>,
) -> Result<SchemaView, SchemaError> {
    let decl = parse_request(&request)?;
    if !decl.schema.id.eq_ignore_ascii_case(urn) {
        return Err(field_errors(vec![DefinitionError {
            path: "schema.id".into(),
            message: format!("must be {urn}, the schema being replaced"),
        }]));
    }
    let base = Arc::clone(&env.base);
    let actor = by.actor.clone();
    let urn = urn.to_string();
    let definition = request.schema.clone();
    let required = request.required;
    let stored = store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        let (_, rows) = store::schemas::load(conn, actor.org_id)?;
        let key = store::schemas::urn_key(&urn);
        let Some(old_row) = rows.iter().find(|r| r.urn_key == key).cloned() else {
            return Ok(Err(SchemaError::NotFound(urn.clone())));
        };
        let Some(old) = declared_of(&old_row) else {
            return Err(StoreError::Db(format!("stored schema {urn} is unreadable")));
        };
        if !old.extends.eq_ignore_ascii_case(decl.extends) {
            return Ok(Err(field_errors(vec![DefinitionError {
                path: "extends".into(),
                message: format!(
                    "a declared schema keeps the resource type it extends ({}); remove and add it to move it",
                    old.extends
                ),
            }])));
        }
        let others = registry_without(&with_types(conn, &base, actor.org_id)?, &rows, Some(&urn));
        if let Err(e) = define::check_against(&others, &decl) {
            return Ok(Err(field_errors(e)));
        }
        let holder = holder_of(decl.extends);
        // The stored documents key the extension by its URN as first
        // declared; a replace keeps that spelling.
        let stored_urn = old_row.urn.clone();
        let (dropped, now_required) = changes(&old.schema, &decl.schema);
        let conflicting = if dropped.is_empty() {
            0
        } else {
            store::schemas::holding(conn, holder, actor.org_id, &stored_urn, &dropped)?
        };
        let newly_required = decl.required && !old.required;
        let lacking = if now_required.is_empty() && !newly_required {
            0
        } else {
            store::schemas::lacking(
                conn,
                holder,
                actor.org_id,
                &stored_urn,
                &now_required,
                newly_required,
            )?
        };
        if (conflicting > 0 || lacking > 0) && !force {
            let mut why = Vec::new();
            if conflicting > 0 {
                why.push(format!(
                    "{conflicting} resources hold values of {} that the new definition removes or retypes",
                    dropped.join(", ")
                ));
            }
            if lacking > 0 {
                why.push(format!(
                    "{lacking} resources lack a value the new definition requires"
                ));
            }
            return Ok(Err(SchemaError::HoldsData(format!(
                "{}; ?force=true (scimd schema add --force) applies it and removes the values that no longer fit",
                why.join("; ")
            ))));
        }
        if conflicting > 0 {
            store::schemas::strip(conn, holder, actor.org_id, &stored_urn, &dropped, now)?;
        }
        let mut definition = definition.clone();
        if let Some(obj) = definition.as_object_mut() {
            obj.insert("id".into(), Value::String(stored_urn.clone()));
        }
        let row = SchemaRow {
            org_id: actor.org_id,
            urn_key: key,
            urn: stored_urn,
            extends: old.extends.to_string(),
            required,
            definition,
            created_at: old_row.created_at,
            updated_at: now,
        };
        store::schemas::replace(conn, &row)?;
        let paths = define::indexed_paths(&decl.schema);
        store::schemas::set_indexed(conn, holder, actor.org_id, &row.urn, &paths, true, false)?;
        store::schemas::bump(conn, actor.org_id)?;
        let action = if force && (conflicting > 0 || lacking > 0) {
            "schema.replace.forced"
        } else {
            "schema.replace"
        };
        audit::record(conn, &actor, action, "Schema", &row.urn, 200, now)?;
        Ok(Ok(row))
    })
    .await??;
    Ok(SchemaView::of(stored, ""))
}

/// Removes a declared schema. Refused with `HoldsData` while resources
/// carry the extension, unless `force`, which removes it from them in the
/// same transaction, with one audit entry.
pub async fn remove(
    env: &Env<'_>,
    by: &Requester,
    urn: &str,
    force: bool,
    now: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let actor = by.actor.clone();
    let urn = urn.to_string();
    store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        let row = match store::schemas::get(conn, actor.org_id, &urn) {
            Ok(row) => row,
            Err(StoreError::NotFound) => return Ok(Err(SchemaError::NotFound(urn.clone()))),
            Err(e) => return Err(e),
        };
        let holder = holder_of(&row.extends);
        let n = store::schemas::holding(conn, holder, actor.org_id, &row.urn, &[])?;
        if n > 0 && !force {
            return Ok(Err(SchemaError::HoldsData(format!(
                "{n} {} resources carry this extension; ?force=true (scimd schema remove --force) removes it from them",
                row.extends
            ))));
        }
        if n > 0 {
            store::schemas::strip(conn, holder, actor.org_id, &row.urn, &[], now)?;
        }
        store::schemas::delete(conn, actor.org_id, &urn)?;
        store::schemas::set_indexed(conn, holder, actor.org_id, &row.urn, &[], false, false)?;
        store::schemas::bump(conn, actor.org_id)?;
        let action = if n > 0 { "schema.remove.forced" } else { "schema.remove" };
        audit::record(conn, &actor, action, "Schema", &row.urn, 204, now)?;
        Ok(Ok(()))
    })
    .await??;
    Ok(())
}

/// An organization's settings for attributes nobody declared.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `reject` (400 invalidValue naming the attribute) or `ignore` (the
    /// write goes ahead without it and its audit entry lists it).
    pub undeclared_attributes: String,
}

impl Settings {
    fn of(ignore_undeclared: bool) -> Settings {
        Settings {
            undeclared_attributes: if ignore_undeclared {
                "ignore"
            } else {
                "reject"
            }
            .into(),
        }
    }
}

pub async fn settings(pool: &PgPool, org: Uuid) -> Result<Settings, StoreError> {
    let loaded = store::read(pool, move |conn| store::schemas::load_all(conn, org)).await?;
    Ok(Settings::of(loaded.ignore_undeclared))
}

/// Changes the organization's `undeclared_attributes` setting; like a
/// schema change it moves the schema version on, so every instance applies
/// it from its next request, and it is audited.
pub async fn set_settings(
    env: &Env<'_>,
    by: &Requester,
    request: Settings,
    now: DateTime<Utc>,
) -> Result<Settings, SchemaError> {
    let ignore = match request.undeclared_attributes.as_str() {
        "ignore" => true,
        "reject" => false,
        _ => {
            return Err(SchemaError::Invalid(vec![FieldError {
                field: "undeclared_attributes".into(),
                message: "must be \"reject\" or \"ignore\"".into(),
            }]))
        }
    };
    let actor = by.actor.clone();
    store::in_tx(env.pool, env.retries, move |conn| {
        store::schemas::lock(conn, actor.org_id)?;
        store::schemas::set_undeclared(conn, actor.org_id, ignore)?;
        store::schemas::bump(conn, actor.org_id)?;
        let entry = audit::Entry::new(
            &actor,
            "organization.settings",
            "Organization",
            &actor.org_id.to_string(),
            200,
            now,
        );
        let entry = audit::Entry {
            details: Some(
                serde_json::json!({ "undeclared_attributes": request.undeclared_attributes }),
            ),
            ..entry
        };
        audit::insert(conn, &entry)?;
        Ok(())
    })
    .await?;
    Ok(Settings::of(ignore))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(attrs: Value) -> SchemaDef {
        define::parse_schema(
            &json!({"id": "urn:okta:x:1.0:user", "attributes": attrs}),
            "s",
        )
        .expect("valid")
    }

    #[test]
    fn changes_name_what_stored_values_would_violate() {
        let old = def(json!([
            {"name": "a", "type": "string"},
            {"name": "b", "type": "string"},
            {"name": "c", "type": "complex", "subAttributes": [{"name": "v", "type": "string"}]},
            {"name": "d", "type": "string", "required": true}
        ]));
        let new = def(json!([
            {"name": "a", "type": "string", "required": true},
            {"name": "b", "type": "integer"},
            {"name": "c", "type": "complex", "subAttributes": [{"name": "w", "type": "string"}]},
            {"name": "d", "type": "string"},
            {"name": "e", "type": "string"}
        ]));
        let (dropped, required) = changes(&old, &new);
        assert_eq!(dropped, vec!["b", "c"]);
        assert_eq!(required, vec!["a"]);
        // Adding and relaxing changes nothing stored.
        let (dropped, required) = changes(
            &new,
            &def(json!([
                {"name": "a", "type": "string"}, {"name": "b", "type": "integer"},
                {"name": "c", "type": "complex", "subAttributes": [{"name": "w", "type": "string"}, {"name": "x", "type": "string"}]},
                {"name": "d", "type": "string"}, {"name": "e", "type": "string"}, {"name": "f", "type": "binary"}
            ])),
        );
        assert!(dropped.is_empty() && required.is_empty());
    }

    #[test]
    fn an_extended_type_is_checked_against_the_registry() {
        // Any name parses (a declared type may be extended); the registry
        // the declaration would join says whether the type exists.
        let req = DeclareRequest {
            extends: "Device".into(),
            required: false,
            schema: json!({"id": "urn:okta:x:1.0:user", "attributes": [{"name": "a", "type": "string"}]}),
        };
        let decl = parse_request(&req).expect("parses");
        let e = define::check_against(&Registry::new(), &decl).expect_err("no Device here");
        assert_eq!(e[0].path, "extends");
    }
}
