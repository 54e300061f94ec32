//! Group membership rows: who is in which group, and the reverse (a user's
//! direct and inherited groups). Reads take whole pages of ids at once, so a
//! list response costs one query, not one per resource.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::query::sql::{Bind, Frag, Statement};
use super::schema::scim_group_members;
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
    let rows: Vec<MemberRow> = Statement(
        Frag::sql(
            "SELECT m.group_id, m.member_id, m.member_type,
                    COALESCE(u.display_name, u.user_name, g.display_name) AS display
               FROM scim_group_members m
               LEFT JOIN scim_users u ON m.member_type = 'User' AND u.id = m.member_id
               LEFT JOIN scim_groups g ON m.member_type = 'Group' AND g.id = m.member_id
              WHERE m.group_id = ANY(",
        )
        .bind(Bind::UuidArray(groups.to_vec()))
        .push(") ORDER BY m.group_id, m.member_id")
        .shared(),
    )
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

/// The groups each of `users` belongs to, directly or through nested
/// groups, for the whole page in one statement: a recursive walk up the
/// membership rows (`UNION` drops repeated edges, so a membership cycle
/// ends it), with each group's name.
pub fn groups_of(
    conn: &mut PgConnection,
    org: Uuid,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Vec<GroupRef>>, StoreError> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    // How the starting ids are written decides whether PostgreSQL keeps
    // the statement's generic plan or plans it again on every execution: a
    // custom plan is kept when it is estimated cheaper than the generic one.
    // `= $1` estimates one row either way; `unnest($1)` estimates ten rows
    // in the generic plan and the array's real length (a page: up to 1000)
    // in a custom one, so the generic plan wins. `= ANY($1)` lost both ways.
    let start: Frag = match users {
        [one] => Frag::sql("m.member_id = ").bind(Bind::Uuid(*one)),
        many => Frag::sql("m.member_id IN (SELECT unnest(")
            .bind(Bind::UuidArray(many.to_vec()))
            .push("))"),
    };
    let edges: Vec<Edge> = Statement(walk(start, org).shared()).load(conn)?;
    Ok(closure_of(users, edges))
}

/// Every membership edge above the members `start` selects (a condition
/// on `m.member_id`), as rows `(member_id, group_id, display_name)`, the
/// groups named and of `org`. `UNION` drops repeated edges, so a membership
/// cycle ends the walk.
fn walk<ST>(start: Frag, org: Uuid) -> Frag<ST> {
    Frag::sql(
        "WITH RECURSIVE up(member_id, group_id) AS ( \
           SELECT m.member_id, m.group_id FROM scim_group_members m WHERE ",
    )
    .append(&start.shared())
    .push(
        " UNION \
           SELECT m.member_id, m.group_id FROM scim_group_members m \
             JOIN up ON m.member_id = up.group_id) \
         SELECT up.member_id, up.group_id, g.display_name \
           FROM up JOIN scim_groups g ON g.id = up.group_id \
          WHERE g.org_id = ",
    )
    .bind(Bind::Uuid(org))
}

/// Whether `member` is in any group: a column to select beside the
/// member's own row. Most users are in no group, and for them this index
/// probe replaces the recursive walk: PostgreSQL sets up a recursive
/// subplan on every execution even when it returns nothing, which cost a
/// user GET about 40 % of its throughput (pgbench -M prepared, 16 clients:
/// row + probe + walk 20-21k tps, row + probe + this 27-31k).
pub(super) fn in_any_group(member: Uuid) -> Frag<diesel::sql_types::Bool> {
    Frag::sql("EXISTS (SELECT 1 FROM scim_group_members m WHERE m.member_id = ")
        .bind(Bind::Uuid(member))
        .push(")")
        .shared()
}

/// Per row of a `scim_users` page: whether the user is in any group, so
/// that the walk runs only for those who are (see [`in_any_group`]).
pub(crate) fn user_in_any_group() -> Frag<diesel::sql_types::Bool> {
    Frag::sql("EXISTS (SELECT 1 FROM scim_group_members m WHERE m.member_id = scim_users.id)")
        .shared()
}

/// Per row of a `scim_groups` page: whether the group has any member.
pub(crate) fn group_has_members() -> Frag<diesel::sql_types::Bool> {
    Frag::sql("EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = scim_groups.id)")
        .shared()
}

/// Each of `users`' groups from the edges [`walk`] found above them.
fn closure_of(users: &[Uuid], edges: Vec<Edge>) -> HashMap<Uuid, Vec<GroupRef>> {
    let asked: HashSet<Uuid> = users.iter().copied().collect();
    let mut direct = Vec::new();
    let mut parents: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut names = HashMap::new();
    for e in edges {
        if asked.contains(&e.member_id) {
            direct.push((e.member_id, e.group_id));
        } else {
            parents.entry(e.member_id).or_default().push(e.group_id);
        }
        names.insert(e.group_id, e.display_name);
    }
    closure(&direct, &parents, &names)
}

#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = SqlUuid)]
    member_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Text)]
    display_name: String,
}

/// Each user's direct groups (`direct` edges) and everything above them in
/// `parents`, named from `names` (a group missing there belongs to no group
/// of this organization and is left out), ordered by name, then id.
fn closure(
    direct: &[(Uuid, Uuid)],
    parents: &HashMap<Uuid, Vec<Uuid>>,
    names: &HashMap<Uuid, String>,
) -> HashMap<Uuid, Vec<GroupRef>> {
    let mut by_user: HashMap<Uuid, HashMap<Uuid, bool>> = HashMap::new();
    for (user, group) in direct {
        by_user.entry(*user).or_default().insert(*group, true);
    }
    let mut out = HashMap::with_capacity(by_user.len());
    for (user, mut groups) in by_user {
        let mut stack: Vec<Uuid> = groups.keys().copied().collect();
        while let Some(g) = stack.pop() {
            for p in parents.get(&g).into_iter().flatten() {
                if !groups.contains_key(p) {
                    groups.insert(*p, false);
                    stack.push(*p);
                }
            }
        }
        let mut refs: Vec<GroupRef> = groups
            .into_iter()
            .filter_map(|(id, direct)| {
                names.get(&id).map(|display| GroupRef {
                    id,
                    display: display.clone(),
                    direct,
                })
            })
            .collect();
        refs.sort_by(|a, b| a.display.cmp(&b.display).then(a.id.cmp(&b.id)));
        out.insert(user, refs);
    }
    out
}

#[derive(QueryableByName)]
struct Added {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    added: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    unknown: Option<Uuid>,
}

/// Adds `ids` to `group`, finding in the same statement which are users
/// and which groups of `org`: one round trip a batch, where resolving
/// first costs one more. Existing members are left alone; returns how
/// many rows were new. An id that is neither is an `invalidValue` error
/// naming the first such id in the order given; rows the statement did
/// insert are undone with the caller's transaction, which every write is.
pub fn add_resolving(
    conn: &mut PgConnection,
    org: Uuid,
    group: Uuid,
    ids: &[Uuid],
) -> Result<usize, StoreError> {
    let mut added = 0;
    for chunk in ids.chunks(INSERT_BATCH) {
        // One fixed shape whatever the count (the ids are one array), so
        // it stays prepared. A user is tried before a group, as a member
        // reference names no type.
        let row: Added = Statement(
            Frag::sql(
                "WITH m AS (SELECT m.id, m.n, CASE \
                 WHEN EXISTS (SELECT 1 FROM scim_users u WHERE u.org_id = ",
            )
            .bind(Bind::Uuid(org))
            .push(
                " AND u.id = m.id) THEN 'User' \
                 WHEN EXISTS (SELECT 1 FROM scim_groups g WHERE g.org_id = ",
            )
            .bind(Bind::Uuid(org))
            .push(" AND g.id = m.id) THEN 'Group' END AS kind FROM unnest(")
            .bind(Bind::UuidArray(chunk.to_vec()))
            .push(
                ") WITH ORDINALITY AS m(id, n)), \
                 ins AS (INSERT INTO scim_group_members (group_id, member_id, member_type) \
                 SELECT ",
            )
            .bind(Bind::Uuid(group))
            .push(
                ", id, kind FROM m WHERE kind IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1) \
                 SELECT (SELECT count(*) FROM ins) AS added, \
                 (SELECT id FROM m WHERE kind IS NULL ORDER BY n LIMIT 1) AS unknown",
            )
            .shared(),
        )
        .get_result(conn)?;
        if let Some(id) = row.unknown {
            return Err(StoreError::Rejected(ScimError::invalid_value(format!(
                "member {id} is not a user or group of this organization"
            ))));
        }
        added += row.added as usize;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn named(pairs: &[(u128, &str)]) -> HashMap<Uuid, String> {
        pairs.iter().map(|(n, s)| (id(*n), s.to_string())).collect()
    }

    fn view(refs: &[GroupRef]) -> Vec<(&str, bool)> {
        refs.iter()
            .map(|r| (r.display.as_str(), r.direct))
            .collect()
    }

    #[test]
    fn nesting_gives_indirect_groups_and_direct_wins() {
        // user 1 in A (10) and C (12); A in B (11); B in C.
        let direct = [(id(1), id(10)), (id(1), id(12))];
        let parents = HashMap::from([(id(10), vec![id(11)]), (id(11), vec![id(12)])]);
        let names = named(&[(10, "A"), (11, "B"), (12, "C")]);
        let out = closure(&direct, &parents, &names);
        assert_eq!(view(&out[&id(1)]), [("A", true), ("B", false), ("C", true)]);
    }

    #[test]
    fn a_membership_cycle_ends() {
        let direct = [(id(1), id(10))];
        let parents = HashMap::from([(id(10), vec![id(11)]), (id(11), vec![id(10)])]);
        let names = named(&[(10, "A"), (11, "B")]);
        let out = closure(&direct, &parents, &names);
        assert_eq!(view(&out[&id(1)]), [("A", true), ("B", false)]);
    }

    #[test]
    fn unnamed_groups_are_left_out_and_users_kept_apart() {
        let direct = [(id(1), id(10)), (id(2), id(11)), (id(2), id(99))];
        let names = named(&[(10, "A"), (11, "B")]);
        let out = closure(&direct, &HashMap::new(), &names);
        assert_eq!(view(&out[&id(1)]), [("A", true)]);
        assert_eq!(view(&out[&id(2)]), [("B", true)]);
    }

    #[test]
    fn ties_in_name_are_ordered_by_id() {
        let direct = [(id(1), id(12)), (id(1), id(10))];
        let names = named(&[(10, "Same"), (12, "Same")]);
        let out = closure(&direct, &HashMap::new(), &names);
        let ids: Vec<Uuid> = out[&id(1)].iter().map(|r| r.id).collect();
        assert_eq!(ids, [id(10), id(12)]);
    }
}
