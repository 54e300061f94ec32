//! The one write path for SCIM resources (RFC 7644 §3.3–3.6), Users and
//! Groups alike, with the resource type as data. Every write is one
//! transaction: lock the row, check `If-Match`, apply the change with the
//! pure engines (`scim::patch`, `scim::schema::validate`), store it, write
//! the audit entry, read back what the answer shows.

use std::borrow::Cow;

use serde_json::Value;
use uuid::Uuid;

use super::members::{members_change, take_members};
use super::{blocking, ownership, password, Ctx, Result};
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::limits;
use crate::scim::patch::{self, PatchOp};
use crate::scim::policy::DeleteMode;
use crate::scim::profile::Profile;
use crate::scim::resource::{
    render_owned as render_doc, Kind, Origin, Projection, Reference, ResourceInfo, Verb,
};
use crate::scim::schema::{
    needs_attribute, project_owned as project, validate_collecting, Registry, ResourceTypeDef,
    WriteMode,
};
use crate::store;
use crate::store::archive;
use crate::store::audit::{self, Actor};
use crate::store::events;
use crate::store::groups::MembersChange;
use crate::store::resources::{self, Side, Stored, Write};

/// What a PUT or PATCH brings.
#[derive(Clone)]
pub enum Change {
    Replace(Value),
    Patch(Value),
}

/// A PUT or PATCH of one resource: which, under what condition, and the
/// change.
pub struct Update {
    pub kind: Kind,
    pub id: Uuid,
    pub if_match: Option<EtagCondition>,
    pub change: Change,
    pub guard: Option<Guard>,
}

impl Update {
    pub fn new(kind: Kind, id: Uuid, if_match: Option<EtagCondition>, change: Change) -> Self {
        Update {
            kind,
            id,
            if_match,
            change,
            guard: None,
        }
    }

    /// This update, checked by `guard` before it is stored.
    pub fn guarded(self, guard: Guard) -> Self {
        Update {
            guard: Some(guard),
            ..self
        }
    }
}

/// The result of a write. `json` is `None` when the resource changed but is
/// too large to return (a PATCH of a big group, answered 204); the version
/// is reported either way.
#[derive(Debug)]
pub struct Written {
    pub id: Uuid,
    pub json: Option<Value>,
    pub version: i64,
}

/// The result of a read: the representation, or only the version when the
/// client already has it (`If-None-Match`, RFC 7644 §3.14).
pub enum Read {
    NotModified(i64),
    Found { json: Value, version: i64 },
}

/// Checks a write before it is stored: gets the stored and the new document
/// (the latter validated, password still in it). `/Me` uses one to keep a
/// person to the attributes they may change about themselves.
pub type Guard = fn(&Value, &Value) -> std::result::Result<(), ScimError>;

/// Whether a group PATCH answers 200 with the group rather than 204 with
/// its ETag (RFC 7644 §3.5.2 allows either): only when the request says
/// what it wants shown (`attributes` or `excludedAttributes`). Otherwise a
/// member add would read and render every member, at a cost that grows
/// with the group; Entra ID and Okta expect 204 for a group PATCH anyway.
fn patch_shows_group(p: &Projection) -> bool {
    !p.attributes.is_empty() || !p.excluded.is_empty()
}

pub fn resource_type(
    reg: &Registry,
    kind: Kind,
) -> std::result::Result<&ResourceTypeDef, ScimError> {
    reg.resource_type(kind.name()).ok_or_else(|| {
        ScimError::new(
            500,
            None,
            format!("{} resource type is not registered", kind.name()),
        )
    })
}

/// Whether the answer shows `kind`'s related resources (a user's `groups`,
/// a group's `members`), so they must be read.
pub fn wants_related(
    reg: &Registry,
    kind: Kind,
    p: &Projection,
) -> std::result::Result<bool, ScimError> {
    Ok(needs_attribute(
        reg,
        resource_type(reg, kind)?,
        kind.related_attr(),
        &p.attributes,
        &p.excluded,
    ))
}

/// The representation of `r`, projected as the request asked.
pub fn render(ctx: &Ctx, r: &Stored, p: &Projection) -> std::result::Result<Value, ScimError> {
    render_owned(ctx, r.clone(), p)
}

/// [`render`], consuming the stored resource: its document's values move
/// into the answer instead of being copied (a list page renders many).
pub fn render_owned(ctx: &Ctx, r: Stored, p: &Projection) -> std::result::Result<Value, ScimError> {
    let reg = &ctx.registry();
    let id = r.id.to_string();
    let info = ResourceInfo {
        id: &id,
        resource_type: r.kind.name(),
        created: r.meta.created,
        last_modified: r.meta.last_modified,
        version: r.meta.version,
        location: format!("{}/{}/{id}", ctx.base, r.kind.endpoint()),
    };
    let refs: Option<Vec<Reference>> = r.related.as_ref().map(|rs| {
        rs.iter()
            .map(|x| Reference {
                value: x.id.to_string(),
                reference: format!("{}/{}/{}", ctx.base, x.kind.endpoint(), x.id),
                display: x.display.clone(),
                kind: x.label,
            })
            .collect()
    });
    let mut doc = r.doc;
    ownership::hide(ctx.caller(), &r.meta.origin, &mut doc);
    if resource_type(reg, r.kind)?.has_schema(crate::scim::schema::PROVENANCE_SCHEMA) {
        crate::scim::schema::provenance::add(reg.policy(), &r.meta.origin, &mut doc);
    }
    let full = render_doc(doc, &info, r.kind.related_attr(), refs.as_deref());
    Ok(project(
        reg,
        resource_type(reg, r.kind)?,
        full,
        &p.attributes,
        &p.excluded,
    ))
}

/// Parses a resource id from a path. Ids are UUIDs; anything else cannot
/// name a resource, so it is a 404 like an unknown id.
pub fn parse_id(raw: &str) -> std::result::Result<Uuid, ScimError> {
    Uuid::parse_str(raw).map_err(|_| ScimError::not_found(format!("resource {raw} not found")))
}

/// POST: validates (and hashes a user's password) on the blocking pool
/// before a connection is taken, then stores the resource and its audit
/// entry in one transaction.
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    kind: Kind,
    body: Value,
    p: &Projection,
) -> Result<Written> {
    let (reg, profile) = (ctx.registry(), ctx.profile());
    let with_related = wants_related(&reg, kind, p)?;
    let caller = actor.connector;
    let write = blocking(move || {
        let rt = resource_type(&reg, kind)?;
        limits::check_resource(rt, &body, reg.max_values())?;
        let (mut doc, ignored) = validate_collecting(&reg, rt, &body, WriteMode::Create, profile)?;
        let side = match kind {
            Kind::User => Side::Password(password::take(&mut doc, None)?),
            Kind::Group => Side::Members(MembersChange::Replace(take_members(&mut doc)?)),
        };
        let origin = ownership::created(caller, &doc);
        Ok(Write {
            doc,
            side,
            ignored,
            origin,
        })
    })
    .await?;
    let (actor, now) = (actor.clone(), ctx.state.clock.now());
    if let Some(stored) = recreate(ctx, &actor, kind, &write, with_related).await? {
        return Ok(Written {
            id: stored.id,
            json: Some(render(ctx, &stored, p)?),
            version: stored.meta.version,
        });
    }
    if kind == Kind::User {
        // One statement writes the user and its audit entry: no BEGIN or
        // COMMIT. The id is chosen here so a repeat after a lost connection
        // writes the same one (see `store::single`).
        let id = Uuid::now_v7();
        let entry = audit::Entry::new(
            &actor,
            kind.action(Verb::Create),
            kind.name(),
            &id.to_string(),
            201,
            now,
        )
        .with_dropped(&write.ignored);
        let org = actor.org_id;
        let mut stored = ctx
            .single_probed(move |conn, again, cp| {
                // The check rides in the insert: a token found not live
                // wrote nothing, and the full read then says why.
                let probe = cp.probe();
                let (stored, probed) = resources::create_user_audited(
                    conn,
                    org,
                    id,
                    &write,
                    &entry,
                    again,
                    probe.as_ref(),
                )?;
                cp.settle(conn, probed)?;
                if probed == store::tokens::Probed::NotLive {
                    // The full read found the token good after all (it
                    // changed between the two): nothing was stored.
                    return Err(store::StoreError::Unavailable(
                        "the token changed during the request".into(),
                    ));
                }
                Ok(stored)
            })
            .await?;
        // A new user is in no group yet.
        if with_related {
            stored.related = Some(Vec::new());
        }
        return Ok(Written {
            id: stored.id,
            json: Some(render(ctx, &stored, p)?),
            version: stored.meta.version,
        });
    }
    let stored = ctx
        .in_tx(move |conn| {
            let ignored = write.ignored.clone();
            let mut created = resources::create(conn, kind, actor.org_id, write.clone(), now)?;
            let id = created.id.to_string();
            let entry = audit::Entry::new(
                &actor,
                kind.action(Verb::Create),
                kind.name(),
                &id,
                201,
                now,
            )
            .with_dropped(&ignored);
            let members = match &write.side {
                Side::Members(MembersChange::Replace(ids)) if !ids.is_empty() => {
                    Some(serde_json::json!({"added": ids, "removed": []}))
                }
                _ => None,
            };
            let change =
                events::Change::between(None, Some(&created.doc), Some(1)).with_members(members);
            events::record(conn, &entry, created.id, &change)?;
            if with_related {
                // A new user is in no group yet; a new group's members are read
                // back for their display names.
                created.related = match kind {
                    Kind::User => Some(Vec::new()),
                    Kind::Group => resources::related(conn, kind, actor.org_id, &[created.id])?
                        .remove(&created.id)
                        .or(Some(Vec::new())),
                };
            }
            Ok(created)
        })
        .await?;
    Ok(Written {
        id: stored.id,
        json: Some(render(ctx, &stored, p)?),
        version: stored.meta.version,
    })
}

/// A create by the connector that soft-deleted the same resource (the same
/// `externalId`) within the retention period: the old resource comes back,
/// with its id and memberships, and takes the new representation, so links
/// other systems hold to it stay valid. `None` when there is nothing to
/// bring back (or the organization deletes hard): create as usual. Costs
/// one lookup, only for connectors of organizations that delete softly.
async fn recreate(
    ctx: &Ctx,
    actor: &Actor,
    kind: Kind,
    write: &Write,
    with_related: bool,
) -> Result<Option<Stored>> {
    let reg = ctx.registry();
    let policy = reg.policy();
    let (Some(connector), Some(external_id)) = (
        actor.connector,
        write.doc.get("externalId").and_then(Value::as_str),
    ) else {
        return Ok(None);
    };
    if policy.delete != DeleteMode::Soft {
        return Ok(None);
    }
    let (actor, write, external_id) = (actor.clone(), write.clone(), external_id.to_string());
    let (retention, now, org) = (policy.retention_days, ctx.state.clock.now(), actor.org_id);
    ctx.in_tx(move |conn| {
        let Some(old) = archive::find_recreated(
            conn,
            org,
            kind.name(),
            connector,
            &external_id,
            retention,
            now,
        )?
        else {
            return Ok(None);
        };
        archive::restore(conn, org, old, now)?;
        let w = write.clone();
        let mut stored = resources::update_with(conn, kind, org, old, None, now, |_, origin| {
            Ok(Write {
                origin: Origin {
                    external_id_by: Some(connector),
                    ..*origin
                },
                ..w
            })
        })?;
        let entry = audit::Entry::new(
            &actor,
            kind.action(Verb::Create),
            kind.name(),
            &old.to_string(),
            201,
            now,
        )
        .with_dropped(&write.ignored)
        .with_details(serde_json::json!({"restored": true}));
        let change = events::Change::between(None, Some(&stored.doc), Some(stored.meta.version));
        events::record(conn, &entry, old, &change)?;
        if with_related {
            stored.related = Some(
                resources::related(conn, kind, org, &[old])?
                    .remove(&old)
                    .unwrap_or_default(),
            );
        }
        Ok(Some(stored))
    })
    .await
}

/// What a PUT or PATCH asks, parsed before anything is locked.
enum Input {
    Replace(Value),
    Patch(Vec<PatchOp>),
}

/// Who writes, as the ownership rules see it, and which resource.
#[derive(Clone, Copy)]
struct Writer {
    caller: Option<Uuid>,
    id: Uuid,
}

/// The validated new state of a resource whose stored document is
/// `stored` (from `origin`). Runs inside the transaction, under the row
/// lock (or on the version the write is conditioned on): the ownership
/// check sees the owner the write replaces.
#[allow(clippy::too_many_arguments)]
fn next_state(
    reg: &Registry,
    kind: Kind,
    writer: Writer,
    stored: &Value,
    origin: &Origin,
    input: &Input,
    guard: Option<Guard>,
    pre: Option<&password::Prehashed>,
    profile: Profile,
) -> std::result::Result<Write, ScimError> {
    let rt = resource_type(reg, kind)?;
    ownership::check(
        reg,
        writer.caller,
        &format!("{} {}", kind.name(), writer.id),
        origin,
    )?;
    // What the caller was shown is what its change applies to.
    let current = &*ownership::visible(writer.caller, origin, stored);
    let (body, delta, mut ignored) = match input {
        Input::Patch(ops) => {
            let outcome = patch::apply(reg, rt, current, ops, profile)?;
            (
                Cow::Owned(outcome.doc),
                Some(outcome.members),
                outcome.ignored,
            )
        }
        Input::Replace(body) => (Cow::Borrowed(body), None, Vec::new()),
    };
    let (mut doc, left_out) = validate_collecting(
        reg,
        rt,
        &body,
        WriteMode::Replace { existing: current },
        profile,
    )?;
    ignored.extend(left_out);
    if let Some(g) = guard {
        g(current, &doc)?;
    }
    let origin = ownership::carry(writer.caller, origin, stored, &mut doc);
    let side = match (kind, delta) {
        (Kind::User, _) => Side::Password(password::take(&mut doc, pre)?),
        (Kind::Group, Some(delta)) => Side::Members(members_change(delta)?),
        (Kind::Group, None) => Side::Members(MembersChange::Replace(take_members(&mut doc)?)),
    };
    Ok(Write {
        doc,
        side,
        ignored,
        origin,
    })
}

/// PUT (replace) or PATCH. For a PATCH the pure engine applies the
/// operations to the stored document inside the transaction that holds the
/// row lock; either way the result is validated as a whole resource before
/// it is stored. Size limits are checked, and a user's password hashed,
/// before the transaction.
pub async fn write(ctx: &Ctx, actor: &Actor, update: Update, p: &Projection) -> Result<Written> {
    let Update {
        kind,
        id,
        if_match,
        change,
        guard,
    } = update;
    let (reg, profile) = (ctx.registry(), ctx.profile());
    let rt = resource_type(&reg, kind)?;
    let (input, verb) = match change {
        Change::Patch(body) => (
            Input::Patch(patch::parse_request(&body, profile)?),
            Verb::Patch,
        ),
        Change::Replace(body) => (Input::Replace(body), Verb::Replace),
    };
    match &input {
        Input::Patch(ops) => limits::check_ops(rt, ops, reg.max_values())?,
        Input::Replace(body) => limits::check_resource(rt, body, reg.max_values())?,
    }
    let pre = match (kind, &input) {
        (Kind::User, Input::Patch(ops)) => password::prehash(password::in_patch(ops)).await?,
        (Kind::User, Input::Replace(body)) => password::prehash(password::in_body(body)).await?,
        (Kind::Group, _) => None,
    };
    let with_related = wants_related(&reg, kind, p)?;
    let shows_group = patch_shows_group(p);
    let (actor, now) = (actor.clone(), ctx.state.clock.now());
    let org = actor.org_id;
    let writer = Writer {
        caller: actor.connector,
        id,
    };
    if kind == Kind::User {
        let entry = audit::Entry::new(
            &actor,
            kind.action(verb),
            kind.name(),
            &id.to_string(),
            200,
            now,
        );
        let stored = ctx
            .single_probed(move |conn, again, cp| {
                write_user(
                    conn,
                    cp,
                    &reg,
                    writer,
                    org,
                    id,
                    if_match.as_ref(),
                    &input,
                    guard,
                    pre.as_ref(),
                    with_related,
                    &entry,
                    again,
                    profile,
                )
            })
            .await?;
        return Ok(Written {
            id,
            json: Some(render(ctx, &stored, p)?),
            version: stored.meta.version,
        });
    }
    // A PUT returns the group; a PATCH only when asked to (see
    // `patch_shows_group`). Known before the transaction, so the audit
    // entry (which records the status) rides in the group's UPDATE.
    let shown = verb == Verb::Replace || shows_group;
    let entry = audit::Entry::new(
        &actor,
        kind.action(verb),
        kind.name(),
        &id.to_string(),
        if shown { 200 } else { 204 },
        now,
    );
    let stored = ctx
        .in_tx_probed(move |conn, probe| {
            let (mut updated, audited, probed) = resources::update_group_audited(
                conn,
                org,
                id,
                if_match.as_ref(),
                &entry,
                probe,
                |current, origin| {
                    Ok(next_state(
                        &reg,
                        kind,
                        writer,
                        current,
                        origin,
                        &input,
                        guard,
                        pre.as_ref(),
                        profile,
                    )?)
                },
            )?;
            if !audited {
                store::audit::insert(conn, &entry)?;
            }
            if with_related && shown {
                updated.related = Some(
                    resources::related(conn, kind, org, &[id])?
                        .remove(&id)
                        .unwrap_or_default(),
                );
            }
            Ok((updated, probed))
        })
        .await?;
    Ok(Written {
        id,
        json: if shown {
            Some(render(ctx, &stored, p)?)
        } else {
            None
        },
        version: stored.meta.version,
    })
}

/// How often a user write reads and tries again without a lock when
/// another write got in between; then it takes the row lock.
const OPTIMISTIC_ATTEMPTS: usize = 2;

/// A user's PUT or PATCH without a row lock or a transaction: read the row
/// (with its groups when shown), compute the new state, then one statement
/// that writes it only if the row still has the version read, together with
/// its audit entry. A user write touches one row and nothing else, so this
/// costs two statements instead of BEGIN, lock, update, audit, COMMIT; a
/// concurrent write in between makes it read again, and a row written that
/// often at once is then written under its lock, in a transaction.
#[allow(clippy::too_many_arguments)]
fn write_user(
    conn: &mut store::Conn,
    cp: &super::Checkpoint<'_>,
    reg: &Registry,
    writer: Writer,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    input: &Input,
    guard: Option<Guard>,
    pre: Option<&password::Prehashed>,
    with_related: bool,
    entry: &audit::Entry,
    again: bool,
    profile: Profile,
) -> std::result::Result<Stored, store::StoreError> {
    for _ in 0..OPTIMISTIC_ATTEMPTS {
        // The first read carries the token check; once settled, none is owed.
        let probe = cp.probe();
        let (current, probed) =
            resources::get_probed(conn, Kind::User, org, id, with_related, probe.as_ref())?;
        cp.settle(conn, probed)?;
        store::check_precondition(if_match, current.meta.version)?;
        let next = next_state(
            reg,
            Kind::User,
            writer,
            &current.doc,
            &current.meta.origin,
            input,
            guard,
            pre,
            profile,
        )?;
        // The entry lists what an organization ignoring undeclared
        // attributes left out of this write.
        let listed;
        let entry = if next.ignored.is_empty() {
            entry
        } else {
            listed = entry.clone().with_dropped(&next.ignored);
            &listed
        };
        if let Some(stored) =
            resources::update_user_audited(conn, org, &current, next, entry, again)?
        {
            return Ok(stored);
        }
    }
    let locked = store::transaction(conn, |conn| {
        let mut ignored = Vec::new();
        let mut before = None;
        let mut stored = resources::update_with(
            conn,
            Kind::User,
            org,
            id,
            if_match,
            entry.at,
            |cur, origin| {
                let next = next_state(
                    reg,
                    Kind::User,
                    writer,
                    cur,
                    origin,
                    input,
                    guard,
                    pre,
                    profile,
                )?;
                ignored.clone_from(&next.ignored);
                before = Some(cur.clone());
                Ok(next)
            },
        )?;
        let entry = entry.clone().with_dropped(&ignored);
        if before.as_ref() == Some(&stored.doc) {
            // Nothing changed: audited, but no change to announce.
            store::audit::insert(conn, &entry)?;
        } else {
            let change = events::Change::between(
                before.as_ref(),
                Some(&stored.doc),
                Some(stored.meta.version),
            );
            events::record(conn, &entry, id, &change)?;
        }
        if with_related {
            stored.related = Some(
                resources::related(conn, Kind::User, org, &[id])?
                    .remove(&id)
                    .unwrap_or_default(),
            );
        }
        Ok(stored)
    });
    match locked {
        // The entry's id is this request's: a repeat finding it was applied.
        Err(store::StoreError::Conflict(c)) if again && c == "audit_log_pkey" => {
            resources::get(conn, Kind::User, org, id, with_related)
        }
        other => other,
    }
}

/// DELETE, with the resource's memberships.
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    kind: Kind,
    id: Uuid,
    if_match: Option<EtagCondition>,
) -> Result<()> {
    let (actor, now, reg) = (actor.clone(), ctx.state.clock.now(), ctx.registry());
    let soft = reg.policy().delete == DeleteMode::Soft;
    ctx.in_tx(move |conn| {
        let external_id = resources::delete(
            conn,
            kind,
            actor.org_id,
            id,
            if_match.as_ref(),
            now,
            |conn, origin| {
                ownership::check(
                    &reg,
                    actor.connector,
                    &format!("{} {id}", kind.name()),
                    origin,
                )?;
                if soft {
                    let source = match kind {
                        Kind::User => archive::Source::Users,
                        Kind::Group => archive::Source::Groups,
                    };
                    archive::archive(
                        conn,
                        actor.org_id,
                        source,
                        kind.name(),
                        id,
                        &actor.name,
                        now,
                    )?;
                }
                Ok(())
            },
        )?;
        let entry = audit::Entry::new(
            &actor,
            kind.action(Verb::Delete),
            kind.name(),
            &id.to_string(),
            204,
            now,
        );
        let entry = if soft {
            entry.with_details(serde_json::json!({"soft": true}))
        } else {
            entry
        };
        let change = events::Change {
            external_id,
            ..events::Change::default()
        };
        events::record(conn, &entry, id, &change)
    })
    .await?;
    Ok(())
}

/// GET of one resource; its related resources are read only when shown.
pub async fn get(
    ctx: &Ctx,
    org: Uuid,
    kind: Kind,
    id: Uuid,
    p: &Projection,
    if_none_match: Option<EtagCondition>,
) -> Result<Read> {
    let with_related = wants_related(&ctx.registry(), kind, p)?;
    let stored = ctx
        .read_probed(move |conn, probe| {
            resources::get_probed(conn, kind, org, id, with_related, probe)
        })
        .await?;
    answer(ctx, &stored, p, if_none_match)
}

/// A read's answer: 304 when `If-None-Match` names the stored version
/// (RFC 7232 §3.2), else the representation. `/Me` answers through here too.
pub fn answer(
    ctx: &Ctx,
    stored: &Stored,
    p: &Projection,
    if_none_match: Option<EtagCondition>,
) -> Result<Read> {
    if if_none_match.is_some_and(|c| c.matches(stored.meta.version)) {
        return Ok(Read::NotModified(stored.meta.version));
    }
    Ok(Read::Found {
        json: render(ctx, stored, p)?,
        version: stored.meta.version,
    })
}
