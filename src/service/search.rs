//! `POST /.search` at the root (RFC 7644 §3.4.3): Users and Groups in one
//! ListResponse, users first, then groups, each in its own order (`sortBy`
//! applies within each type). Both totals and the page are read in one
//! snapshot, so they describe the same moment.

use uuid::Uuid;

use super::query::{page, ListPage, ResolvedQuery};
use super::resources::resource_type;
use super::{Ctx, Result};
use crate::scim::error::ScimError;
use crate::scim::filter::{check_defined, restrict, Restricted};
use crate::scim::list::ListQuery;
use crate::scim::path::AttrPath;
use crate::scim::resource::Kind;
use crate::store;

/// Each type is searched with the filter as it sees it (`filter::restrict`):
/// an attribute the type does not define is absent on every one of its
/// resources, so `userName eq "a" or displayName eq "b"` finds the user and
/// the group, and a type the filter can match nothing of is not queried at
/// all. An attribute neither type defines is still `400 invalidFilter`.
/// Index paging only: a cursor cannot span two resource types.
pub async fn search_all(ctx: &Ctx, org: Uuid, q: ListQuery) -> Result<ListPage> {
    if q.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "cursor paging is not available on /.search across resource types; search /Users/.search or /Groups/.search",
        )
        .into());
    }
    let reg = &ctx.state.registry;
    let (user_rt, group_rt) = (
        resource_type(reg, Kind::User)?,
        resource_type(reg, Kind::Group)?,
    );
    if let Some(f) = &q.filter {
        check_defined(f, &|p| reg.defines(user_rt, p) || reg.defines(group_rt, p))?;
    }
    if let Some(p) = &q.sort_by {
        if !reg.defines(user_rt, p) && !reg.defines(group_rt, p) {
            return Err(ScimError::invalid_value(format!(
                "sortBy: neither Users nor Groups have the attribute '{p}'"
            ))
            .into());
        }
    }
    let (offset, count) = (q.offset(), q.page_size());
    // Each type's query resolved twice before any connection is taken: for
    // its total (count 0 reads no rows), and for the widest page it can
    // contribute. Which rows the page needs is known only once both totals
    // are, inside the snapshot; the per-type page is then cut from there.
    let resolve = |kind: Kind,
                   defined: &dyn Fn(&AttrPath) -> bool|
     -> Result<Option<(ResolvedQuery, ListQuery)>> {
        let Some(tq) = restricted(&q, defined) else {
            return Ok(None);
        };
        let totals = ListQuery {
            count: Some(0),
            start_index: 1,
            ..tq.clone()
        };
        Ok(Some((ResolvedQuery::new(ctx, org, kind, &totals)?, tq)))
    };
    let users = resolve(Kind::User, &|p| reg.defines(user_rt, p))?;
    let groups = resolve(Kind::Group, &|p| reg.defines(group_rt, p))?;
    // Pages are resolved inside the snapshot from these, so ctx goes in.
    let inner = ctx.clone();
    let (user_total, group_total, user_page, group_page) =
        store::read_snapshot(&ctx.state.pool, move |conn| {
            let total = |t: &Option<(ResolvedQuery, ListQuery)>,
                         conn: &mut store::Conn|
             -> std::result::Result<i64, store::StoreError> {
                match t {
                    Some((rq, _)) => Ok(rq.read(conn)?.total),
                    None => Ok(0),
                }
            };
            let user_total = total(&users, conn)?;
            let group_total = total(&groups, conn)?;
            let mut user_page = None;
            let mut taken = 0;
            if let Some((_, uq)) = users.filter(|_| offset < user_total && count > 0) {
                let rq = resolved(
                    &inner,
                    org,
                    Kind::User,
                    ListQuery {
                        start_index: offset + 1,
                        count: Some(count),
                        ..uq
                    },
                )?;
                let read = rq.read(conn)?;
                taken = read.items.len() as i64;
                user_page = Some((rq, read));
            }
            let remaining = count - taken;
            let groups_left = offset + taken < user_total + group_total;
            let mut group_page = None;
            if let Some((_, gq)) = groups.filter(|_| remaining > 0 && groups_left) {
                let rq = resolved(
                    &inner,
                    org,
                    Kind::Group,
                    ListQuery {
                        start_index: (offset - user_total).max(0) + 1,
                        count: Some(remaining),
                        ..gq
                    },
                )?;
                let read = rq.read(conn)?;
                group_page = Some((rq, read));
            }
            Ok((user_total, group_total, user_page, group_page))
        })
        .await?;
    let mut resources = Vec::new();
    for (rq, read) in user_page.into_iter().chain(group_page) {
        resources.extend(page(ctx, &rq, read)?.resources);
    }
    Ok(ListPage {
        total: user_total + group_total,
        start_index: q.start_index,
        resources,
        cursor_mode: false,
        next_cursor: None,
        previous_cursor: None,
    })
}

/// A query already resolved once with the same filter and sort cannot fail
/// again; if it did, that is the store's error to report.
fn resolved(
    ctx: &Ctx,
    org: Uuid,
    kind: Kind,
    q: ListQuery,
) -> std::result::Result<ResolvedQuery, store::StoreError> {
    ResolvedQuery::new(ctx, org, kind, &q).map_err(|e| match e {
        super::Error::Store(s) => s,
        super::Error::Refused(r) => store::StoreError::Rejected(r),
    })
}

/// `q` with its filter and sortBy as one resource type sees them; None when
/// nothing of that type can match, so the type need not be queried.
fn restricted(q: &ListQuery, defined: &dyn Fn(&AttrPath) -> bool) -> Option<ListQuery> {
    let filter = match q.filter.as_ref().map(|f| restrict(f, defined)) {
        None | Some(Restricted::Everything) => None,
        Some(Restricted::Nothing) => return None,
        Some(Restricted::Filter(f)) => Some(f),
    };
    // A sortBy the type lacks is absent on all its resources: they keep the
    // tie-break order (id), as resources without the value would.
    let sort_by = q.sort_by.clone().filter(|p| defined(p));
    Some(ListQuery {
        filter,
        sort_by,
        ..q.clone()
    })
}
