//! API token rows. Values are never stored: only their SHA-256 digest
//! (`sha256$…`; tokens minted before that hold an argon2id hash until their
//! first use, see `auth::secret`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::api_tokens;
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
    /// The value before the last rotation, valid until `previous_valid_until`.
    pub previous_secret_hash: Option<String>,
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub last_used_from: Option<String>,
    /// The connector this token belongs to (issue 17), if any.
    pub connector_id: Option<Uuid>,
    /// The token's own rate limit (a connector's tokens share the
    /// connector's instead).
    pub rate_per_second: Option<f64>,
    pub rate_burst: Option<i32>,
}

/// `last_used_at` is written at most this often per token, so authentication
/// does not add a write to every request.
pub const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

pub fn insert(conn: &mut PgConnection, row: &TokenRow) -> Result<(), StoreError> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut PgConnection, org: Uuid) -> Result<Vec<TokenRow>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .order((api_tokens::created_at, api_tokens::id))
        .select(TokenRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<TokenRow, StoreError> {
    api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .filter(api_tokens::id.eq(id))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// A token check carried inside a request's own statement, so that checking
/// a known token costs no round trip of its own: the token `id`, the stored
/// form of the presented value's digest, and the request's time. The
/// comparison in SQL only decides whether the statement's answer counts;
/// the value was compared in constant time against the row when the
/// process accepted it (`auth::Pending`).
#[derive(Debug, Clone)]
pub struct Probe {
    pub id: Uuid,
    pub stored: String,
    pub now: DateTime<Utc>,
    /// The organization's schema version the request's registry was built
    /// at (`schemas::version`): a statement that finds another counts as
    /// not live, so nothing is read or written against a stale registry.
    /// `None` checks the token alone.
    pub schema_version: Option<i64>,
}

/// What a statement that could carry a [`Probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probed {
    /// The statement did not carry it (no probe, or a shape without one).
    Skipped,
    /// The token is live; `stale`: its last use is due to be recorded.
    Live { stale: bool },
    /// The token is not live for the value: the request must be refused
    /// (the full check says why).
    NotLive,
}

impl Probed {
    /// From [`probe_column`]'s value, for a statement that carried `probe`.
    pub fn from_column(probe: Option<&Probe>, column: Option<bool>) -> Probed {
        match (probe, column) {
            (None, _) => Probed::Skipped,
            (Some(_), Some(stale)) => Probed::Live { stale },
            (Some(_), None) => Probed::NotLive,
        }
    }
}

/// The column a statement selects for `probe`: NULL unless the token is
/// live for the value (not revoked, not expired, the current secret or the
/// previous one within its grace), else whether its `last_used_at` is
/// stale enough to be written. Without a probe it is bound to nothing and
/// reads NULL; a fixed text either way, so the statement stays prepared.
pub(super) fn probe_column(
    probe: Option<&Probe>,
) -> super::query::sql::Frag<diesel::sql_types::Nullable<diesel::sql_types::Bool>> {
    use super::query::sql::{Bind, Frag};
    let now = probe.map_or(DateTime::<Utc>::UNIX_EPOCH, |p| p.now);
    let frag = Frag::sql("(SELECT t.last_used_at IS NULL OR t.last_used_at < ")
        .bind(Bind::Time(now - LAST_USED_GRANULARITY))
        .push(" FROM api_tokens t WHERE t.id = ")
        .bind(Bind::OptUuid(probe.map(|p| p.id)))
        .push(" AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ")
        .bind(Bind::Time(now))
        .push(") AND (t.secret_hash = ")
        .bind(Bind::OptText(probe.map(|p| p.stored.clone())))
        .push(" OR (t.previous_secret_hash = ")
        .bind(Bind::OptText(probe.map(|p| p.stored.clone())))
        .push(" AND t.previous_valid_until > ")
        .bind(Bind::Time(now))
        .push("))");
    // The version check only when one is carried: two texts, each keeping
    // its generic plan. One text with a NULL version made PostgreSQL plan
    // the all-NULL form (no probe) afresh on every execution, since a
    // custom plan prunes the whole subquery that a generic one must cost.
    let frag = match probe.and_then(|p| p.schema_version) {
        Some(v) => frag
            .push(" AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = t.org_id AND o.schema_version = ")
            .bind(Bind::OptInt8(Some(v)))
            .push("))"),
        None => frag.push(")"),
    };
    frag.shared()
}

/// The row authentication needs, by primary key, whatever its organization,
/// with its organization's schema version: the request's registry is then
/// known current without a read of its own.
pub fn for_auth(conn: &mut PgConnection, id: Uuid) -> Result<Option<(TokenRow, i64)>, StoreError> {
    use super::schema::organizations;
    Ok(api_tokens::table
        .inner_join(organizations::table)
        .filter(api_tokens::id.eq(id))
        .select((TokenRow::as_select(), organizations::schema_version))
        .first(conn)
        .optional()?)
}

/// Revokes a live token. `NotFound` when it does not exist in `org` or was
/// already revoked, so a second revoke is a 404.
pub fn revoke(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenRow, StoreError> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::org_id.eq(org))
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .returning(TokenRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// Records a use, unless one was recorded within the granularity; the
/// condition is in the UPDATE so concurrent instances write at most once.
pub fn touch(
    conn: &mut PgConnection,
    id: Uuid,
    from: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        api_tokens::table.filter(api_tokens::id.eq(id)).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.lt(now - LAST_USED_GRANULARITY)),
        ),
    )
    .set((
        api_tokens::last_used_at.eq(now),
        api_tokens::last_used_from.eq(from),
    ))
    .execute(conn)?;
    Ok(())
}

/// Gives a token a new secret hash; the old one stays valid until
/// `grace_until` (none when that is `now`). Only live tokens rotate.
pub fn rotate(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
    new_hash: &str,
    grace_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TokenRow, StoreError> {
    let current = api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .filter(api_tokens::id.eq(id))
        .select(TokenRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if current.revoked_at.is_some() || current.expires_at.is_some_and(|e| e <= now) {
        return Err(StoreError::Revoked);
    }
    let keep_old = grace_until > now;
    Ok(
        diesel::update(api_tokens::table.filter(api_tokens::id.eq(id)))
            .set((
                api_tokens::secret_hash.eq(new_hash),
                api_tokens::previous_secret_hash
                    .eq(keep_old.then_some(current.secret_hash.as_str())),
                api_tokens::previous_valid_until.eq(keep_old.then_some(grace_until)),
            ))
            .returning(TokenRow::as_returning())
            .get_result(conn)?,
    )
}

/// Active (neither revoked nor expired) tokens of an organization, counted
/// under a lock on the organization row so concurrent creates cannot both
/// pass the limit.
pub fn count_active_locked(
    conn: &mut PgConnection,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    use super::schema::organizations;
    organizations::table
        .find(org)
        .select(organizations::id)
        .for_update()
        .first::<Uuid>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(api_tokens::table
        .filter(api_tokens::org_id.eq(org))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now)),
        )
        .count()
        .get_result(conn)?)
}

/// Which stored secret of a token a value matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Current,
    /// The value before the last rotation, within its grace period.
    Previous,
}

/// Replaces a legacy argon2 hash with the value's digest once the value has
/// been verified against it. Compare-and-set on the old hash, so a rotation
/// that happened meanwhile is never overwritten.
pub fn upgrade_secret(
    conn: &mut PgConnection,
    id: Uuid,
    which: Slot,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    let row = api_tokens::table.filter(api_tokens::id.eq(id));
    match which {
        Slot::Current => diesel::update(row.filter(api_tokens::secret_hash.eq(old)))
            .set(api_tokens::secret_hash.eq(new))
            .execute(conn)?,
        Slot::Previous => diesel::update(row.filter(api_tokens::previous_secret_hash.eq(old)))
            .set(api_tokens::previous_secret_hash.eq(new))
            .execute(conn)?,
    };
    Ok(())
}
