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
    let reg = &ctx.registry();
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
    // Each type's query is resolved before any connection is taken. Which
    // rows of each the page needs is known only once both totals are, inside
    // the snapshot; the per-type page is then cut from the resolved query.
    let resolve = |kind: Kind, defined: &dyn Fn(&AttrPath) -> bool| -> Result<_> {
        restricted(&q, defined)
            .map(|tq| ResolvedQuery::new(ctx, org, kind, &tq))
            .transpose()
    };
    let users = resolve(Kind::User, &|p| reg.defines(user_rt, p))?;
    let groups = resolve(Kind::Group, &|p| reg.defines(group_rt, p))?;
    let (user_total, group_total, user_page, group_page) = ctx
        .read_snapshot(move |conn| {
            let mut total = |t: &Option<ResolvedQuery>| match t {
                Some(rq) => rq.index_page(1, 0).read(conn).map(|p| p.total),
                None => Ok(0),
            };
            let user_total = total(&users)?;
            let group_total = total(&groups)?;
            let mut user_page = None;
            let mut taken = 0;
            if let Some(uq) = users.as_ref().filter(|_| offset < user_total && count > 0) {
                let rq = uq.index_page(offset + 1, count);
                let read = rq.read(conn)?;
                taken = read.items.len() as i64;
                user_page = Some((rq, read));
            }
            let remaining = count - taken;
            let groups_left = offset + taken < user_total + group_total;
            let mut group_page = None;
            if let Some(gq) = groups.as_ref().filter(|_| remaining > 0 && groups_left) {
                let rq = gq.index_page((offset - user_total).max(0) + 1, remaining);
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
