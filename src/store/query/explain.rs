//! Shows what the database does with a list query: the SQL text diesel
//! sends (parameters as `$n`, so it can be checked for inlined client text)
//! and PostgreSQL's `EXPLAIN` plan for it. For tests and diagnosis.

use chrono::{DateTime, Utc};
use diesel::debug_query;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;
use uuid::Uuid;

use super::sql::Frag;
use super::{prepare, Prepared, UserRow};
use crate::scim::list::ListQuery;
use crate::scim::schema::Registry;
use crate::store::schema::scim_users;
use crate::store::StoreError;

/// `EXPLAIN <query>`, run with the query's own bound parameters.
struct Explain<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q, C> RunQueryDsl<C> for Explain<Q> {}

#[derive(Debug, Clone)]
pub struct Explained {
    /// The statement as sent, with `$n` placeholders.
    pub sql: String,
    /// The values bound to the placeholders, as diesel shows them.
    pub binds: String,
    /// `EXPLAIN` output, one line a row.
    pub plan: Vec<String>,
}

/// The page query [`super::list_users`] would run for `q`, and its plan.
///
/// # Errors
///
/// As [`super::list_users`].
pub fn explain_users(
    conn: &mut PgConnection,
    org: Uuid,
    reg: &Registry,
    q: &ListQuery,
    now: DateTime<Utc>,
) -> Result<Explained, StoreError> {
    let prepared = prepare(reg, crate::scim::resource::Kind::User, org, None, q, now)?;
    let total = total_expr!(scim_users, &prepared);
    let Prepared {
        predicate, plan, ..
    } = prepared;
    let offset = plan.offset();
    let query = page_query!(
        scim_users,
        UserRow,
        org,
        predicate,
        plan,
        total,
        None,
        Frag::<diesel::sql_types::Bool>::truth(false).shared()
    );
    // As `read_page!` runs it: an OFFSET only past the first row.
    if offset > 0 {
        explained(conn, query.offset(offset))
    } else {
        explained(conn, query)
    }
}

fn explained<Q: QueryFragment<Pg> + QueryId>(
    conn: &mut PgConnection,
    query: Q,
) -> Result<Explained, StoreError> {
    let shown = debug_query::<Pg, _>(&query).to_string();
    let (sql, binds) = shown
        .split_once(" -- binds: ")
        .map(|(s, b)| (s.to_string(), b.to_string()))
        .unwrap_or((shown.clone(), String::new()));
    let plan = Explain(query).load::<String>(conn)?;
    Ok(Explained { sql, binds, plan })
}
