//! `POST /.search` at the root (RFC 7644 §3.4.3): Users, Groups and the
//! organization's declared resource types in one ListResponse, users first,
//! then groups, then each declared type, each in its own order (`sortBy`
//! applies within each type). Every total and the page are read in one
//! snapshot, so they describe the same moment.

use uuid::Uuid;

use super::query::{page, ListPage, ResolvedQuery};
use super::resources::resource_type;
use super::{Ctx, Result};
use crate::scim::error::ScimError;
use crate::scim::filter::{check_defined, restrict, Restricted};
use crate::scim::list::ListQuery;
use crate::scim::path::AttrPath;
use crate::scim::resource::{Kind, Projection};
use crate::scim::schema::ResourceTypeDef;
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
    let reg = &ctx.registry();
    let (user_rt, group_rt) = (
        resource_type(reg, Kind::User)?,
        resource_type(reg, Kind::Group)?,
    );
    let declared: Vec<ResourceTypeDef> = reg
        .resource_types()
        .iter()
        .filter(|rt| !matches!(rt.name, "User" | "Group"))
        .cloned()
        .collect();
    let any_defines = |p: &AttrPath| {
        reg.defines(user_rt, p)
            || reg.defines(group_rt, p)
            || declared.iter().any(|rt| reg.defines(rt, p))
    };
    if let Some(f) = &q.filter {
        check_defined(f, &any_defines)?;
    }
    if let Some(p) = &q.sort_by {
        if !any_defines(p) {
            return Err(ScimError::invalid_value(format!(
                "sortBy: no resource type here has the attribute '{p}'"
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
    // Declared types: checked against the schema like the built-in ones
    // (`store::query::list_resources` compiles the filter), read after them.
    let customs: Vec<(ResourceTypeDef, ListQuery)> = declared
        .iter()
        .filter_map(|rt| restricted(&q, &|p| reg.defines(rt, p)).map(|tq| (rt.clone(), tq)))
        .collect();
    let (reg_owned, now, scope) = (
        std::sync::Arc::clone(reg),
        ctx.state.clock.now(),
        ctx.caller(),
    );
    let (user_total, group_total, user_page, group_page, custom_total, custom_pages) = ctx
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
                taken += read.items.len() as i64;
                group_page = Some((rq, read));
            }
            // Each declared type covers the next stretch of the combined
            // result: its total first, then the rows of the page in it.
            let (mut before, mut custom_total, mut custom_pages) =
                (user_total + group_total, 0, Vec::new());
            for (rt, tq) in &customs {
                let window = |start: i64, count: i64| ListQuery {
                    start_index: start,
                    count: Some(count),
                    ..tq.clone()
                };
                let total = store::query::list_resources(
                    conn,
                    &reg_owned,
                    rt,
                    org,
                    scope,
                    &window(1, 0),
                    now,
                )?
                .total;
                let from = (offset - before).max(0);
                let want = count - taken;
                if want > 0 && from < total {
                    let page = store::query::list_resources(
                        conn,
                        &reg_owned,
                        rt,
                        org,
                        scope,
                        &window(from + 1, want),
                        now,
                    )?;
                    taken += page.items.len() as i64;
                    custom_pages.push((rt.clone(), page));
                }
                before += total;
                custom_total += total;
            }
            Ok((
                user_total,
                group_total,
                user_page,
                group_page,
                custom_total,
                custom_pages,
            ))
        })
        .await?;
    let mut resources = Vec::new();
    for (rq, read) in user_page.into_iter().chain(group_page) {
        resources.extend(page(ctx, &rq, read)?.resources);
    }
    let projection = Projection {
        attributes: q.attributes.clone(),
        excluded: q.excluded.clone(),
    };
    for (rt, p) in custom_pages {
        resources.extend(
            p.items
                .into_iter()
                .map(|r| super::custom::render(ctx, &rt, r, &projection)),
        );
    }
    Ok(ListPage {
        total: user_total + group_total + custom_total,
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
