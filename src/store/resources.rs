//! Users and Groups behind one interface, with the resource type as data:
//! the application layer's single write path calls these and never chooses
//! between `users` and `groups` itself. What genuinely differs (a user's
//! password hash, a group's member rows) travels as [`Side`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::audit;
use super::groups::{self, GroupWrite, MembersChange, StoredGroup};
use super::members::{GroupRef, MemberKind, MemberRef};
use super::query::{self, Page, Prepared};
use super::tokens::{Probe, Probed};
use super::users::{self, StoredUser, UserWrite};
use super::StoreError;
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::resource::Origin;
use crate::scim::resource::{Kind, Meta};

/// A stored resource of either type.
#[derive(Debug, Clone)]
pub struct Stored {
    pub kind: Kind,
    pub id: Uuid,
    pub doc: Value,
    pub meta: Meta,
    /// A group's member count (0 for a user), known without reading members.
    pub member_count: i64,
    /// A user's groups or a group's members; `None` when they were not read.
    pub related: Option<Vec<Related>>,
}

/// One entry of a user's `groups` or a group's `members`.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub id: Uuid,
    /// The type of the resource referred to.
    pub kind: Kind,
    pub display: Option<String>,
    /// The reference's `type`: `direct`/`indirect` for a user's groups,
    /// `User`/`Group` for a group's members (RFC 7643 §4.1.2, §4.2).
    pub label: &'static str,
}

/// What a write stores besides the document.
#[derive(Debug, Clone)]
pub enum Side {
    /// A user's new password hash, or `None` to keep the stored one.
    Password(Option<String>),
    /// How a group's membership changes.
    Members(MembersChange),
}

/// A validated document and its side data, ready to be stored.
#[derive(Debug, Clone)]
pub struct Write {
    pub doc: Value,
    pub side: Side,
    /// Which connectors it comes from (see `users::UserWrite::origin`).
    pub origin: crate::scim::resource::Origin,
    /// Undeclared attributes the write left out (the organization ignores
    /// them), for its audit entry.
    pub ignored: Vec<String>,
}

fn mismatch(kind: Kind) -> StoreError {
    StoreError::Rejected(ScimError::new(
        500,
        None,
        format!(
            "a write for a {} carried the other type's data",
            kind.name()
        ),
    ))
}

fn user_write(w: Write) -> Result<UserWrite, StoreError> {
    match w.side {
        Side::Password(password_hash) => Ok(UserWrite {
            doc: w.doc,
            password_hash,
            origin: w.origin,
        }),
        Side::Members(_) => Err(mismatch(Kind::User)),
    }
}

fn group_write(w: Write) -> Result<GroupWrite, StoreError> {
    match w.side {
        Side::Members(members) => Ok(GroupWrite {
            doc: w.doc,
            members,
            origin: w.origin,
            ignored: w.ignored,
        }),
        Side::Password(_) => Err(mismatch(Kind::Group)),
    }
}

impl From<StoredUser> for Stored {
    fn from(u: StoredUser) -> Self {
        Stored {
            kind: Kind::User,
            id: u.id,
            doc: u.doc,
            meta: u.meta,
            member_count: 0,
            related: None,
        }
    }
}

impl From<StoredGroup> for Stored {
    fn from(g: StoredGroup) -> Self {
        Stored {
            kind: Kind::Group,
            id: g.id,
            doc: g.doc,
            meta: g.meta,
            member_count: g.member_count,
            related: g.members.map(|ms| ms.into_iter().map(member).collect()),
        }
    }
}

fn member(m: MemberRef) -> Related {
    let kind = match m.kind {
        MemberKind::User => Kind::User,
        MemberKind::Group => Kind::Group,
    };
    Related {
        id: m.id,
        kind,
        display: m.display,
        label: kind.name(),
    }
}

fn group_of(g: GroupRef) -> Related {
    Related {
        id: g.id,
        kind: Kind::Group,
        display: Some(g.display),
        label: if g.direct { "direct" } else { "indirect" },
    }
}

/// Creates a resource. Call inside a transaction.
pub fn create(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    write: Write,
    now: DateTime<Utc>,
) -> Result<Stored, StoreError> {
    match kind {
        Kind::User => Ok(users::create(conn, org, user_write(write)?, now)?.into()),
        Kind::Group => {
            let w = group_write(write)?;
            let ids = match w.members {
                MembersChange::Replace(ids) => ids,
                MembersChange::Delta { add, .. } => add,
                MembersChange::Keep => Vec::new(),
            };
            Ok(groups::create(conn, org, w.doc, &ids, w.origin, now)?.into())
        }
    }
}

/// A user and its audit entry in one statement, outside any transaction
/// (see `users::create_audited`, and `store::single` for `again`).
pub fn create_user_audited(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    write: &Write,
    entry: &audit::Entry,
    again: bool,
    probe: Option<&Probe>,
) -> Result<(Stored, Probed), StoreError> {
    let w = user_write(write.clone())?;
    let (user, probed) = users::create_audited_probed(conn, org, id, &w, entry, again, probe)?;
    Ok((user.into(), probed))
}

/// A user write without a row lock or transaction (see
/// `users::update_audited`): `Some` with the state now stored, keeping
/// `current`'s related groups (a user write cannot change them), or `None`
/// when the row changed since `current` was read.
pub fn update_user_audited(
    conn: &mut PgConnection,
    org: Uuid,
    current: &Stored,
    write: Write,
    entry: &audit::Entry,
    again: bool,
) -> Result<Option<Stored>, StoreError> {
    let user = StoredUser {
        id: current.id,
        doc: current.doc.clone(),
        meta: current.meta.clone(),
    };
    Ok(
        match users::update_audited(conn, org, &user, user_write(write)?, entry, again)? {
            users::Written::Done(u) => Some(Stored {
                related: current.related.clone(),
                ..u.into()
            }),
            users::Written::Moved => None,
        },
    )
}

/// One resource, with its related resources when `with_related` is set.
pub fn get(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    id: Uuid,
    with_related: bool,
) -> Result<Stored, StoreError> {
    Ok(get_probed(conn, kind, org, id, with_related, None)?.0)
}

/// [`get`], with the token check `probe` in the same statement where its
/// shape carries one (a user with its groups: the common GET).
pub fn get_probed(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    id: Uuid,
    with_related: bool,
    probe: Option<&Probe>,
) -> Result<(Stored, Probed), StoreError> {
    match kind {
        Kind::User if with_related => {
            let (user, groups, live) = users::get_with_groups(conn, org, id, probe)?;
            let mut user: Stored = user.into();
            user.related = Some(groups.into_iter().map(group_of).collect());
            Ok((user, Probed::from_column(probe, live)))
        }
        Kind::User => Ok((users::get(conn, org, id)?.into(), Probed::Skipped)),
        Kind::Group => Ok((
            groups::get(conn, org, id, with_related)?.into(),
            Probed::Skipped,
        )),
    }
}

/// Replaces or patches a resource under its row lock, checking `If-Match`;
/// `f` computes the new state from the stored document. Call inside a
/// transaction.
pub fn update_with(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    f: impl FnOnce(&Value, &Origin) -> Result<Write, StoreError>,
) -> Result<Stored, StoreError> {
    match kind {
        Kind::User => users::update_with(conn, org, id, if_match, now, |cur| {
            f(&cur.doc, &cur.meta.origin).and_then(user_write)
        })
        .map(Stored::from),
        Kind::Group => groups::update_with(conn, org, id, if_match, now, |cur| {
            f(&cur.doc, &cur.meta.origin).and_then(group_write)
        })
        .map(Stored::from),
    }
}

/// A group's PUT or PATCH under its row lock ([`update_with`]), with
/// `entry` written in the statement that updates the row; whether it was
/// (not when nothing changed). Call inside a transaction.
/// The token check `probe` rides in the lock (see `groups::update_audited`).
pub fn update_group_audited(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    entry: &audit::Entry,
    probe: Option<&Probe>,
    f: impl FnOnce(&Value, &Origin) -> Result<Write, StoreError>,
) -> Result<(Stored, bool, Probed), StoreError> {
    let (group, written, probed) = groups::update_audited(
        conn,
        org,
        id,
        if_match,
        entry.at,
        Some(entry),
        probe,
        |cur| f(&cur.doc, &cur.meta.origin).and_then(group_write),
    )?;
    Ok((group.into(), written, probed))
}

/// Deletes a resource and every membership it has or holds; its
/// `externalId`, for the change event. Call inside a transaction.
pub fn delete(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    before: impl FnOnce(&mut PgConnection, &Origin) -> Result<(), StoreError>,
) -> Result<Option<String>, StoreError> {
    match kind {
        Kind::User => users::delete(conn, org, id, if_match, now, before),
        Kind::Group => groups::delete(conn, org, id, if_match, now, before),
    }
}

/// The related resources of each of `ids` (users' groups, groups'
/// members), in one query set for all of them.
pub fn related(
    conn: &mut PgConnection,
    kind: Kind,
    org: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Related>>, StoreError> {
    Ok(match kind {
        Kind::User => users::groups_of(conn, org, ids)?
            .into_iter()
            .map(|(id, gs)| (id, gs.into_iter().map(group_of).collect()))
            .collect(),
        Kind::Group => super::members::members_of(conn, ids)?
            .into_iter()
            .map(|(id, ms)| (id, ms.into_iter().map(member).collect()))
            .collect(),
    })
}

/// One page of a prepared query; related resources are read for the whole
/// page in one query set when `with_related` is set.
pub fn list(
    conn: &mut PgConnection,
    org: Uuid,
    q: &Prepared,
    with_related: bool,
) -> Result<Page<Stored>, StoreError> {
    Ok(list_probed(conn, org, q, with_related, None)?.0)
}

/// [`list`], carrying the token check `probe` in the page's statement. The
/// related resources are read only for the items the statement found have
/// any, so a page of users in no group is one statement.
pub fn list_probed(
    conn: &mut PgConnection,
    org: Uuid,
    q: &Prepared,
    with_related: bool,
    probe: Option<&Probe>,
) -> Result<(Page<Stored>, Probed), StoreError> {
    if q.kind() == Kind::Group {
        let read = query::groups_read(conn, q, probe, with_related)?;
        return Ok((read.page.map(Stored::from), read.probed));
    }
    let read = query::users_read(conn, q, probe, with_related)?;
    // A token the statement found dead is refused: read nothing more.
    let refused = read.probed == Probed::NotLive;
    let mut page = read.page.map(Stored::from);
    if with_related {
        let mut related = if read.with_related.is_empty() || refused {
            HashMap::new()
        } else {
            related(conn, q.kind(), org, &read.with_related)?
        };
        for r in &mut page.items {
            r.related = Some(related.remove(&r.id).unwrap_or_default());
        }
    }
    Ok((page, read.probed))
}
