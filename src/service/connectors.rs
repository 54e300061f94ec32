//! Connectors (issue 17): create, list, change and delete the identity
//! sources of an organization, mint their tokens, set the organization's
//! policies, and transfer ownership of resources. Every change is one
//! transaction with its audit entry, and bumps the organization's schema
//! version (connectors and policies are part of what a request's registry
//! carries), so every instance serves it from its next request.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::tokens::{self, CreatedToken, NewToken, TokenError};
use super::{FieldError, Requester};
use crate::auth::scope::Scope;
use crate::scim::policy::{ConnectorPolicy, DeleteMode, OrgPolicy, Ownership, RateLimit};
use crate::store::audit::{self, Entry};
use crate::store::connectors::{self as rows, ConnectorRow, OrgSettings, Table};
use crate::store::{self, PgPool, StoreError, TxRetries};

/// The kinds of identity source scimd knows the habits of.
pub const KINDS: &[&str] = &["okta", "entra", "generic"];
/// The compatibility profiles a connector may be held to.
pub const PROFILES: &[&str] = &["lenient", "okta", "entra", "strict"];

/// The profile a connector of `kind` gets when none is asked for.
fn default_profile(kind: &str) -> &'static str {
    match kind {
        "okta" => "okta",
        "entra" => "entra",
        _ => "lenient",
    }
}

/// A connector as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub profile: String,
    /// The connector's own ownership policy; `null`: the organization's.
    pub ownership: Option<String>,
    /// The policy its writes are held to.
    pub effective_ownership: String,
    pub rate_limit: Option<RateLimit>,
    pub scim_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its traffic, from the request log (in lists and reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<crate::store::request_log::Activity>,
}

impl ConnectorView {
    fn new(r: ConnectorRow, org_ownership: &str, scim_url: &str) -> Self {
        ConnectorView {
            id: r.id,
            effective_ownership: r.ownership.clone().unwrap_or_else(|| org_ownership.into()),
            rate_limit: rate_of(&r),
            name: r.name,
            kind: r.kind,
            profile: r.profile,
            ownership: r.ownership,
            scim_url: scim_url.to_string(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            activity: None,
        }
    }
}

fn rate_of(r: &ConnectorRow) -> Option<RateLimit> {
    crate::scim::policy::RateLimit::from_columns(r.rate_per_second, r.rate_burst)
}

/// A new connector and the value of its first token, shown once.
#[derive(Debug, Serialize)]
pub struct CreatedConnector {
    #[serde(flatten)]
    pub view: ConnectorView,
    pub token: String,
    pub token_id: Uuid,
}

pub use super::tokens::RateLimitRequest;

/// The body of `POST /api/v1/connectors`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectorRequest {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub ownership: Option<String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimitRequest>,
}

/// A field that may be absent (leave it), `null` (clear it) or a value.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The body of `PATCH /api/v1/connectors/{id}`: only what it names changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchConnectorRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    /// `null`: follow the organization's policy.
    #[serde(default, deserialize_with = "nullable")]
    pub ownership: Option<Option<String>>,
    /// `null`: no limit.
    #[serde(default, deserialize_with = "nullable")]
    pub rate_limit: Option<Option<RateLimitRequest>>,
}

/// The body of `POST /api/v1/connectors/{id}/tokens`; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorTokenRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Why a connector operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("{}", FieldError::summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("no such connector")]
    NotFound,
    #[error("a connector named '{0}' already exists in this organization")]
    Exists(String),
    #[error("connector '{name}' still owns {count} resources; transfer them first (POST /api/v1/ownership/transfer with {{\"from\": \"{id}\", \"to\": …}}, or `scimd connector transfer`)")]
    Owns { name: String, id: Uuid, count: i64 },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    let n = name.chars().count();
    if !(1..=100).contains(&n) || name.trim().is_empty() {
        errors.push(field("name", "must be 1 to 100 characters, not all blank"));
    } else if name.chars().any(char::is_control) {
        errors.push(field("name", "must not contain control characters"));
    }
}

fn check_one_of(name: &str, value: &str, allowed: &[&str], errors: &mut Vec<FieldError>) {
    if !allowed.contains(&value) {
        errors.push(field(
            name,
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

use super::tokens::check_rate;

impl CreateConnectorRequest {
    fn check(self, org: Uuid, now: DateTime<Utc>) -> Result<ConnectorRow, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_name(&self.name, &mut errors);
        check_one_of("kind", &self.kind, KINDS, &mut errors);
        let profile = self
            .profile
            .clone()
            .unwrap_or_else(|| default_profile(&self.kind).to_string());
        check_one_of("profile", &profile, PROFILES, &mut errors);
        if let Some(o) = &self.ownership {
            check_one_of("ownership", o, &["shared", "owned"], &mut errors);
        }
        let rate = self
            .rate_limit
            .as_ref()
            .and_then(|r| check_rate(r, &mut errors));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ConnectorRow {
            id: Uuid::now_v7(),
            org_id: org,
            name: self.name,
            kind: self.kind,
            profile,
            ownership: self.ownership,
            rate_per_second: rate.map(|r| r.0),
            rate_burst: rate.map(|r| r.1),
            created_at: now,
            updated_at: now,
        })
    }
}

impl PatchConnectorRequest {
    /// `current` with this change applied, or what is wrong with it.
    fn apply(
        &self,
        mut row: ConnectorRow,
        now: DateTime<Utc>,
    ) -> Result<ConnectorRow, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(n) = &self.name {
            check_name(n, &mut errors);
            row.name = n.clone();
        }
        if let Some(k) = &self.kind {
            check_one_of("kind", k, KINDS, &mut errors);
            row.kind = k.clone();
        }
        if let Some(p) = &self.profile {
            check_one_of("profile", p, PROFILES, &mut errors);
            row.profile = p.clone();
        }
        if let Some(o) = &self.ownership {
            if let Some(o) = o {
                check_one_of("ownership", o, &["shared", "owned"], &mut errors);
            }
            row.ownership = o.clone();
        }
        if let Some(r) = &self.rate_limit {
            let rate = r.as_ref().and_then(|r| check_rate(r, &mut errors));
            row.rate_per_second = rate.map(|r| r.0);
            row.rate_burst = rate.map(|r| r.1);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        row.updated_at = now;
        Ok(row)
    }
}

fn named_conflict(e: StoreError, name: &str) -> ConnectorError {
    match e {
        StoreError::Conflict(c) if c == "connectors_org_name_key" => {
            ConnectorError::Exists(name.to_string())
        }
        StoreError::NotFound => ConnectorError::NotFound,
        other => ConnectorError::Store(other),
    }
}

/// Where things live for a request: the SCIM base URL a connector's view
/// names, the pool, and the retry budget of its transactions.
pub struct Env<'a> {
    pub pool: &'a PgPool,
    pub retries: &'a Arc<TxRetries>,
    /// e.g. `https://scim.example.com/scim/v2`.
    pub scim_url: String,
    /// `SCIMD_MAX_TOKENS_PER_ORG`.
    pub max_tokens: i64,
}

/// Creates a connector and its first `admin:scim` token, audited, in one
/// transaction.
pub async fn create(
    env: &Env<'_>,
    by: &Requester,
    request: CreateConnectorRequest,
    now: DateTime<Utc>,
) -> Result<CreatedConnector, ConnectorError> {
    let row = request
        .check(by.org_id(), now)
        .map_err(ConnectorError::Invalid)?;
    let new = NewToken {
        name: row.name.clone(),
        scopes: vec![Scope::AdminScim],
        expires_at: None,
        connector: Some(row.id),
        // A connector's tokens share the connector's limit.
        rate: None,
    };
    let (actor, created_by, max) = (by.actor.clone(), by.created_by.clone(), env.max_tokens);
    let name = row.name.clone();
    let (row, token, ownership) = store::in_tx(env.pool, env.retries, move |conn| {
        rows::insert(conn, &row)?;
        let token =
            match tokens::issue_limited(conn, actor.org_id, new.clone(), &created_by, max, now)? {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
        let settings = rows::settings(conn, actor.org_id)?;
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "connector.create",
                "Connector",
                &row.id.to_string(),
                201,
                now,
            )
            .with_details(
                serde_json::json!({"name": row.name, "kind": row.kind, "profile": row.profile}),
            ),
        )?;
        store::schemas::bump(conn, actor.org_id)?;
        Ok(Ok((row.clone(), token, settings.ownership)))
    })
    .await
    .map_err(|e| named_conflict(e, &name))??;
    Ok(CreatedConnector {
        view: ConnectorView::new(row, &ownership, &env.scim_url),
        token_id: token.view.id,
        token: token.token,
    })
}

/// The organization's connectors, each with its recent traffic.
pub async fn list(
    env: &Env<'_>,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<ConnectorView>, ConnectorError> {
    let (list, settings, mut activity) = store::read(env.pool, move |conn| {
        Ok((
            rows::list(conn, org)?,
            rows::settings(conn, org)?,
            store::request_log::activity(conn, org, None, now)?,
        ))
    })
    .await?;
    Ok(list
        .into_iter()
        .map(|r| {
            let a = activity.remove(&r.id).unwrap_or_default();
            ConnectorView {
                activity: Some(a),
                ..ConnectorView::new(r, &settings.ownership, &env.scim_url)
            }
        })
        .collect())
}

pub async fn get(
    env: &Env<'_>,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ConnectorView, ConnectorError> {
    let (row, settings, mut activity) = store::read(env.pool, move |conn| {
        Ok((
            rows::get(conn, org, id)?,
            rows::settings(conn, org)?,
            store::request_log::activity(conn, org, Some(id), now)?,
        ))
    })
    .await
    .map_err(|e| named_conflict(e, ""))?;
    Ok(ConnectorView {
        activity: Some(activity.remove(&id).unwrap_or_default()),
        ..ConnectorView::new(row, &settings.ownership, &env.scim_url)
    })
}

/// `NotFound` unless `org` has connector `id`: one primary-key read, for
/// the routes under a connector that do not show it.
pub async fn ensure(pool: &PgPool, org: Uuid, id: Uuid) -> Result<(), ConnectorError> {
    store::read(pool, move |conn| rows::get(conn, org, id))
        .await
        .map(|_| ())
        .map_err(|e| named_conflict(e, ""))
}

/// Applies `patch` to connector `id`, audited.
pub async fn update(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    patch: PatchConnectorRequest,
    now: DateTime<Utc>,
) -> Result<ConnectorView, ConnectorError> {
    let actor = by.actor.clone();
    let name = patch.name.clone().unwrap_or_default();
    let (row, ownership) = store::in_tx(env.pool, env.retries, move |conn| {
        let current = rows::get(conn, actor.org_id, id)?;
        let next = match patch.apply(current, now) {
            Ok(n) => n,
            Err(errors) => return Ok(Err(ConnectorError::Invalid(errors))),
        };
        rows::update(conn, &next)?;
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "connector.update",
                "Connector",
                &id.to_string(),
                200,
                now,
            )
            .with_details(serde_json::json!({
                "name": next.name, "kind": next.kind, "profile": next.profile,
                "ownership": next.ownership, "rate_per_second": next.rate_per_second,
                "rate_burst": next.rate_burst,
            })),
        )?;
        store::schemas::bump(conn, actor.org_id)?;
        let settings = rows::settings(conn, actor.org_id)?;
        Ok(Ok((next, settings.ownership)))
    })
    .await
    .map_err(|e| named_conflict(e, &name))??;
    Ok(ConnectorView::new(row, &ownership, &env.scim_url))
}

/// Deletes connector `id` and its tokens (they fail from the next request,
/// on every instance), unless it still owns resources: those would be left
/// for nobody but an administrator to change.
pub async fn delete(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ConnectorError> {
    let actor = by.actor.clone();
    store::in_tx(env.pool, env.retries, move |conn| {
        let current = rows::get(conn, actor.org_id, id)?;
        let count = rows::owned_count(conn, actor.org_id, id)?;
        if count > 0 {
            return Ok(Err(ConnectorError::Owns {
                name: current.name,
                id,
                count,
            }));
        }
        let tokens = rows::token_ids(conn, actor.org_id, id)?;
        rows::delete(conn, actor.org_id, id)?;
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "connector.delete",
                "Connector",
                &id.to_string(),
                204,
                now,
            )
            .with_details(serde_json::json!({"name": current.name, "tokens_deleted": tokens})),
        )?;
        store::schemas::bump(conn, actor.org_id)?;
        Ok(Ok(()))
    })
    .await
    .map_err(|e| named_conflict(e, ""))?
}

/// Mints another token for connector `id` (default: named after it, scope
/// `admin:scim`).
pub async fn mint_token(
    env: &Env<'_>,
    by: &Requester,
    id: Uuid,
    request: ConnectorTokenRequest,
    now: DateTime<Utc>,
) -> Result<CreatedToken, ConnectorError> {
    let (org, actor, created_by, max) = (
        by.org_id(),
        by.actor.clone(),
        by.created_by.clone(),
        env.max_tokens,
    );
    let pool = env.pool;
    let connector = store::read(pool, move |conn| rows::get(conn, org, id))
        .await
        .map_err(|e| named_conflict(e, ""))?;
    let checked = tokens::CreateTokenRequest {
        name: request.name.unwrap_or(connector.name),
        scopes: request.scopes.unwrap_or_else(|| vec!["admin:scim".into()]),
        expires_at: request.expires_at,
        rate_limit: None,
    }
    .check(now)
    .map_err(ConnectorError::Invalid)?;
    let new = NewToken {
        connector: Some(id),
        ..checked
    };
    store::in_tx(pool, env.retries, move |conn| {
        // The connector is locked so that a concurrent delete cannot leave
        // a token for a connector that no longer exists.
        rows::lock(conn, org, id)?;
        let token = match tokens::issue_limited(conn, org, new.clone(), &created_by, max, now)? {
            Ok(t) => t,
            Err(e) => return Ok(Err(ConnectorError::Token(e))),
        };
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "token.create",
                "Token",
                &token.view.id.to_string(),
                201,
                now,
            )
            .with_details(serde_json::json!({"connector": id})),
        )?;
        Ok(Ok(token))
    })
    .await
    .map_err(|e| named_conflict(e, ""))?
}

/// An organization's policies, as `GET /api/v1/org` shows them.
#[derive(Debug, Clone, Serialize)]
pub struct OrgView {
    pub id: Uuid,
    pub name: String,
    pub ownership: String,
    pub delete: String,
    pub retention_days: i32,
}

/// The body of `PATCH /api/v1/org`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsRequest {
    #[serde(default)]
    pub ownership: Option<String>,
    #[serde(default)]
    pub delete: Option<String>,
    #[serde(default)]
    pub retention_days: Option<i64>,
}

impl OrgSettingsRequest {
    fn apply(&self, mut s: OrgSettings) -> Result<OrgSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(o) = &self.ownership {
            check_one_of("ownership", o, &["shared", "owned"], &mut errors);
            s.ownership = o.clone();
        }
        if let Some(d) = &self.delete {
            check_one_of("delete", d, &["hard", "soft"], &mut errors);
            s.delete_mode = d.clone();
        }
        if let Some(r) = self.retention_days {
            match i32::try_from(r) {
                Ok(r) if (1..=3650).contains(&r) => s.retention_days = r,
                _ => errors.push(field(
                    "retention_days",
                    "must be a whole number of days from 1 to 3650",
                )),
            }
        }
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(errors)
        }
    }
}

fn org_view(id: Uuid, name: String, s: OrgSettings) -> OrgView {
    OrgView {
        id,
        name,
        ownership: s.ownership,
        delete: s.delete_mode,
        retention_days: s.retention_days,
    }
}

pub async fn org_settings(pool: &PgPool, org: Uuid) -> Result<OrgView, StoreError> {
    let (o, s) = store::read(pool, move |conn| {
        Ok((store::orgs::get(conn, org)?, rows::settings(conn, org)?))
    })
    .await?;
    Ok(org_view(o.id, o.name, s))
}

/// Changes the requester's organization's policies, audited.
pub async fn configure_org(
    pool: &PgPool,
    retries: &Arc<TxRetries>,
    by: &Requester,
    request: OrgSettingsRequest,
    now: DateTime<Utc>,
) -> Result<OrgView, ConnectorError> {
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        let org = store::orgs::get(conn, actor.org_id)?;
        let next = match request.apply(rows::settings(conn, actor.org_id)?) {
            Ok(n) => n,
            Err(errors) => return Ok(Err(ConnectorError::Invalid(errors))),
        };
        rows::set_settings(conn, actor.org_id, &next)?;
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "org.configure",
                "Organization",
                &org.id.to_string(),
                200,
                now,
            )
            .with_details(serde_json::json!({
                "ownership": next.ownership, "delete": next.delete_mode,
                "retention_days": next.retention_days,
            })),
        )?;
        store::schemas::bump(conn, actor.org_id)?;
        Ok(Ok(org_view(org.id, org.name, next)))
    })
    .await?
}

/// The body of `POST /api/v1/ownership/transfer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The connector whose resources move; `null`: those no connector owns.
    /// Ignored (may be left out) when `resource_id` names one resource.
    #[serde(default)]
    pub from: Option<Uuid>,
    /// The new owner; `null`: no connector (only credentials without a
    /// connector may then change them under `owned`).
    pub to: Option<Uuid>,
    /// `User`, `Group` or a declared type's name; absent: every type.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// One resource (then `resource_type` is required).
    #[serde(default)]
    pub resource_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transferred {
    pub transferred: usize,
}

/// Moves ownership of resources from one connector to another, audited as
/// one entry that names both and the count.
pub async fn transfer(
    pool: &PgPool,
    retries: &Arc<TxRetries>,
    by: &Requester,
    request: TransferRequest,
    now: DateTime<Utc>,
) -> Result<Transferred, ConnectorError> {
    if request.resource_id.is_some() && request.resource_type.is_none() {
        return Err(ConnectorError::Invalid(vec![field(
            "resource_type",
            "is required with resource_id",
        )]));
    }
    let actor = by.actor.clone();
    store::in_tx(pool, retries, move |conn| {
        let org = actor.org_id;
        let declared: Vec<String> = store::custom::types(conn, org)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let tables: Vec<(Table, Option<String>)> = match request.resource_type.as_deref() {
            None => [(Table::Users, None), (Table::Groups, None)]
                .into_iter()
                .chain(
                    declared
                        .iter()
                        .map(|t| (Table::Declared, Some(store::custom::key(t)))),
                )
                .collect(),
            Some(t) if t.eq_ignore_ascii_case("User") => vec![(Table::Users, None)],
            Some(t) if t.eq_ignore_ascii_case("Group") => vec![(Table::Groups, None)],
            Some(t) if declared.iter().any(|d| d.eq_ignore_ascii_case(t)) => {
                vec![(Table::Declared, Some(store::custom::key(t)))]
            }
            Some(_) => {
                return Ok(Err(ConnectorError::Invalid(vec![field(
                    "resource_type",
                    "is not a resource type of this organization",
                )])))
            }
        };
        for c in [request.from, request.to].into_iter().flatten() {
            if rows::get(conn, org, c).is_err() {
                return Ok(Err(ConnectorError::Invalid(vec![field(
                    if Some(c) == request.to { "to" } else { "from" },
                    format!("no connector {c} in this organization"),
                )])));
            }
        }
        let mut moved = 0;
        let mut from = request.from;
        for (table, key) in &tables {
            if let Some(id) = request.resource_id {
                let Some(owner) = rows::owner_of(conn, org, *table, key.as_deref(), id)? else {
                    return Ok(Err(ConnectorError::NotFound));
                };
                from = owner;
            }
            moved += rows::transfer(
                conn,
                org,
                *table,
                key.as_deref(),
                request.resource_id,
                from,
                request.to,
            )?;
        }
        let resource = request
            .resource_id
            .map_or_else(|| "*".to_string(), |id| id.to_string());
        audit::insert(
            conn,
            &Entry::new(
                &actor,
                "ownership.transfer",
                request.resource_type.as_deref().unwrap_or("*"),
                &resource,
                200,
                now,
            )
            .with_details(
                serde_json::json!({"from": from, "to": request.to, "transferred": moved}),
            ),
        )?;
        Ok(Ok(Transferred { transferred: moved }))
    })
    .await?
}

/// A connector as the provenance view names it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorRef {
    pub id: Uuid,
    /// `null` for a connector since deleted.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExternalIdView {
    pub value: String,
    /// The connector that set it; `null`: a credential with no connector.
    pub connector: Option<ConnectorRef>,
}

/// Where a resource came from, as an administrator sees it: every
/// connector's part, labelled.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceView {
    pub resource_type: String,
    pub id: Uuid,
    pub created_by: Option<ConnectorRef>,
    pub owner: Option<ConnectorRef>,
    pub external_id: Option<ExternalIdView>,
}

/// The provenance of resource `id` of type `resource_type`.
pub async fn provenance(
    pool: &PgPool,
    org: Uuid,
    resource_type: String,
    id: Uuid,
) -> Result<ProvenanceView, ConnectorError> {
    store::read(pool, move |conn| {
        let declared = store::custom::types(conn, org)?;
        let (table, key, name) = if resource_type.eq_ignore_ascii_case("User") {
            (Table::Users, None, "User".to_string())
        } else if resource_type.eq_ignore_ascii_case("Group") {
            (Table::Groups, None, "Group".to_string())
        } else if let Some(t) = declared
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&resource_type))
        {
            (
                Table::Declared,
                Some(store::custom::key(&t.name)),
                t.name.clone(),
            )
        } else {
            return Ok(Err(ConnectorError::NotFound));
        };
        let Some((created_by, owner, external_id, external_id_by)) =
            rows::provenance(conn, org, table, key.as_deref(), id)?
        else {
            return Ok(Err(ConnectorError::NotFound));
        };
        let names: HashMap<Uuid, String> = rows::list(conn, org)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let named = |c: Option<Uuid>| {
            c.map(|id| ConnectorRef {
                id,
                name: names.get(&id).cloned(),
            })
        };
        Ok(Ok(ProvenanceView {
            resource_type: name,
            id,
            created_by: named(created_by),
            owner: named(owner),
            external_id: external_id.map(|value| ExternalIdView {
                value,
                connector: named(external_id_by),
            }),
        }))
    })
    .await?
}

/// An organization's policies and connectors as a registry carries them.
pub fn policy_of(settings: &OrgSettings, connectors: &[ConnectorRow]) -> OrgPolicy {
    let connectors: HashMap<Uuid, ConnectorPolicy> = connectors
        .iter()
        .map(|c| {
            (
                c.id,
                ConnectorPolicy {
                    name: c.name.clone(),
                    ownership: c.ownership.as_deref().and_then(Ownership::parse),
                    // A value this version does not know (written by a
                    // newer one) reads as the most lenient.
                    profile: crate::scim::profile::Profile::parse(&c.profile).unwrap_or_default(),
                    rate_limit: rate_of(c),
                },
            )
        })
        .collect();
    OrgPolicy {
        ownership: Ownership::parse(&settings.ownership).unwrap_or_default(),
        delete: DeleteMode::parse(&settings.delete_mode).unwrap_or_default(),
        retention_days: settings.retention_days,
        connectors,
    }
}
