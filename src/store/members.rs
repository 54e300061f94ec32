//! Group membership rows: who is in which group, and the reverse (a user's
//! direct and inherited groups). Reads take whole pages of ids at once, so a
//! list response costs one query, not one per resource.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::{scim_group_members, scim_groups, scim_users};
use super::StoreError;
use crate::scim::error::ScimError;

/// PostgreSQL takes at most 65535 bind parameters a statement; 3 a row.
const INSERT_BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::User => "User",
            MemberKind::Group => "Group",
        }
    }
    fn parse(s: &str) -> MemberKind {
        if s == "Group" {
            MemberKind::Group
        } else {
            MemberKind::User
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub id: Uuid,
    pub kind: MemberKind,
    pub display: Option<String>,
}

/// A group a user belongs to; `direct` is false when only through nesting.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRef {
    pub id: Uuid,
    pub display: String,
    pub direct: bool,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    member_id: Uuid,
    #[diesel(sql_type = Text)]
    member_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    display: Option<String>,
}

/// The members of each group in `groups`, with their display names.
pub fn members_of(
    conn: &mut PgConnection,
    groups: &[Uuid],
) -> Result<HashMap<Uuid, Vec<MemberRef>>, StoreError> {
    if groups.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<MemberRow> = diesel::sql_query(
        "SELECT m.group_id, m.member_id, m.member_type,
                COALESCE(u.display_name, u.user_name, g.display_name) AS display
           FROM scim_group_members m
           LEFT JOIN scim_users u ON m.member_type = 'User' AND u.id = m.member_id
           LEFT JOIN scim_groups g ON m.member_type = 'Group' AND g.id = m.member_id
          WHERE m.group_id = ANY($1)
          ORDER BY m.group_id, m.member_id",
    )
    .bind::<Array<SqlUuid>, _>(groups)
    .load(conn)?;
    let mut out: HashMap<Uuid, Vec<MemberRef>> = HashMap::new();
    for r in rows {
        out.entry(r.group_id).or_default().push(MemberRef {
            id: r.member_id,
            kind: MemberKind::parse(&r.member_type),
            display: r.display,
        });
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct GroupOfRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Bool)]
    direct: bool,
    #[diesel(sql_type = Text)]
    display: String,
}

/// Each user's groups: direct ones, and the groups those are members of, to
/// any depth. UNION (not UNION ALL) makes a membership cycle terminate.
pub fn groups_of(
    conn: &mut PgConnection,
    org: Uuid,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Vec<GroupRef>>, StoreError> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<GroupOfRow> = diesel::sql_query(
        "WITH RECURSIVE closure(user_id, group_id, direct) AS (
             SELECT m.member_id, m.group_id, true
               FROM scim_group_members m
              WHERE m.member_id = ANY($1)
           UNION
             SELECT c.user_id, m.group_id, false
               FROM closure c
               JOIN scim_group_members m ON m.member_id = c.group_id
         )
         SELECT c.user_id, c.group_id, bool_or(c.direct) AS direct, g.display_name AS display
           FROM closure c
           JOIN scim_groups g ON g.id = c.group_id AND g.org_id = $2
          GROUP BY c.user_id, c.group_id, g.display_name
          ORDER BY c.user_id, g.display_name, c.group_id",
    )
    .bind::<Array<SqlUuid>, _>(users)
    .bind::<SqlUuid, _>(org)
    .load(conn)?;
    let mut out: HashMap<Uuid, Vec<GroupRef>> = HashMap::new();
    for r in rows {
        out.entry(r.user_id).or_default().push(GroupRef {
            id: r.group_id,
            display: r.display,
            direct: r.direct,
        });
    }
    Ok(out)
}

/// Finds which of `ids` are users and which groups of `org`. Any id that is
/// neither is an `invalidValue` error naming it.
pub fn resolve(
    conn: &mut PgConnection,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, MemberKind)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let users: Vec<Uuid> = scim_users::table
        .filter(scim_users::org_id.eq(org))
        .filter(scim_users::id.eq_any(ids))
        .select(scim_users::id)
        .load(conn)?;
    let groups: Vec<Uuid> = if users.len() < ids.len() {
        scim_groups::table
            .filter(scim_groups::org_id.eq(org))
            .filter(scim_groups::id.eq_any(ids))
            .select(scim_groups::id)
            .load(conn)?
    } else {
        Vec::new()
    };
    let users: std::collections::HashSet<Uuid> = users.into_iter().collect();
    let groups: std::collections::HashSet<Uuid> = groups.into_iter().collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if users.contains(id) {
            out.push((*id, MemberKind::User));
        } else if groups.contains(id) {
            out.push((*id, MemberKind::Group));
        } else {
            return Err(StoreError::Rejected(ScimError::invalid_value(format!(
                "member {id} is not a user or group of this organization"
            ))));
        }
    }
    Ok(out)
}

/// Adds members (already resolved); existing ones are left alone. Returns
/// how many rows were new.
pub fn add(
    conn: &mut PgConnection,
    group: Uuid,
    members: &[(Uuid, MemberKind)],
) -> Result<usize, StoreError> {
    let mut added = 0;
    for chunk in members.chunks(INSERT_BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(id, kind)| {
                (
                    scim_group_members::group_id.eq(group),
                    scim_group_members::member_id.eq(*id),
                    scim_group_members::member_type.eq(kind.as_str()),
                )
            })
            .collect();
        added += diesel::insert_into(scim_group_members::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(added)
}

/// Removes members by id; ids that are not members are ignored.
pub fn remove(conn: &mut PgConnection, group: Uuid, ids: &[Uuid]) -> Result<usize, StoreError> {
    let mut removed = 0;
    for chunk in ids.chunks(INSERT_BATCH) {
        removed += diesel::delete(
            scim_group_members::table
                .filter(scim_group_members::group_id.eq(group))
                .filter(scim_group_members::member_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(removed)
}

pub fn ids_of(conn: &mut PgConnection, group: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(scim_group_members::table
        .filter(scim_group_members::group_id.eq(group))
        .select(scim_group_members::member_id)
        .load(conn)?)
}
