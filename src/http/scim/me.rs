//! `/Me` (RFC 7644 §3.11) for connect-scoped tokens: a client plugin holds
//! one organization token and names the person with `x-user-email`. The
//! person is resolved on every request (so a user that the IdP deactivates
//! or deletes loses access on the next one) and may change only what a
//! person may change about themselves.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::users::{self, Change};
use super::{condition, not_modified, resource_response, Ctx, Params, ScimBody};
use crate::auth::Principal;
use crate::http::authed::{Authed, ConnectRead, ConnectWrite};
use crate::http::error::ScimFailure;
use crate::scim::error::ScimError;
use crate::scim::patch::{parse_request, PatchOp};
use crate::scim::path::AttrPath;
use crate::scim::schema::USER_SCHEMA;
use crate::store::users::{self as user_store, StoredUser};
use crate::store::{self};

/// What a person may change about themselves; everything else belongs to
/// the identity provider.
pub const SELF_SERVICE: [&str; 10] = [
    "displayName",
    "nickName",
    "name",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
    "phoneNumbers",
    "addresses",
    "photos",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Me")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::post().to(refuse))
            .route(web::delete().to(refuse))
            .default_service(web::to(super::method_not_allowed)),
    );
}

fn allowed(name: &str) -> bool {
    SELF_SERVICE.iter().any(|a| a.eq_ignore_ascii_case(name))
}

fn forbidden(name: &str) -> ScimError {
    ScimError::new(
        403,
        None,
        format!("'{name}' cannot be changed through /Me; it is managed by the identity provider"),
    )
}

/// The person the request acts for, or why there is none.
async fn resolve(
    ctx: &Ctx,
    principal: &Principal,
    req: &HttpRequest,
) -> Result<StoredUser, ScimFailure> {
    let email = req
        .headers()
        .get("x-user-email")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ScimError::invalid_value("the x-user-email header names the user this request acts for; it is missing or empty"))?
        .to_string();
    let org = principal.org_id;
    let mut found = store::run(&ctx.state.pool, move |conn| {
        user_store::by_email(conn, org, &email)
    })
    .await?;
    let user = match found.len() {
        0 => return Err(ScimError::not_found("no user of this organization has that address").into()),
        1 => found.remove(0),
        _ => {
            return Err(ScimError::new(
                409,
                None,
                format!(
                    "the address matches more than one user ({} and {}); fix the directory so each address names one person",
                    found[0].id, found[1].id
                ),
            )
            .into())
        }
    };
    if user.doc.get("active") == Some(&Value::Bool(false)) {
        return Err(ScimError::new(403, None, "this user is deactivated").into());
    }
    // The address is personal data: the log gets the user id only.
    log::info!("/Me acts for user {}", user.id);
    Ok(user)
}

fn actor(principal: &Principal, user: &StoredUser) -> crate::store::audit::Actor {
    let mut a = principal.audit_actor();
    a.name = format!("{} for user {}", a.name, user.id);
    a
}

async fn get(
    auth: Authed<ConnectRead>,
    ctx: Ctx,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let user = resolve(&ctx, &auth, &req).await?;
    if let Some(resp) = not_modified(&req, user.meta.version) {
        return Ok(resp);
    }
    let (org, id, with_groups) = (auth.org_id, user.id, users::wants_groups(&ctx, &p)?);
    let groups = store::run(&ctx.state.pool, move |conn| {
        users::groups_if(conn, org, id, with_groups)
    })
    .await?;
    let json = users::to_json(&ctx, &user, groups.as_deref(), &p)?;
    Ok(resource_response(StatusCode::OK, &json, user.meta.version))
}

/// The attribute each PATCH operation names, checked before anything runs.
fn check_ops(ops: &[PatchOp]) -> Result<(), ScimError> {
    for op in ops {
        let names: Vec<String> = match &op.path {
            Some(path) => vec![qualified_name(path.attr())?],
            None => match &op.value {
                Some(Value::Object(m)) => m
                    .keys()
                    .filter(|k| !k.eq_ignore_ascii_case("schemas"))
                    .map(|k| {
                        AttrPath::parse(k)
                            .map_err(|_| forbidden(k))
                            .and_then(|p| qualified_name(&p))
                    })
                    .collect::<Result<_, _>>()?,
                _ => Vec::new(),
            },
        };
        if let Some(bad) = names.iter().find(|n| !allowed(n)) {
            return Err(forbidden(bad));
        }
    }
    Ok(())
}

/// The core attribute a path names; anything in another schema is refused.
fn qualified_name(p: &AttrPath) -> Result<String, ScimError> {
    if !p.urn_is(USER_SCHEMA) {
        return Err(forbidden(&p.to_string()));
    }
    Ok(p.attr.clone())
}

/// After validation: nothing outside the self-service attributes changed.
/// Catches what op paths cannot show (a PUT, a no-path merge).
fn self_service_guard(current: &Value, new: &Value) -> Result<(), ScimError> {
    let empty = serde_json::Map::new();
    let (c, n) = (
        current.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    for key in c.keys().chain(n.keys()) {
        if key == "schemas" || allowed(key) {
            continue;
        }
        if c.get(key) != n.get(key) {
            return Err(forbidden(key));
        }
    }
    Ok(())
}

async fn patch(
    auth: Authed<ConnectWrite>,
    ctx: Ctx,
    req: HttpRequest,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    check_ops(&parse_request(&body.0)?)?;
    write(auth, ctx, req, p, Change::Patch(body.0)).await
}

async fn replace(
    auth: Authed<ConnectWrite>,
    ctx: Ctx,
    req: HttpRequest,
    params: Params,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    write(auth, ctx, req, p, Change::Replace(body.0)).await
}

async fn write(
    auth: Authed<ConnectWrite>,
    ctx: Ctx,
    req: HttpRequest,
    p: super::Projection,
    change: Change,
) -> Result<HttpResponse, ScimFailure> {
    let user = resolve(&ctx, &auth, &req).await?;
    let if_match = condition(&req, header::IF_MATCH);
    let actor = actor(&auth, &user);
    let w = users::write_user_guarded(
        &ctx,
        &actor,
        user.id,
        if_match,
        change,
        &p,
        Some(self_service_guard),
    )
    .await?;
    Ok(resource_response(StatusCode::OK, &w.json, w.version))
}

/// Creating and deleting people is the identity provider's job.
async fn refuse(_auth: Authed<ConnectRead>) -> Result<HttpResponse, ScimFailure> {
    Err(ScimError::new(
        403,
        None,
        "users are created and deleted by the identity provider, not through /Me",
    )
    .into())
}
