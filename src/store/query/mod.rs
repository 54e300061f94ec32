//! The query engine behind `GET /Users`, `GET /Groups` and `/.search`
//! (RFC 7644 §3.4.2, RFC 9865): filter, sort and page one organization's
//! resources in PostgreSQL.
//!
//! - `target`: where each attribute lives (typed column, membership rows,
//!   or the JSONB document);
//! - `filter` / `compare`: filter → `WHERE` predicate, with the semantics
//!   of `scim::filter::matches`;
//! - `sort`: `sortBy` → `ORDER BY` and keyset conditions;
//! - `page`: index and cursor paging;
//! - `sql`: the fragment type all SQL is built from, which only accepts
//!   crate-written text and bound parameters.
//!
//! Every page is one statement: the rows with `totalResults` beside each
//! (the sum of the organization's `resource_counts` slots without a filter,
//! a `count(*)` subquery with one), so both come from one snapshot without a
//! transaction; groups add one query for all the page's members. Statements
//! whose filter is a single comparison stay prepared on the connection.

/// The page query for `$table` (a `schema` module), selecting `$row` and
/// each row's sort key. A macro rather than a function: the diesel types
/// differ per table, and `explain` must run exactly what `list_*` runs.
/// (Defined before the `mod` items so `explain` sees it.)
macro_rules! page_query {
    ($table:ident, $row:ty, $org:expr, $predicate:expr, $plan:expr, $total:expr, $probe:expr, $related:expr) => {
        $table::table
            .filter($table::org_id.eq($org))
            .filter($predicate)
            .filter($plan.position()?)
            .order_by($plan.order_by())
            .limit($plan.limit())
            .select((
                <$row>::as_select(),
                $plan.sort.key_text(),
                $total,
                $crate::store::tokens::probe_column($probe),
                $related,
            ))
    };
}

/// `totalResults` as an expression: the organization's counters without a
/// filter, a `count(*)` of the matches with one. Selected with every page
/// row, it is computed once (an uncorrelated subquery) and read in the same
/// statement, and so the same snapshot, as the page: no transaction is
/// needed for them to agree.
macro_rules! total_expr {
    ($table:ident, $p:expr) => {{
        let p: &Prepared = $p;
        if p.filtered {
            $crate::store::query::sql::Frag::<diesel::sql_types::BigInt>::sql(concat!(
                "(SELECT count(*) FROM ",
                stringify!($table),
                " WHERE ",
                stringify!($table),
                ".org_id = "
            ))
            .bind($crate::store::query::sql::Bind::Uuid(p.org))
            .push(" AND ")
            .append(&p.predicate)
            .push(")")
            .shared_if(p.predicate.is_shared())
        } else {
            $crate::store::query::sql::Frag::<diesel::sql_types::BigInt>::sql(
                "(SELECT COALESCE(sum(n), 0)::bigint FROM resource_counts WHERE org_id = ",
            )
            .bind($crate::store::query::sql::Bind::Uuid(p.org))
            .push(" AND resource_type = ")
            .text(p.kind.name())
            .push(")")
            .shared()
        }
    }};
}

/// The total and the page of rows (`$row` from `$table`) a [`Prepared`]
/// query selects, in one statement, as a [`Read`]. Only when that statement
/// returns no row and the page did not start at the first match (an offset
/// or a cursor past the end) is the total read on its own. Each row carries
/// `$related` (whether it has related rows to read) and the token check
/// `$probe` (see `tokens::probe_column`), so a page whose rows have none
/// costs one statement, the check included.
macro_rules! read_page {
    ($conn:expr, $table:ident, $row:ty, $p:expr, $probe:expr, $related:expr) => {{
        let p: &Prepared = $p;
        let probe: Option<&$crate::store::tokens::Probe> = $probe;
        let (org, predicate, plan) = (p.org, &p.predicate, &p.plan);
        let total_of = total_expr!($table, p);
        let related: Frag<diesel::sql_types::Bool> = $related;
        let rows: Vec<($row, Option<String>, i64, Option<bool>, bool)> = if !plan.reads_rows() {
            Vec::new()
        } else if plan.offset() > 0 {
            page_query!(
                $table,
                $row,
                org,
                predicate.clone(),
                plan,
                total_of.clone(),
                probe,
                related
            )
            .offset(plan.offset())
            .load($conn)?
        } else {
            // Without an OFFSET: PostgreSQL keeps a generic plan for
            // `LIMIT $n` but plans `OFFSET $n` again on every execution.
            page_query!(
                $table,
                $row,
                org,
                predicate.clone(),
                plan,
                total_of.clone(),
                probe,
                related
            )
            .load($conn)?
        };
        // No row, nothing carried the check: the caller makes it on its own.
        let probed = match rows.first() {
            Some((_, _, _, live, _)) => $crate::store::tokens::Probed::from_column(probe, *live),
            None => $crate::store::tokens::Probed::Skipped,
        };
        let total = match rows.first() {
            Some((_, _, total, _, _)) => *total,
            None if plan.starts_at_first() => 0,
            None => diesel::select(total_of).get_result::<i64>($conn)?,
        };
        let (items, next_cursor, previous_cursor) = plan.finish(
            rows.into_iter()
                .map(|(r, key, _, _, related)| {
                    let id = r.id;
                    ((r, related), id, key)
                })
                .collect(),
        );
        let with_related = items
            .iter()
            .filter(|(_, rel)| *rel)
            .map(|(r, _)| r.id)
            .collect();
        Read {
            page: Page {
                total,
                items: items.into_iter().map(|(r, _)| r).collect(),
                next_cursor,
                previous_cursor,
            },
            with_related,
            probed,
        }
    }};
}

mod compare;
mod explain;
mod filter;
mod page;
mod sort;
pub mod sql;
mod target;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

pub use self::explain::{explain_users, Explained};
use self::page::Plan;
use self::sort::Sort;
use self::sql::Frag;
use self::target::{Ctx, GROUPS, USERS};
use super::groups::Row as GroupRow;
use super::groups::StoredGroup;
use super::members;
use super::schema::{scim_groups, scim_users};
use super::tokens::{Probe, Probed};
use super::users::{Row as UserRow, StoredUser};
use super::StoreError;
use crate::scim::error::ScimError;
use crate::scim::filter::Restricted;
use crate::scim::list::ListQuery;
use crate::scim::resource::Kind;
use crate::scim::schema::{Mutability, Registry, Returned};

/// One page of a list response.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Resources matching the filter, across all pages (`totalResults`).
    pub total: i64,
    pub items: Vec<T>,
    /// RFC 9865 `nextCursor`: set in cursor paging unless this is the last page.
    pub next_cursor: Option<String>,
    /// RFC 9865 `previousCursor`: set in cursor paging unless this is the first page.
    pub previous_cursor: Option<String>,
}

/// What a list request resolves to before any SQL runs: the `WHERE`
/// predicate and the reading plan. Preparing needs no connection, so every
/// client error (an unknown attribute, a malformed cursor) is found before a
/// connection is taken or a transaction begun.
#[derive(Debug, Clone)]
pub struct Prepared {
    kind: Kind,
    org: Uuid,
    filtered: bool,
    predicate: Frag,
    plan: Plan,
}

impl Prepared {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// This query with another index page (`limit` rows after `offset`),
    /// without resolving it again: `/.search` at the root knows which rows of
    /// each type it needs only once it has read both totals.
    pub fn index_page(&self, offset: i64, limit: i64) -> Prepared {
        Prepared {
            plan: self.plan.index_page(offset, limit),
            ..self.clone()
        }
    }
}

/// Checks `q` against the schema and compiles it for `kind`'s table.
///
/// # Errors
///
/// `Rejected` with a 400 for a filter, sort or cursor the client got wrong
/// (`invalidFilter`, `invalidValue`, `invalidCursor`, `expiredCursor`).
pub fn prepare(
    reg: &Registry,
    kind: Kind,
    org: Uuid,
    scope: Option<Uuid>,
    q: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Prepared, StoreError> {
    let rt = reg.resource_type(kind.name()).ok_or_else(|| {
        StoreError::Rejected(ScimError::new(
            500,
            None,
            format!("resource type {} is not configured", kind.name()),
        ))
    })?;
    let table = match kind {
        Kind::User => &USERS,
        Kind::Group => &GROUPS,
    };
    let ctx = Ctx {
        reg,
        rt,
        table,
        org,
        scope,
    };
    let predicate = predicate_of(&ctx, q)?;
    let mut sort = Sort::plan(&ctx, q.sort_by.as_ref(), q.sort_order)?;
    if kind == Kind::User && q.filter.as_ref().is_some_and(requires_email) {
        sort.fence_id_order();
    }
    let filter_text = q
        .filter
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    // A cursor is good only for the query it was made for, and a
    // connector's `externalId`s make its query another one.
    let scope_text = scope.map(|s| s.to_string()).unwrap_or_default();
    let plan = Plan::new(
        q,
        sort,
        &[&org.to_string(), rt.name, &filter_text, &scope_text],
        now,
    )?;
    Ok(Prepared {
        kind,
        org,
        filtered: q.filter.is_some(),
        predicate,
        plan,
    })
}

/// The `WHERE` predicate of `q`'s filter over `ctx`'s table.
fn predicate_of(ctx: &Ctx<'_>, q: &ListQuery) -> Result<Frag, StoreError> {
    let (reg, rt) = (ctx.reg, ctx.rt);
    Ok(match &q.filter {
        Some(f) => {
            crate::scim::filter::check(f, &|p| ctx.kind(p))?;
            // An attribute never returned (a password, a declared secret)
            // is absent to filters too: `password eq "guess"` must not
            // tell a client whether it guessed right. The built-in password
            // is kept out of the document, so this makes a declared one
            // behave the same.
            let readable = |p: &crate::scim::path::AttrPath| {
                reg.resolve(rt, p).is_none_or(|r| {
                    let a = r.sub.unwrap_or(r.attr);
                    a.returned != Returned::Never && a.mutability != Mutability::WriteOnly
                })
            };
            match crate::scim::filter::restrict(f, &readable) {
                Restricted::Nothing => Frag::truth(false).shared(),
                Restricted::Everything => Frag::truth(true).shared(),
                Restricted::Filter(f) => filter::compile(ctx, &f)?.shared_if(one_comparison(&f)),
            }
        }
        None => Frag::truth(true).shared(),
    })
}

/// Whether `f` is a single comparison or presence test: what identity
/// providers send (`userName eq "…"`, `externalId eq "…"`, `displayName eq
/// "…"`) and a bounded set of statement shapes (one per attribute, operator
/// and value type), so its statements may stay prepared.
fn one_comparison(f: &crate::scim::filter::Filter) -> bool {
    use crate::scim::filter::Filter;
    matches!(f, Filter::Compare(..) | Filter::Present(_))
}

/// Whether every match must have a given email (`emails eq "x"` or
/// `emails.value eq "x"` as a top-level `and` conjunct): then the GIN index
/// finds the few candidate rows and the id order must not tempt the planner
/// into a primary-key walk.
fn requires_email(f: &crate::scim::filter::Filter) -> bool {
    use crate::scim::filter::{CompValue, CompareOp, Filter};
    match f {
        Filter::And(a, b) => requires_email(a) || requires_email(b),
        Filter::Compare(p, CompareOp::Eq, CompValue::Str(_)) => {
            p.attr_is("emails")
                && p.sub
                    .as_ref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("value"))
                && p.urn_is(crate::scim::schema::USER_SCHEMA)
        }
        _ => false,
    }
}

/// Lists an organization's users (RFC 7644 §3.4.2): [`prepare`], then
/// [`users_page`].
///
/// # Errors
///
/// As [`prepare`]; database errors otherwise.
pub fn list_users(
    conn: &mut PgConnection,
    org: Uuid,
    reg: &Registry,
    q: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Page<StoredUser>, StoreError> {
    users_page(conn, &prepare(reg, Kind::User, org, None, q, now)?)
}

/// The page of users a prepared query selects.
pub fn users_page(conn: &mut PgConnection, p: &Prepared) -> Result<Page<StoredUser>, StoreError> {
    Ok(users_read(conn, p, None, false)?.page)
}

/// [`users_page`], carrying the token check `probe`, and saying which of the
/// page's users are in a group when `related` is set (their groups are then
/// read for those users only).
pub fn users_read(
    conn: &mut PgConnection,
    p: &Prepared,
    probe: Option<&Probe>,
    related: bool,
) -> Result<Read<StoredUser>, StoreError> {
    let flag = if related {
        members::user_in_any_group()
    } else {
        Frag::truth(false).shared()
    };
    Ok(read_page!(conn, scim_users, UserRow, p, probe, flag).map(StoredUser::from))
}

/// Lists an organization's groups (RFC 7644 §3.4.2), with their members
/// when `with_members` is set: [`prepare`], then [`groups_page`].
///
/// # Errors
///
/// As [`list_users`].
pub fn list_groups(
    conn: &mut PgConnection,
    org: Uuid,
    reg: &Registry,
    q: &ListQuery,
    now: DateTime<Utc>,
    with_members: bool,
) -> Result<Page<StoredGroup>, StoreError> {
    groups_page(
        conn,
        &prepare(reg, Kind::Group, org, None, q, now)?,
        with_members,
    )
}

/// The page of groups a prepared query selects, with their members (read
/// for the whole page in one query) when `with_members` is set.
pub fn groups_page(
    conn: &mut PgConnection,
    p: &Prepared,
    with_members: bool,
) -> Result<Page<StoredGroup>, StoreError> {
    Ok(groups_read(conn, p, None, with_members)?.page)
}

/// [`groups_page`], carrying the token check `probe`. Members are read, in
/// one query, only for the page's groups that have any.
pub fn groups_read(
    conn: &mut PgConnection,
    p: &Prepared,
    probe: Option<&Probe>,
    with_members: bool,
) -> Result<Read<StoredGroup>, StoreError> {
    let flag = if with_members {
        members::group_has_members()
    } else {
        Frag::truth(false).shared()
    };
    let read = read_page!(conn, scim_groups, GroupRow, p, probe, flag);
    let mut members = if read.with_related.is_empty() {
        std::collections::HashMap::new()
    } else {
        members::members_of(conn, &read.with_related)?
    };
    let Read {
        page,
        with_related,
        probed,
    } = read;
    Ok(Read {
        page: page.map(|r| {
            let id = r.id;
            r.into_group(with_members.then(|| members.remove(&id).unwrap_or_default()))
        }),
        with_related,
        probed,
    })
}

/// A page as its statement read it: the rows, which of them have related
/// rows to read (users in a group, groups with members; empty unless asked),
/// and what the token check carried in the statement found.
#[derive(Debug, Clone)]
pub struct Read<T> {
    pub page: Page<T>,
    pub with_related: Vec<Uuid>,
    pub probed: Probed,
}

impl<T> Read<T> {
    /// The same read with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Read<U> {
        Read {
            page: self.page.map(f),
            with_related: self.with_related,
            probed: self.probed,
        }
    }
}

impl<T> Page<T> {
    /// The same page with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            total: self.total,
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            previous_cursor: self.previous_cursor,
        }
    }
}

/// A page of a declared resource type's resources (RFC 7644 §3.4.2), with
/// `totalResults` read in the same statement: filter, sort, index and
/// cursor paging as for users and groups, over `scim_resources`.
pub fn list_resources(
    conn: &mut PgConnection,
    reg: &Registry,
    rt: &crate::scim::schema::ResourceTypeDef,
    org: Uuid,
    scope: Option<Uuid>,
    q: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Page<super::custom::ResourceRow>, StoreError> {
    use self::sql::Bind;
    use super::custom::{key, ResourceRow};
    use super::schema::scim_resources;
    let ctx = Ctx {
        reg,
        rt,
        table: &target::RESOURCES,
        org,
        scope,
    };
    let predicate = predicate_of(&ctx, q)?;
    let sort = Sort::plan(&ctx, q.sort_by.as_ref(), q.sort_order)?;
    let filter_text = q
        .filter
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let scope_text = scope.map(|s| s.to_string()).unwrap_or_default();
    let plan = Plan::new(
        q,
        sort,
        &[&org.to_string(), rt.name, &filter_text, &scope_text],
        now,
    )?;
    let name = key(rt.name);
    let total_of = Frag::<diesel::sql_types::BigInt>::sql(
        "(SELECT count(*) FROM scim_resources WHERE scim_resources.org_id = ",
    )
    .bind(Bind::Uuid(org))
    .push(" AND scim_resources.resource_type = ")
    .bind(Bind::Text(name.clone()))
    .push(" AND ")
    .append(&predicate)
    .push(")");
    let page = || {
        scim_resources::table
            .filter(scim_resources::org_id.eq(org))
            .filter(scim_resources::resource_type.eq(name.clone()))
            .filter(predicate.clone())
            .order_by(plan.order_by())
            .limit(plan.limit())
            .select((
                ResourceRow::as_select(),
                plan.sort.key_text(),
                total_of.clone(),
            ))
    };
    let rows: Vec<(ResourceRow, Option<String>, i64)> = if !plan.reads_rows() {
        Vec::new()
    } else if plan.offset() > 0 {
        page()
            .filter(plan.position()?)
            .offset(plan.offset())
            .load(conn)?
    } else {
        page().filter(plan.position()?).load(conn)?
    };
    let total = match rows.first() {
        Some((_, _, total)) => *total,
        None if plan.starts_at_first() && plan.reads_rows() => 0,
        None => diesel::select(total_of).get_result::<i64>(conn)?,
    };
    let (items, next_cursor, previous_cursor) = plan.finish(
        rows.into_iter()
            .map(|(r, key, _)| {
                let id = r.id;
                (r, id, key)
            })
            .collect(),
    );
    Ok(Page {
        total,
        items,
        next_cursor,
        previous_cursor,
    })
}
