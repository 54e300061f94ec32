//! SCIM Users: typed, indexed columns for lookups plus the JSONB document.
//! Every function is scoped to one organization.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::audit;
use super::members;
use super::query::sql::{Bind, Frag, Statement};
use super::schema::scim_users;
use super::StoreError;
use crate::scim::error::ScimError;
use crate::scim::etag::EtagCondition;
use crate::scim::resource::{Meta, Origin};
use crate::scim::schema::{builtin_column_attributes, fold, Column, ColumnAttr, ColumnValues};

#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: Uuid,
    pub doc: Value,
    pub meta: Meta,
}

/// What a create or replace writes: the validated document (without
/// password) and, when the request carried one, the new password's hash.
#[derive(Debug, Clone)]
pub struct UserWrite {
    pub doc: Value,
    pub password_hash: Option<String>,
    /// The connectors it comes from: all three columns on a create, whose
    /// `externalId` it holds on an update (the owner moves only by transfer).
    pub origin: Origin,
}

/// A user row as every read selects it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = scim_users)]
pub(super) struct Row {
    pub(super) id: Uuid,
    doc: Value,
    created_at: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    version: i64,
    created_by_connector: Option<Uuid>,
    owner_connector: Option<Uuid>,
    external_id_connector: Option<Uuid>,
}

impl From<Row> for StoredUser {
    fn from(r: Row) -> Self {
        StoredUser {
            id: r.id,
            doc: r.doc,
            meta: Meta {
                created: r.created_at,
                last_modified: r.last_modified,
                version: r.version,
                origin: Origin {
                    created_by: r.created_by_connector,
                    owner: r.owner_connector,
                    external_id_by: r.external_id_connector,
                },
            },
        }
    }
}

/// The lookup columns, derived from the document so they can never disagree.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = scim_users, treat_none_as_null = true)]
struct Columns {
    user_name: String,
    user_name_ci: String,
    external_id: Option<String>,
    display_name: Option<String>,
    display_name_ci: Option<String>,
    active: Option<bool>,
    emails_ci: Vec<String>,
}

/// The User type's column attributes.
static COLUMNS: LazyLock<Vec<ColumnAttr>> = LazyLock::new(|| builtin_column_attributes("User"));

fn columns(doc: &Value) -> Result<Columns, StoreError> {
    let v = ColumnValues::new(&COLUMNS, doc);
    let user_name = v.text(Column::UserName).ok_or_else(|| {
        StoreError::Rejected(ScimError::invalid_value("attribute 'userName' is required"))
    })?;
    let display_name = v.text(Column::DisplayName);
    Ok(Columns {
        user_name_ci: fold(&user_name),
        user_name,
        external_id: v.text(Column::ExternalId),
        display_name_ci: display_name.as_deref().map(fold),
        display_name,
        active: v.boolean(Column::Active),
        emails_ci: v.texts(Column::EmailValues).into_iter().map(fold).collect(),
    })
}

fn uniqueness(e: StoreError, doc: &Value) -> StoreError {
    match e {
        // A declared attribute's own (see `StoreError::from`).
        StoreError::Conflict(c) if c.ends_with(super::DECLARED_UNIQUE) => {
            StoreError::Rejected(ScimError::uniqueness(format!(
                "{c}: another resource in this organization holds the value"
            )))
        }
        StoreError::Conflict(_) => StoreError::Rejected(ScimError::uniqueness(format!(
            "userName {} is already taken in this organization",
            doc.get("userName").unwrap_or(&Value::Null)
        ))),
        other => other,
    }
}

pub fn create(
    conn: &mut PgConnection,
    org: Uuid,
    write: UserWrite,
    now: DateTime<Utc>,
) -> Result<StoredUser, StoreError> {
    let id = Uuid::now_v7();
    let cols = columns(&write.doc)?;
    diesel::insert_into(scim_users::table)
        .values((
            scim_users::id.eq(id),
            scim_users::org_id.eq(org),
            scim_users::user_name.eq(&cols.user_name),
            scim_users::user_name_ci.eq(&cols.user_name_ci),
            scim_users::external_id.eq(&cols.external_id),
            scim_users::display_name.eq(&cols.display_name),
            scim_users::display_name_ci.eq(&cols.display_name_ci),
            scim_users::active.eq(cols.active),
            scim_users::emails_ci.eq(&cols.emails_ci),
            scim_users::password_hash.eq(&write.password_hash),
            scim_users::doc.eq(&write.doc),
            scim_users::created_at.eq(now),
            scim_users::last_modified.eq(now),
            scim_users::created_by_connector.eq(write.origin.created_by),
            scim_users::owner_connector.eq(write.origin.owner),
            scim_users::external_id_connector.eq(write.origin.external_id_by),
            scim_users::version.eq(1i64),
        ))
        .execute(conn)
        .map_err(|e| uniqueness(e.into(), &write.doc))?;
    Ok(StoredUser {
        id,
        doc: write.doc,
        meta: Meta {
            origin: write.origin,
            ..Meta::created_at(now)
        },
    })
}

/// Creates user `id` and its audit entry in one statement (atomic without
/// a transaction). `again` says this is a repeat after a connection was lost
/// mid-call: then a primary-key conflict means the first attempt was
/// applied, and the user is returned as created.
pub fn create_audited(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    write: &UserWrite,
    entry: &audit::Entry,
    again: bool,
) -> Result<StoredUser, StoreError> {
    Ok(create_audited_probed(conn, org, id, write, entry, again, None)?.0)
}

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bool>)]
    live: Option<bool>,
}

/// [`create_audited`], carrying the token check `probe` in the same
/// statement: the rows are inserted only when the token is live for the
/// value (or no check is owed), so a POST costs one round trip and a
/// refused token writes nothing. `Probed::NotLive`: nothing was written.
pub fn create_audited_probed(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    write: &UserWrite,
    entry: &audit::Entry,
    again: bool,
    probe: Option<&super::tokens::Probe>,
) -> Result<(StoredUser, super::tokens::Probed), StoreError> {
    let cols = columns(&write.doc)?;
    let now = entry.at;
    // Data-modifying CTEs run whether or not the final SELECT reads them.
    let inserted = Statement(
        Frag::sql("WITH probe AS (SELECT ")
            .append(&super::tokens::probe_column(probe))
            .push(" AS live, ")
            .bind(Bind::Bool(probe.is_some()))
            .push(
                " AS owed), changed AS (INSERT INTO scim_users (id, org_id, user_name,                  user_name_ci, external_id, display_name, display_name_ci, active, emails_ci,                  password_hash, doc, created_at, last_modified, version, created_by_connector,                  owner_connector, external_id_connector) SELECT ",
            )
            .bind(Bind::Uuid(id))
            .push(", ")
            .bind(Bind::Uuid(org))
            .push(", ")
            .text(cols.user_name)
            .push(", ")
            .text(cols.user_name_ci)
            .push(", ")
            .bind(Bind::OptText(cols.external_id))
            .push(", ")
            .bind(Bind::OptText(cols.display_name))
            .push(", ")
            .bind(Bind::OptText(cols.display_name_ci))
            .push(", ")
            .bind(Bind::OptBool(cols.active))
            .push(", ")
            .bind(Bind::TextArray(cols.emails_ci))
            .push(", ")
            .bind(Bind::OptText(write.password_hash.clone()))
            .push(", ")
            .bind(Bind::Json(write.doc.clone()))
            .push(", ")
            .bind(Bind::Time(now))
            .push(", ")
            .bind(Bind::Time(now))
            .push(", 1, ")
            .bind(Bind::OptUuid(write.origin.created_by))
            .push(", ")
            .bind(Bind::OptUuid(write.origin.owner))
            .push(", ")
            .bind(Bind::OptUuid(write.origin.external_id_by))
            .push(
                " FROM probe WHERE NOT probe.owed OR probe.live IS NOT NULL RETURNING 1),                  event AS (",
            )
            .append(&super::events::insert_frag::<diesel::sql_types::Untyped>(
                entry,
                id,
                &super::events::Change::between(None, Some(&write.doc), Some(1)),
                true,
            ))
            .push("), audited AS (")
            .append(&audit::insert_from_changed::<diesel::sql_types::Untyped>(
                entry,
            ))
            .push(" RETURNING 1) SELECT live FROM probe")
            .shared(),
    )
    .get_result::<Created>(conn);
    let live = match inserted {
        Ok(c) => c.live,
        Err(e) => match StoreError::from(e) {
            // The first attempt was applied, so its check passed then.
            StoreError::Conflict(c) if again && c == "scim_users_pkey" => Some(false),
            other => return Err(uniqueness(other, &write.doc)),
        },
    };
    let user = StoredUser {
        id,
        doc: write.doc.clone(),
        meta: Meta {
            origin: write.origin,
            ..Meta::created_at(now)
        },
    };
    Ok((user, super::tokens::Probed::from_column(probe, live)))
}

pub fn get(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<StoredUser, StoreError> {
    row_in_org!(scim_users, Row, org, id)
        .first::<Row>(conn)
        .optional()?
        .map(StoredUser::from)
        .ok_or(StoreError::NotFound)
}

/// A user and the groups it belongs to (directly or through nesting): one
/// statement reads the row, whether it is in any group, and the token check
/// `probe` (see `tokens::probe_column`); only a user who is in a group costs
/// a second statement, the walk up the membership rows.
pub fn get_with_groups(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    probe: Option<&super::tokens::Probe>,
) -> Result<(StoredUser, Vec<members::GroupRef>, Option<bool>), StoreError> {
    let (row, grouped, live): (Row, bool, Option<bool>) = scim_users::table
        .filter(scim_users::org_id.eq(org))
        .filter(scim_users::id.eq(id))
        .select((
            Row::as_select(),
            members::in_any_group(id),
            super::tokens::probe_column(probe),
        ))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    // A credential the probe found dead (NULL) is refused: walk nothing.
    let refused = probe.is_some() && live.is_none();
    let groups = if grouped && !refused {
        members::groups_of(conn, org, &[id])?
            .remove(&id)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok((row.into(), groups, live))
}

fn lock(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<StoredUser, StoreError> {
    row_in_org!(scim_users, Row, org, id)
        .for_update()
        .first::<Row>(conn)
        .optional()?
        .map(StoredUser::from)
        .ok_or(StoreError::NotFound)
}

/// Replaces (or patches) a user: locks the row, checks `If-Match`, lets `f`
/// compute the new state from the stored one, and writes it. Nothing changes,
/// not even the version, when `f` returns the same document and no password.
/// Call inside a transaction.
pub fn update_with(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    f: impl FnOnce(&StoredUser) -> Result<UserWrite, StoreError>,
) -> Result<StoredUser, StoreError> {
    let current = lock(conn, org, id)?;
    super::check_precondition(if_match, current.meta.version)?;
    let write = f(&current)?;
    if write.doc == current.doc
        && write.password_hash.is_none()
        && write.origin.external_id_by == current.meta.origin.external_id_by
    {
        return Ok(current);
    }
    let mut meta = current.meta.changed_at(now);
    meta.origin.external_id_by = write.origin.external_id_by;
    Statement(
        set_row(&write, meta.version, now)?
            .push(" WHERE id = ")
            .bind(Bind::Uuid(id))
            .shared(),
    )
    .execute(conn)
    .map_err(|e| uniqueness(e.into(), &write.doc))?;
    Ok(StoredUser {
        id,
        doc: write.doc,
        meta,
    })
}

/// `UPDATE scim_users SET …` for `write` at `version`, without its WHERE.
/// One fixed text (two shapes: with and without a new password), so the
/// statement stays prepared; diesel re-plans every UPDATE it builds.
fn set_row<ST>(
    write: &UserWrite,
    version: i64,
    now: DateTime<Utc>,
) -> Result<Frag<ST>, StoreError> {
    let cols = columns(&write.doc)?;
    let mut sql = Frag::sql("UPDATE scim_users SET user_name = ")
        .text(cols.user_name)
        .push(", user_name_ci = ")
        .text(cols.user_name_ci)
        .push(", external_id = ")
        .bind(Bind::OptText(cols.external_id))
        .push(", display_name = ")
        .bind(Bind::OptText(cols.display_name))
        .push(", display_name_ci = ")
        .bind(Bind::OptText(cols.display_name_ci))
        .push(", active = ")
        .bind(Bind::OptBool(cols.active))
        .push(", emails_ci = ")
        .bind(Bind::TextArray(cols.emails_ci))
        .push(", external_id_connector = ")
        .bind(Bind::OptUuid(write.origin.external_id_by))
        .push(", doc = ")
        .bind(Bind::Json(write.doc.clone()))
        .push(", last_modified = ")
        .bind(Bind::Time(now))
        .push(", version = ")
        .bind(Bind::Int(version));
    // A replace without a password keeps the stored one: clients can never
    // read it back, so they cannot be expected to resend it.
    if let Some(h) = &write.password_hash {
        sql = sql.push(", password_hash = ").text(h.clone());
    }
    Ok(sql)
}

/// What an optimistic write found.
#[derive(Debug)]
pub enum Written {
    /// Written (or nothing to change), audited; the state now stored.
    Done(StoredUser),
    /// The row's version is no longer `current`'s: someone wrote between
    /// the read and this write, which changed nothing. Read again.
    Moved,
}

/// Writes `write` over `current` and its audit entry in one statement,
/// without a row lock or a transaction: the UPDATE applies only while the
/// row still has `current`'s version, and the entry is inserted only when
/// it did. Nothing to change (the same document, no password) records the
/// entry alone. `again` as in [`create_audited`]: a conflict on the entry's
/// own id means the lost attempt was applied.
pub fn update_audited(
    conn: &mut PgConnection,
    org: Uuid,
    current: &StoredUser,
    write: UserWrite,
    entry: &audit::Entry,
    again: bool,
) -> Result<Written, StoreError> {
    let now = entry.at;
    let unchanged = write.doc == current.doc
        && write.password_hash.is_none()
        && write.origin.external_id_by == current.meta.origin.external_id_by;
    let meta = if unchanged {
        current.meta.clone()
    } else {
        let mut m = current.meta.changed_at(now);
        m.origin.external_id_by = write.origin.external_id_by;
        m
    };
    let head = if unchanged {
        Frag::sql("WITH changed AS (SELECT 1) ")
    } else {
        Frag::sql("WITH changed AS (")
            .append(&set_row::<diesel::sql_types::Untyped>(
                &write,
                meta.version,
                now,
            )?)
            .push(" WHERE id = ")
            .bind(Bind::Uuid(current.id))
            .push(" AND version = ")
            .bind(Bind::Int(current.meta.version))
            .push(" RETURNING 1), event AS (")
            .append(&super::events::insert_frag::<diesel::sql_types::Untyped>(
                entry,
                current.id,
                &super::events::Change::between(
                    Some(&current.doc),
                    Some(&write.doc),
                    Some(meta.version),
                ),
                true,
            ))
            .push(") ")
    };
    let inserted = Statement(
        head.append(&audit::insert_from_changed::<diesel::sql_types::Untyped>(
            entry,
        ))
        .shared(),
    )
    .execute(conn);
    match inserted {
        Ok(0) => Ok(Written::Moved),
        Ok(_) => Ok(Written::Done(StoredUser {
            id: current.id,
            doc: write.doc,
            meta,
        })),
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict(c) if again && c == "audit_log_pkey" => {
                get(conn, org, current.id).map(Written::Done)
            }
            other => Err(uniqueness(other, &write.doc)),
        },
    }
}

/// A resource document's `externalId`.
pub(super) fn external_id_of(doc: &serde_json::Value) -> Option<String> {
    doc.get("externalId")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Deletes a user and its memberships; its `externalId`, for the change
/// event. Call inside a transaction.
pub fn delete(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    if_match: Option<&EtagCondition>,
    now: DateTime<Utc>,
    before: impl FnOnce(&mut PgConnection, &Origin) -> Result<(), StoreError>,
) -> Result<Option<String>, StoreError> {
    // Groups first, then the user: the lock order every delete follows
    // (see `groups::lock_holders`), so concurrent deletes never deadlock.
    let holders = super::groups::lock_holders(conn, org, id, None)?;
    let current = lock(conn, org, id)?;
    super::check_precondition(if_match, current.meta.version)?;
    // The ownership check, and the archive copy of a soft delete.
    before(conn, &current.meta.origin)?;
    super::groups::remove_from_all_groups(conn, id, &holders, now)?;
    diesel::delete(scim_users::table.filter(scim_users::id.eq(id))).execute(conn)?;
    Ok(external_id_of(&current.doc))
}

/// The users of `org` whose userName, or any email, is `email` (compared
/// case-insensitively). At most two: one is the answer, two is a conflict.
pub fn by_email(
    conn: &mut PgConnection,
    org: Uuid,
    email: &str,
) -> Result<Vec<StoredUser>, StoreError> {
    let folded = fold(email);
    let rows: Vec<Row> = scim_users::table
        .filter(scim_users::org_id.eq(org))
        .filter(
            scim_users::user_name_ci
                .eq(&folded)
                .or(scim_users::emails_ci.contains(vec![folded.clone()])),
        )
        .select(Row::as_select())
        .limit(2)
        .load(conn)?;
    Ok(rows.into_iter().map(StoredUser::from).collect())
}

/// The groups each of `users` belongs to, directly or through nested groups,
/// in one query for the whole page.
pub fn groups_of(
    conn: &mut PgConnection,
    org: Uuid,
    users: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<members::GroupRef>>, StoreError> {
    members::groups_of(conn, org, users)
}

pub use members::GroupRef;
