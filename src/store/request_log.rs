//! The connectors' request log (issue 17): rows written in batches by
//! `service::request_log`, read newest first by the admin API, trimmed by
//! age and by count per organization.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{organizations, request_log};
use super::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, PartialEq)]
#[diesel(table_name = request_log)]
// COPY writes every column: a missing value is NULL, not DEFAULT.
#[diesel(treat_none_as_default_value = false)]
pub struct LoggedRequest {
    pub id: Uuid,
    #[serde(skip)]
    pub org_id: Uuid,
    pub connector_id: Uuid,
    pub at: DateTime<Utc>,
    pub method: String,
    pub route: String,
    pub path: String,
    pub query: Option<String>,
    pub status: i16,
    pub duration_ms: f64,
    pub request_id: String,
    pub resource_id: Option<Uuid>,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub truncated: bool,
}

/// Writes a batch with one `COPY … FROM STDIN (FORMAT binary)`: PostgreSQL
/// neither parses nor plans a statement with thousands of parameters, which
/// an `INSERT … VALUES` of the same batch costs it (measured in
/// BENCHMARKS.md, "Connectors").
pub fn insert(conn: &mut PgConnection, rows: &[LoggedRequest]) -> Result<usize, StoreError> {
    let refs: Vec<&LoggedRequest> = rows.iter().collect();
    Ok(diesel::copy_from(request_log::table)
        .from_insertable(refs)
        .execute(conn)?)
}

/// Each organization's hash key, for `orgs`.
pub fn keys(conn: &mut PgConnection, orgs: &[Uuid]) -> Result<Vec<(Uuid, Vec<u8>)>, StoreError> {
    Ok(organizations::table
        .filter(organizations::id.eq_any(orgs))
        .select((organizations::id, organizations::log_key))
        .load(conn)?)
}

/// What the admin API filters a connector's requests by.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// `2`, `4` or `5`: the status class.
    pub status_class: Option<i16>,
    pub method: Option<String>,
    pub resource_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// `(at, id)` of the last row of the previous page.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// `connector`'s requests that `q` selects, newest first.
pub fn list(
    conn: &mut PgConnection,
    org: Uuid,
    connector: Uuid,
    q: &RequestQuery,
) -> Result<Vec<LoggedRequest>, StoreError> {
    let mut s = request_log::table
        .filter(request_log::connector_id.eq(connector))
        .filter(request_log::org_id.eq(org))
        .into_boxed();
    if let Some(c) = q.status_class {
        s = s
            .filter(request_log::status.ge(c * 100))
            .filter(request_log::status.lt(c * 100 + 100));
    }
    if let Some(m) = &q.method {
        s = s.filter(request_log::method.eq(m.clone()));
    }
    if let Some(r) = q.resource_id {
        s = s.filter(request_log::resource_id.eq(r));
    }
    if let Some(t) = q.since {
        s = s.filter(request_log::at.ge(t));
    }
    if let Some(t) = q.until {
        s = s.filter(request_log::at.lt(t));
    }
    if let Some((at, id)) = q.before {
        s = s.filter(
            request_log::at
                .lt(at)
                .or(request_log::at.eq(at).and(request_log::id.lt(id))),
        );
    }
    Ok(s.order((request_log::at.desc(), request_log::id.desc()))
        .limit(q.limit)
        .select(LoggedRequest::as_select())
        .load(conn)?)
}

/// A connector's traffic at a glance.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Activity {
    pub last_request_at: Option<DateTime<Utc>>,
    pub requests_last_hour: i64,
    pub errors_last_hour: i64,
    pub last_error: Option<LastError>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub status: i16,
    pub method: String,
    pub path: String,
}

#[derive(QueryableByName)]
struct ActivityRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    requests: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    errors: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    err_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::SmallInt>)]
    err_status: Option<i16>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    err_method: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    err_path: Option<String>,
}

/// [`Activity`] of every connector of `org` (or only of `only`) as of
/// `now`, in one statement whose subqueries each read the connector's index.
pub fn activity(
    conn: &mut PgConnection,
    org: Uuid,
    only: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<Uuid, Activity>, StoreError> {
    let rows: Vec<ActivityRow> = diesel::sql_query(
        "SELECT c.id, \
           (SELECT max(r.at) FROM request_log r WHERE r.connector_id = c.id) AS last_at, \
           (SELECT count(*) FROM request_log r WHERE r.connector_id = c.id AND r.at >= $2) AS requests, \
           (SELECT count(*) FROM request_log r WHERE r.connector_id = c.id AND r.at >= $2 \
              AND r.status >= 400) AS errors, \
           e.at AS err_at, e.status AS err_status, e.method AS err_method, e.path AS err_path \
         FROM connectors c LEFT JOIN LATERAL (SELECT r.at, r.status, r.method, r.path \
           FROM request_log r WHERE r.connector_id = c.id AND r.status >= 400 \
           ORDER BY r.at DESC, r.id DESC LIMIT 1) e ON true \
         WHERE c.org_id = $1 AND ($3::uuid IS NULL OR c.id = $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(org)
    .bind::<diesel::sql_types::Timestamptz, _>(now - chrono::Duration::hours(1))
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(only)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let last_error = match (r.err_at, r.err_status, r.err_method, r.err_path) {
                (Some(at), Some(status), Some(method), Some(path)) => Some(LastError {
                    at,
                    status,
                    method,
                    path,
                }),
                _ => None,
            };
            (
                r.id,
                Activity {
                    last_request_at: r.last_at,
                    requests_last_hour: r.requests,
                    errors_last_hour: r.errors,
                    last_error,
                },
            )
        })
        .collect())
}

/// Removes rows older than `before`, and each organization's rows beyond
/// its newest `max_rows`; how many went.
pub fn trim(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    max_rows: i64,
) -> Result<usize, StoreError> {
    let old =
        diesel::delete(request_log::table.filter(request_log::at.lt(before))).execute(conn)?;
    let over = diesel::sql_query(
        "DELETE FROM request_log r USING ( \
             SELECT org_id, (SELECT x.at FROM request_log x WHERE x.org_id = c.org_id \
                             ORDER BY x.at DESC OFFSET $1 LIMIT 1) AS cut \
             FROM (SELECT org_id FROM request_log GROUP BY org_id HAVING count(*) > $1) c \
         ) t WHERE r.org_id = t.org_id AND r.at <= t.cut",
    )
    .bind::<diesel::sql_types::BigInt, _>(max_rows)
    .execute(conn)?;
    Ok(old + over)
}
