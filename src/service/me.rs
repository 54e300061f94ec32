//! `/Me` (RFC 7644 §3.11) for connect-scoped tokens: a client plugin holds
//! one organization token and names the person by email. The person is
//! resolved on every request (so a user that the IdP deactivates or deletes
//! loses access on the next one) and may change only what a person may
//! change about themselves.

use serde_json::Value;

use super::resources::{self, wants_related, Change, Read, Update, Written};
use super::{Ctx, Result};
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::patch::{parse_request, PatchOp};
use crate::scim::path::AttrPath;
use crate::scim::resource::{Kind, Projection};
use crate::scim::schema::USER_SCHEMA;
use crate::store;
use crate::store::audit::Actor;
use crate::store::resources::Stored;
use crate::store::users::StoredUser;

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

/// The person a request acts for: the one user of `actor`'s organization
/// whose userName or an email is `email`.
pub async fn resolve(ctx: &Ctx, actor: &Actor, email: Option<&str>) -> Result<StoredUser> {
    let email = email
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ScimError::invalid_value("the x-user-email header names the user this request acts for; it is missing or empty"))?
        .to_string();
    let org = actor.org_id;
    let mut found = ctx
        .read(move |conn| store::users::by_email(conn, org, &email))
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

/// The audit actor for a write on `user`'s behalf.
fn acting_for(actor: &Actor, user: &StoredUser) -> Actor {
    let mut a = actor.clone();
    a.name = format!("{} for user {}", a.name, user.id);
    // A person changing their own record is not the connector whose token
    // the request came through: ownership does not apply (issue 17).
    a.connector = None;
    a
}

/// GET /Me.
pub async fn get(
    ctx: &Ctx,
    actor: &Actor,
    email: Option<&str>,
    p: &Projection,
    if_none_match: Option<EtagCondition>,
) -> Result<Read> {
    let user = resolve(ctx, actor, email).await?;
    let (org, id) = (actor.org_id, user.id);
    let mut stored = Stored::from(user);
    let not_modified = if_none_match
        .as_ref()
        .is_some_and(|c| c.matches(stored.meta.version));
    if !not_modified && wants_related(&ctx.registry(), Kind::User, p)? {
        let mut groups = ctx
            .read(move |conn| store::resources::related(conn, Kind::User, org, &[id]))
            .await?;
        stored.related = Some(groups.remove(&id).unwrap_or_default());
    }
    resources::answer(ctx, &stored, p, if_none_match)
}

/// PUT or PATCH /Me: the person's own record, within [`SELF_SERVICE`].
pub async fn write(
    ctx: &Ctx,
    actor: &Actor,
    email: Option<&str>,
    if_match: Option<EtagCondition>,
    change: Change,
    p: &Projection,
) -> Result<Written> {
    if let Change::Patch(body) = &change {
        check_ops(&parse_request(body, ctx.profile())?)?;
    }
    let user = resolve(ctx, actor, email).await?;
    let actor = acting_for(actor, &user);
    let update = Update::new(Kind::User, user.id, if_match, change).guarded(self_service_guard);
    resources::write(ctx, &actor, update, p).await
}

/// Creating and deleting people is the identity provider's job.
pub fn refuse_create_or_delete() -> ScimError {
    ScimError::new(
        403,
        None,
        "users are created and deleted by the identity provider, not through /Me",
    )
}

/// The attribute each PATCH operation names, checked before anything runs.
fn check_ops(ops: &[PatchOp]) -> std::result::Result<(), ScimError> {
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
                    .collect::<std::result::Result<_, _>>()?,
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
fn qualified_name(p: &AttrPath) -> std::result::Result<String, ScimError> {
    if !p.urn_is(USER_SCHEMA) {
        return Err(forbidden(&p.to_string()));
    }
    Ok(p.attr.clone())
}

/// After validation: nothing outside the self-service attributes changed.
/// Catches what op paths cannot show (a PUT, a no-path merge).
fn self_service_guard(current: &Value, new: &Value) -> std::result::Result<(), ScimError> {
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
