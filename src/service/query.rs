//! List queries (`GET /Users`, `/.search`; RFC 7644 §3.4.2, RFC 9865),
//! resolved against the schema at the boundary: a [`ResolvedQuery`] is
//! built before any connection is taken, so `filter=bogus eq "x"` is a 400
//! that costs no database work, and answers the same while the database is
//! down.

use serde_json::Value;
use uuid::Uuid;

use super::resources::{render_owned, wants_related};
use super::{Ctx, Result};
use crate::scim::discovery::list_response;
use crate::scim::list::ListQuery;
use crate::scim::resource::{Kind, Projection};
use crate::store;
use crate::store::query::{self, Page, Prepared};
use crate::store::resources::{self, Stored};

/// A list request checked against the registry and compiled: filter, sort,
/// paging plan and projection.
pub struct ResolvedQuery {
    pub(super) org: Uuid,
    pub(super) prepared: Prepared,
    pub(super) projection: Projection,
    pub(super) with_related: bool,
    cursor_mode: bool,
    start_index: i64,
}

impl ResolvedQuery {
    /// Resolves `q` for `kind` in `org`; every client error is found here.
    pub fn new(ctx: &Ctx, org: Uuid, kind: Kind, q: &ListQuery) -> Result<Self> {
        let reg = &ctx.registry();
        let projection = Projection {
            attributes: q.attributes.clone(),
            excluded: q.excluded.clone(),
        };
        Ok(ResolvedQuery {
            org,
            prepared: query::prepare(reg, kind, org, ctx.caller(), q, ctx.state.clock.now())?,
            with_related: wants_related(reg, kind, &projection)?,
            projection,
            cursor_mode: q.cursor.is_some(),
            start_index: q.start_index,
        })
    }

    /// This query with the index page `start_index`/`count` instead of its
    /// own, not resolved again.
    pub(super) fn index_page(&self, start_index: i64, count: i64) -> ResolvedQuery {
        ResolvedQuery {
            org: self.org,
            prepared: self.prepared.index_page(start_index - 1, count),
            projection: self.projection.clone(),
            with_related: self.with_related,
            cursor_mode: false,
            start_index,
        }
    }

    /// Reads this query's page; call inside the snapshot the answer is
    /// read in.
    pub(super) fn read(
        &self,
        conn: &mut store::Conn,
    ) -> std::result::Result<Page<Stored>, store::StoreError> {
        resources::list(conn, self.org, &self.prepared, self.with_related)
    }

    /// [`Self::read`], carrying the token check `probe` in the page's
    /// statement.
    pub(super) fn read_probed(
        &self,
        conn: &mut store::Conn,
        probe: Option<&store::tokens::Probe>,
    ) -> std::result::Result<(Page<Stored>, store::tokens::Probed), store::StoreError> {
        resources::list_probed(conn, self.org, &self.prepared, self.with_related, probe)
    }
}

/// One page of a ListResponse, rendered.
#[derive(Debug)]
pub struct ListPage {
    pub total: i64,
    pub start_index: i64,
    pub resources: Vec<Value>,
    /// Cursor paging (RFC 9865): `nextCursor`/`previousCursor` instead of
    /// `startIndex`.
    pub cursor_mode: bool,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

impl ListPage {
    /// The ListResponse (RFC 7644 §3.4.2).
    /// Consumes the page: its rendered resources move into the body rather
    /// than being copied.
    pub fn into_json(self) -> Value {
        let mut body = list_response(self.total, self.start_index, self.resources);
        if self.cursor_mode {
            if let Some(m) = body.as_object_mut() {
                m.remove("startIndex");
            }
            if let Some(c) = self.next_cursor {
                body["nextCursor"] = Value::String(c);
            }
            if let Some(c) = self.previous_cursor {
                body["previousCursor"] = Value::String(c);
            }
        }
        body
    }
}

/// Renders a page read for `q`.
pub(super) fn page(ctx: &Ctx, q: &ResolvedQuery, page: Page<Stored>) -> Result<ListPage> {
    let resources = page
        .items
        .into_iter()
        .map(|r| render_owned(ctx, r, &q.projection))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(ListPage {
        total: page.total,
        start_index: q.start_index,
        resources,
        cursor_mode: q.cursor_mode,
        next_cursor: page.next_cursor,
        previous_cursor: page.previous_cursor,
    })
}

/// A list of one resource type: the page with its `totalResults` in one
/// statement (so they agree without a transaction), then the related
/// resources of all its items when they are shown.
pub async fn list(ctx: &Ctx, q: ResolvedQuery) -> Result<ListPage> {
    let q = std::sync::Arc::new(q);
    let reader = q.clone();
    let read = ctx
        .read_probed(move |conn, probe| reader.read_probed(conn, probe))
        .await?;
    page(ctx, &q, read)
}
