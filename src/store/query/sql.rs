//! A SQL fragment that can only hold text written in this crate and bound
//! parameters: the building block the filter and sort translators assemble.
//!
//! [`Frag::sql`] takes `&'static str`, so text that came from a client (an
//! attribute name, a filter value) cannot end up in the statement: it has to
//! go through [`Frag::bind`], which diesel sends as a `$n` parameter. JSON
//! keys are bound too (`doc -> $1`), even though they come from the schema
//! registry.
//!
//! A `Frag` is a diesel expression of SQL type `ST`, so it composes with the
//! DSL (`.filter(frag)`, `.order_by(frag)`, `.select((row, frag))`).

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression};
use diesel::expression::{TypedExpressionType, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    TextArray(Vec<String>),
    Uuid(Uuid),
    UuidArray(Vec<Uuid>),
    OptText(Option<String>),
    OptUuid(Option<Uuid>),
    OptBool(Option<bool>),
    OptInt8(Option<i64>),
    Json(serde_json::Value),
    OptJson(Option<serde_json::Value>),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Sql(&'static str),
    Bind(Bind),
}

/// SQL text and parameters, typed as `ST` for diesel.
///
/// A statement with a fragment in it is prepared afresh each time (diesel
/// sends it unnamed) unless every fragment is [`Frag::shared`]: its text is
/// one of a bounded set of shapes, so PostgreSQL may keep it as a named
/// prepared statement on the connection. Filters come in unboundedly many
/// shapes, and each cached one holds memory on both sides for the life of
/// the connection, so sharing is decided by the caller who knows the shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Frag<ST = Bool> {
    pieces: Vec<Piece>,
    shared: bool,
    _type: PhantomData<ST>,
}

impl<ST> Frag<ST> {
    pub fn sql(text: &'static str) -> Self {
        Frag {
            pieces: vec![Piece::Sql(text)],
            shared: false,
            _type: PhantomData,
        }
    }

    /// Marks the fragment as one of a bounded set of shapes, so a statement
    /// made only of shared fragments is kept prepared (see [`Frag`]).
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// [`Frag::shared`] when `yes`.
    pub fn shared_if(self, yes: bool) -> Self {
        if yes {
            self.shared()
        } else {
            self
        }
    }

    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Appends crate-written SQL text.
    pub fn push(mut self, text: &'static str) -> Self {
        self.pieces.push(Piece::Sql(text));
        self
    }

    /// Appends a `$n` parameter.
    pub fn bind(mut self, value: Bind) -> Self {
        self.pieces.push(Piece::Bind(value));
        self
    }

    pub fn text(self, value: impl Into<String>) -> Self {
        self.bind(Bind::Text(value.into()))
    }

    /// Appends another fragment, whatever its SQL type.
    pub fn append<T>(mut self, other: &Frag<T>) -> Self {
        self.pieces.extend(other.pieces.iter().cloned());
        self.shared &= other.shared;
        self
    }

    /// How many parameters the fragment binds (tests use it).
    pub fn bind_count(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Bind(_)))
            .count()
    }
}

impl Frag<Bool> {
    pub fn truth(value: bool) -> Self {
        Frag::sql(if value { "TRUE" } else { "FALSE" })
    }

    /// `(a AND b)`
    pub fn and(self, other: &Frag<Bool>) -> Self {
        Frag::sql("(")
            .append(&self)
            .push(" AND ")
            .append(other)
            .push(")")
    }

    /// `(a OR b)`
    pub fn or(self, other: &Frag<Bool>) -> Self {
        Frag::sql("(")
            .append(&self)
            .push(" OR ")
            .append(other)
            .push(")")
    }
}

/// `(NOT a)`; every predicate the translator builds is two-valued (never
/// NULL), so this is the logical negation `not` and `ne` need.
impl std::ops::Not for Frag<Bool> {
    type Output = Frag<Bool>;

    fn not(self) -> Frag<Bool> {
        Frag::sql("(NOT ").append(&self).push(")")
    }
}

impl<ST: TypedExpressionType> Expression for Frag<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Frag<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The text varies with every filter's shape; caching each variant as
        // a prepared statement would grow the cache without bound.
        if !self.shared {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Bind(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Piece::Bind(Bind::TextArray(v)) => out.push_bind_param::<Array<Text>, _>(v)?,
                Piece::Bind(Bind::Uuid(v)) => out.push_bind_param::<SqlUuid, _>(v)?,
                Piece::Bind(Bind::UuidArray(v)) => out.push_bind_param::<Array<SqlUuid>, _>(v)?,
                Piece::Bind(Bind::OptText(v)) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Piece::Bind(Bind::OptUuid(v)) => out.push_bind_param::<Nullable<SqlUuid>, _>(v)?,
                Piece::Bind(Bind::OptBool(v)) => out.push_bind_param::<Nullable<Bool>, _>(v)?,
                Piece::Bind(Bind::OptInt8(v)) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Piece::Bind(Bind::Json(v)) => out.push_bind_param::<Jsonb, _>(v)?,
                Piece::Bind(Bind::OptJson(v)) => out.push_bind_param::<Nullable<Jsonb>, _>(v)?,
                Piece::Bind(Bind::Int(v)) => out.push_bind_param::<BigInt, _>(v)?,
                Piece::Bind(Bind::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                Piece::Bind(Bind::Time(v)) => out.push_bind_param::<Timestamptz, _>(v)?,
            }
        }
        Ok(())
    }
}

impl<ST> QueryId for Frag<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> AppearsOnTable<QS> for Frag<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for Frag<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Frag<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// Escapes `%`, `_` and `\` so `text` matches itself literally in a `LIKE`
/// pattern whose escape character is `\`.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;

    #[test]
    fn client_text_is_bound_never_inlined() {
        let f = Frag::<Bool>::sql("doc -> ")
            .text("x'; DROP TABLE scim_users; --")
            .push(" IS NOT NULL");
        let shown = debug_query::<Pg, _>(&f).to_string();
        assert!(shown.starts_with("doc -> $1 IS NOT NULL"), "{shown}");
        assert_eq!(f.bind_count(), 1);
    }

    #[test]
    fn combinators_parenthesise() {
        let a = Frag::truth(true);
        let b = Frag::truth(false);
        let shown = debug_query::<Pg, _>(&!a.clone().and(&b).or(&a)).to_string();
        assert!(
            shown.starts_with("(NOT ((TRUE AND FALSE) OR TRUE))"),
            "{shown}"
        );
    }

    #[test]
    fn like_escape_escapes_wildcards_and_backslash() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(like_escape("plain"), "plain");
    }
}

/// A whole statement built from [`Frag`]s, run like `diesel::sql_query`
/// (rows read by name, with `QueryableByName`), except that it stays
/// prepared on the connection when its fragments are shared: for the fixed
/// statements diesel's DSL cannot express (a recursive walk), on hot paths.
#[derive(Debug, Clone)]
pub struct Statement(pub Frag<diesel::sql_types::Untyped>);

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> diesel::RunQueryDsl<Conn> for Statement {}
