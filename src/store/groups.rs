//! SCIM Groups: the document and lookup columns, with membership kept as rows
//! (see `members`). Every function is scoped to one organization.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::members::{self, MemberRef};
use super::query::sql::{Bind, Frag, Statement};
use super::schema::{scim_group_members, scim_groups};
use super::StoreError;
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::resource::{Meta, Origin};
use crate::scim::schema::{builtin_column_attributes, fold, Column, ColumnAttr, ColumnValues};

#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub id: Uuid,
    pub doc: Value,
    pub meta: Meta,
    /// `None` when the caller did not ask for members (they were not read).
    pub members: Option<Vec<MemberRef>>,
    pub member_count: i64,
}

/// How a write changes membership.
#[derive(Debug, Clone)]
pub enum MembersChange {
    Keep,
    /// PUT: the full new list.
    Replace(Vec<Uuid>),
    /// PATCH: only these rows are touched.
    Delta {
        add: Vec<Uuid>,
        remove: Vec<Uuid>,
    },
}

#[derive(Debug, Clone)]
pub struct GroupWrite {
    pub doc: Value,
    pub members: MembersChange,
    /// As `users::UserWrite::origin`.
    pub origin: Origin,
    /// Undeclared attributes the write left out, listed in its audit entry.
    pub ignored: Vec<String>,
}

/// A group row as every read selects it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = scim_groups)]
pub(super) struct Row {
    pub(super) id: Uuid,
    doc: Value,
    created_at: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    version: i64,
    member_count: i64,
    created_by_connector: Option<Uuid>,
    owner_connector: Option<Uuid>,
    external_id_connector: Option<Uuid>,
}

impl Row {
    pub(super) fn into_group(self, members: Option<Vec<MemberRef>>) -> StoredGroup {
        StoredGroup {
            id: self.id,
            doc: self.doc,
            meta: Meta {
                created: self.created_at,
                last_modified: self.last_modified,
                version: self.version,
                origin: Origin {
                    created_by: self.created_by_connector,
                    owner: self.owner_connector,
                    external_id_by: self.external_id_connector,
                },
            },
            members,
            member_count: self.member_count,
        }
    }
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = scim_groups, treat_none_as_null = true)]
struct Columns {
    display_name: String,
    display_name_ci: String,
    external_id: Option<String>,
}

/// The Group type's column attributes.
static COLUMNS: LazyLock<Vec<ColumnAttr>> = LazyLock::new(|| builtin_column_attributes("Group"));

fn columns(doc: &Value) -> Result<Columns, StoreError> {
    let v = ColumnValues::new(&COLUMNS, doc);
    let display_name = v.text(Column::DisplayName).ok_or_else(|| {
        StoreError::Rejected(ScimError::invalid_value(
            "attribute 'displayName' is required",
        ))
    })?;
    Ok(Columns {
        display_name_ci: fold(&display_name),
        display_name,
        external_id: v.text(Column::ExternalId),
    })
}

fn dedup(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.iter().copied().filter(|i| seen.insert(*i)).collect()
}

fn not_self(group: Uuid, ids: &[Uuid]) -> Result<(), StoreError> {
    if ids.contains(&group) {
        return Err(StoreError::Rejected(ScimError::invalid_value(
            "a group cannot be a member of itself",
        )));
    }
    Ok(())
}

/// Creates a group with its members. Call inside a transaction.
pub fn create(
    conn: &mut PgConnection,
    org: Uuid,
    doc: Value,
    member_ids: &[Uuid],
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<StoredGroup, StoreError> {
    let id = Uuid::now_v7();
    let cols = columns(&doc)?;
    diesel::insert_into(scim_groups::table)
        .values((
            scim_groups::id.eq(id),
            scim_groups::org_id.eq(org),
            scim_groups::display_name.eq(&cols.display_name),
            scim_groups::display_name_ci.eq(&cols.display_name_ci),
            scim_groups::external_id.eq(&cols.external_id),
            scim_groups::doc.eq(&doc),
            scim_groups::created_at.eq(now),
            scim_groups::last_modified.eq(now),
            scim_groups::version.eq(1i64),
            scim_groups::created_by_connector.eq(origin.created_by),
            scim_groups::owner_connector.eq(origin.owner),
            scim_groups::external_id_connector.eq(origin.external_id_by),
        ))
        .execute(conn)?;
    let added = members::add_resolving(conn, org, id, &dedup(member_ids))? as i64;
    diesel::update(scim_groups::table.filter(scim_groups::id.eq(id)))
        .set(scim_groups::member_count.eq(added))
        .execute(conn)?;
    Ok(StoredGroup {
        id,
        doc,
        meta: Meta {
            origin,
            ..Meta::created_at(now)
        },
        members: None,
        member_count: added,
    })
}

/// One group; its members are read only when `with_members` is set.
pub fn get(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    with_members: bool,
) -> Result<StoredGroup, StoreError> {
    let row: Row = row_in_org!(scim_groups, Row, org, id)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let members = if with_members {
        Some(
            members::members_of(conn, &[id])?
                .remove(&id)
                .unwrap_or_default(),
        )
    } else {
        None
    };
    Ok(row.into_group(members))
}

fn lock(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<StoredGroup, StoreError> {
    Ok(lock_probed(conn, org, id, None)?.0)
}

/// [`lock`], with the token check `probe` as a column of the same
/// statement (FOR UPDATE locks only the group's row).
fn lock_probed(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    probe: Option<&super::tokens::Probe>,
) -> Result<(StoredGroup, super::tokens::Probed), StoreError> {
    let (row, live): (Row, Option<bool>) = scim_groups::table
        .filter(scim_groups::org_id.eq(org))
        .filter(scim_groups::id.eq(id))
        .select((Row::as_select(), super::tokens::probe_column(probe)))
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok((
        row.into_group(None),
        super::tokens::Probed::from_column(probe, live),
    ))
}

/// Applies a membership change; returns the change in member count and
/// whether any row changed.
fn apply_members(
    conn: &mut PgConnection,
    org: Uuid,
    group: Uuid,
    change: &MembersChange,
) -> Result<(i64, Option<serde_json::Value>), StoreError> {
    let (add, remove) = match change {
        MembersChange::Keep => return Ok((0, None)),
        MembersChange::Delta { add, remove } => (dedup(add), dedup(remove)),
        MembersChange::Replace(ids) => {
            let wanted: HashSet<Uuid> = ids.iter().copied().collect();
            let existing: HashSet<Uuid> = members::ids_of(conn, group)?.into_iter().collect();
            (
                dedup(ids)
                    .into_iter()
                    .filter(|i| !existing.contains(i))
                    .collect(),
                existing
                    .into_iter()
                    .filter(|i| !wanted.contains(i))
                    .collect(),
            )
        }
    };
    not_self(group, &add)?;
    let removed = members::remove(conn, group, &remove)?;
    let added = members::add_resolving(conn, org, group, &add)?;
    let delta = (removed + added > 0).then(|| members_delta(&add, &remove));
    Ok((added as i64 - removed as i64, delta))
}

/// A membership change as its change event carries it: the ids asked to be
/// added and removed (for a PUT, the difference from the stored list), so
/// the event grows with the change, not with the group.
fn members_delta(add: &[Uuid], remove: &[Uuid]) -> serde_json::Value {
    serde_json::json!({"added": add, "removed": remove})
}

/// Replaces or patches a group under a row lock, checking `If-Match`. The
/// version moves only when the document or the membership really changed.
/// Call inside a transaction.
pub fn update_with(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    f: impl FnOnce(&StoredGroup) -> Result<GroupWrite, StoreError>,
) -> Result<StoredGroup, StoreError> {
    Ok(update_audited(conn, org, id, if_match, now, None, None, f)?.0)
}

/// [`update_with`], writing `entry` in the statement that updates the row
/// (one round trip fewer); says whether it did. It does not when nothing
/// changed (no row is written): the caller records the entry then. The
/// token check `probe` rides in the lock, and what it found is returned; a
/// token it finds not live ends the update there
/// ([`StoreError::TokenNotLive`]), before any write.
#[allow(clippy::too_many_arguments)]
pub fn update_audited(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    entry: Option<&super::audit::Entry>,
    probe: Option<&super::tokens::Probe>,
    f: impl FnOnce(&StoredGroup) -> Result<GroupWrite, StoreError>,
) -> Result<(StoredGroup, bool, super::tokens::Probed), StoreError> {
    let (current, probed) = lock_probed(conn, org, id, probe)?;
    if probed == super::tokens::Probed::NotLive {
        return Err(StoreError::TokenNotLive);
    }
    super::check_precondition(if_match, current.meta.version)?;
    let write = f(&current)?;
    let entry = entry.map(|e| e.clone().with_dropped(&write.ignored));
    let entry = entry.as_ref();
    let (count_delta, members_delta) = apply_members(conn, org, id, &write.members)?;
    if write.doc == current.doc
        && members_delta.is_none()
        && write.origin.external_id_by == current.meta.origin.external_id_by
    {
        return Ok((current, false, probed));
    }
    let cols = columns(&write.doc)?;
    let mut meta = current.meta.changed_at(now);
    meta.origin.external_id_by = write.origin.external_id_by;
    let version = meta.version;
    let member_count = current.member_count + count_delta;
    // One fixed statement (with the audit entry and change event, or
    // without), so it stays prepared;
    // diesel re-plans every UPDATE it builds.
    let head = match entry {
        Some(_) => Frag::sql("WITH changed AS (UPDATE scim_groups SET display_name = "),
        None => Frag::sql("UPDATE scim_groups SET display_name = "),
    };
    let update = head
        .text(cols.display_name)
        .push(", display_name_ci = ")
        .text(cols.display_name_ci)
        .push(", external_id = ")
        .bind(Bind::OptText(cols.external_id))
        .push(", external_id_connector = ")
        .bind(Bind::OptUuid(write.origin.external_id_by))
        .push(", doc = ")
        .bind(Bind::Json(write.doc.clone()))
        .push(", last_modified = ")
        .bind(Bind::Time(now))
        .push(", version = ")
        .bind(Bind::Int(version))
        .push(", member_count = ")
        .bind(Bind::Int(member_count))
        .push(" WHERE id = ")
        .bind(Bind::Uuid(id));
    let statement = match entry {
        Some(e) => update
            .push(" RETURNING 1), event AS (")
            .append(&super::events::insert_frag::<diesel::sql_types::Untyped>(
                e,
                id,
                &super::events::Change::between(
                    Some(&current.doc),
                    Some(&write.doc),
                    Some(version),
                )
                .with_members(members_delta),
                true,
            ))
            .push(") ")
            .append(&super::audit::insert_from_changed::<
                diesel::sql_types::Untyped,
            >(e)),
        None => update,
    };
    Statement(statement.shared()).execute(conn)?;
    Ok((
        StoredGroup {
            id,
            doc: write.doc,
            meta,
            members: None,
            member_count,
        },
        entry.is_some(),
        probed,
    ))
}

/// Deletes a group, its member rows and its own memberships in other groups.
/// Call inside a transaction.
pub fn delete(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    before: impl FnOnce(&mut PgConnection, &Origin) -> Result<(), StoreError>,
) -> Result<Option<String>, StoreError> {
    // The group itself and the groups holding it, locked in one id-ordered
    // statement before anything else (see `lock_holders`).
    let holders = lock_holders(conn, org, id, Some(id))?;
    let current = lock(conn, org, id)?;
    super::check_precondition(if_match, current.meta.version)?;
    // The ownership check, and the archive copy of a soft delete.
    before(conn, &current.meta.origin)?;
    let holders: Vec<Uuid> = holders.into_iter().filter(|g| *g != id).collect();
    remove_from_all_groups(conn, id, &holders, now)?;
    diesel::delete(scim_groups::table.filter(scim_groups::id.eq(id))).execute(conn)?;
    Ok(super::users::external_id_of(&current.doc))
}

/// Locks the groups of `org` that hold `member` (and group `also`), in id
/// order, and returns their ids.
///
/// Every delete takes its locks in one order: group rows by ascending id,
/// then the user row, then membership rows. A user delete used to remove
/// its membership rows first and then update their groups, while a group
/// delete locked its row and then deleted its membership rows: the two
/// waited on each other, PostgreSQL aborted one with "deadlock detected",
/// and 40 concurrent deletes of a shared directory paid 1–2 s per retry.
pub fn lock_holders(
    conn: &mut PgConnection,
    org: Uuid,
    member: Uuid,
    also: Option<Uuid>,
) -> Result<Vec<Uuid>, StoreError> {
    // Two index lookups rather than one `IN (subquery) OR id = …`, which
    // the planner may answer by scanning the organization's groups.
    let mut ids: Vec<Uuid> = scim_group_members::table
        .filter(scim_group_members::member_id.eq(member))
        .select(scim_group_members::group_id)
        .load(conn)?;
    ids.extend(also);
    if ids.is_empty() {
        return Ok(ids);
    }
    Ok(scim_groups::table
        .filter(scim_groups::org_id.eq(org))
        .filter(scim_groups::id.eq_any(&ids))
        .order(scim_groups::id)
        .select(scim_groups::id)
        .for_update()
        .load(conn)?)
}

/// Removes `member` from every group it belongs to (`holders`, already
/// locked by [`lock_holders`]): their member counts go down, and since
/// their `members` changed, so do their versions and `lastModified`.
pub fn remove_from_all_groups(
    conn: &mut PgConnection,
    member: Uuid,
    holders: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let groups: Vec<Uuid> =
        diesel::delete(scim_group_members::table.filter(scim_group_members::member_id.eq(member)))
            .returning(scim_group_members::group_id)
            .get_results(conn)?;
    if groups.is_empty() {
        return Ok(());
    }
    // A membership added after `lock_holders` read the list is locked here,
    // out of order; that race can only cost a retry, never a wrong count.
    if groups.iter().any(|g| !holders.contains(g)) {
        log::debug!("a membership of {member} appeared after its holders were locked");
    }
    diesel::update(scim_groups::table.filter(scim_groups::id.eq_any(&groups)))
        .set((
            scim_groups::member_count.eq(scim_groups::member_count - 1),
            scim_groups::version.eq(scim_groups::version + 1),
            scim_groups::last_modified.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
