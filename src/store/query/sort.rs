//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3) → `ORDER BY`, and the keyset
//! conditions cursor paging walks with.
//!
//! - Any singular attribute can be sorted on: a typed column when there is
//!   one, else the document value. Strings sort case-folded unless
//!   caseExact; dateTimes as instants, numbers numerically.
//! - A multi-valued attribute sorts by its `primary` value, else its first
//!   (§3.4.2.3); `emails` means `emails.value`.
//! - A complex attribute (without a sub-attribute), `members` and unknown
//!   attributes are 400 `invalidValue`: RFC 7644 names no error for a bad
//!   `sortBy`, and this is a value the schema cannot accept there.
//! - Resources without a value sort last in either order; ties are broken by
//!   id, which makes the order total and lets a keyset resume exactly.
//! - With no `sortBy`, resources come in id order (UUIDv7: creation order).

use diesel::sql_types::{Jsonb, Text};

use super::compare::{instant, RFC3339_SHAPE};
use super::sql::{Bind, Frag};
use super::target::{Ctx, DocAttr, Target};
use crate::scim::cursor::Cursor;
use crate::scim::error::{ScimError, ScimResult, ScimType};
use crate::scim::filter::AttrKind;
use crate::scim::list::SortOrder;
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, Mutability, Returned};

/// The SQL type a sort key compares as; keys travel in cursors as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Text,
    Time,
    Bool,
    Num,
}

#[derive(Debug, Clone)]
struct SortKey {
    expr: Frag<Text>,
    kind: KeyKind,
    nullable: bool,
}

/// A resolved sort: the key (None for id order), the direction, and the id
/// column that breaks ties.
#[derive(Debug, Clone)]
pub struct Sort {
    key: Option<SortKey>,
    descending: bool,
    id: &'static str,
    /// Order by the id's text rather than the id column itself (the same
    /// order), so the planner cannot walk the primary key; see
    /// [`Sort::fence_id_order`].
    fenced: bool,
    /// The sort in canonical form, for cursor fingerprints.
    pub canonical: String,
}

fn refuse(path: &AttrPath, why: &str) -> ScimError {
    ScimError::invalid_value(format!("cannot sort by '{path}': {why}"))
}

fn column(col: &'static str, kind: KeyKind, nullable: bool) -> Option<SortKey> {
    Some(SortKey {
        expr: Frag::sql(col),
        kind,
        nullable,
    })
}

impl Sort {
    pub fn plan(ctx: &Ctx<'_>, sort_by: Option<&AttrPath>, order: SortOrder) -> ScimResult<Sort> {
        let descending = order == SortOrder::Descending;
        let id = ctx.table.id;
        let Some(path) = sort_by else {
            return Ok(Sort {
                key: None,
                descending,
                id,
                fenced: false,
                canonical: order.as_str().to_string(),
            });
        };
        let path = ctx.comparison_path(path);
        let target = ctx
            .target(&path)
            .ok_or_else(|| refuse(&path, "no such attribute"))?;
        // A never-returned attribute sorts as absent, as it filters: the
        // order must not tell a client how its values compare.
        let unreadable = ctx.reg.resolve(ctx.rt, &path).is_some_and(|r| {
            let a = r.sub.unwrap_or(r.attr);
            a.returned == Returned::Never || a.mutability == Mutability::WriteOnly
        });
        let key = match target {
            _ if unreadable => None,
            Target::Id | Target::ResourceType => None,
            Target::Text {
                col,
                folded: _,
                nullable,
            } => column(col, KeyKind::Text, nullable),
            Target::Bool { col } => column(col, KeyKind::Bool, true),
            Target::Time { col } => column(col, KeyKind::Time, false),
            Target::Emails => {
                let d = ctx
                    .doc_attr(&path)
                    .ok_or_else(|| refuse(&path, "no such attribute"))?;
                Some(doc_key(ctx, &d))
            }
            Target::Doc(d) if d.leaf.ty != AttrType::Complex => Some(doc_key(ctx, &d)),
            Target::Doc(_) | Target::AlwaysPresent => {
                return Err(refuse(
                    &path,
                    "it is complex; name one of its sub-attributes",
                ))
            }
            Target::Members(_) | Target::Unsupported => {
                return Err(refuse(&path, "sorting on it is not supported"))
            }
        };
        Ok(Sort {
            key,
            descending,
            id,
            fenced: false,
            canonical: format!(
                "{}|{}",
                path.to_string().to_ascii_lowercase(),
                order.as_str()
            ),
        })
    }

    /// `ORDER BY` for reading forwards (in the requested order) or
    /// backwards (its exact reverse, for `previousCursor`).
    pub fn order_by(&self, backward: bool) -> Frag<Text> {
        let dir = if self.descending != backward {
            " DESC"
        } else {
            " ASC"
        };
        // Rows without a value come last in the requested order, so first
        // when reading it backwards.
        let nulls = if backward {
            " NULLS FIRST, "
        } else {
            " NULLS LAST, "
        };
        let f = match &self.key {
            Some(k) => Frag::sql("").append(&k.expr).push(dir).push(nulls),
            None => Frag::sql(""),
        };
        let f = if self.fenced && self.key.is_none() {
            // A UUID's text sorts like the UUID under byte-wise collation.
            f.push("(").push(self.id).push("::text COLLATE \"C\")")
        } else {
            f.push(self.id)
        };
        // By id alone the text is one of four: a fixed shape.
        f.push(dir).shared_if(self.key.is_none())
    }

    /// For a filter that an index answers with few rows but whose selectivity
    /// PostgreSQL cannot estimate (`emails_ci @> …`: unique values leave no
    /// element statistics), ordering by the bare id lets it choose to walk
    /// the whole primary key filtering row by row (about 1 s at a million
    /// users, see BENCHMARKS.md). Ordering by an expression of the id gives
    /// the same order but forces it to find the rows first.
    pub fn fence_id_order(&mut self) {
        self.fenced = true;
    }

    /// The key of each row, selected as text so it can go into a cursor.
    pub fn key_text(&self) -> Frag<diesel::sql_types::Nullable<Text>> {
        let Some(k) = &self.key else {
            return Frag::sql("NULL::text").shared();
        };
        match k.kind {
            KeyKind::Text => Frag::sql("").append(&k.expr),
            KeyKind::Bool | KeyKind::Num => Frag::sql("(").append(&k.expr).push(")::text"),
            KeyKind::Time => Frag::sql("to_char((")
                .append(&k.expr)
                .push(") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"),
        }
    }

    /// Rows strictly after `pos` when reading forwards, strictly before it
    /// when reading backwards, in the requested order.
    pub fn keyset(&self, pos: &Cursor, backward: bool) -> ScimResult<Frag> {
        let op = if self.descending != backward {
            " < "
        } else {
            " > "
        };
        let id_after = Frag::sql("(")
            .push(self.id)
            .push(op)
            .bind(Bind::Uuid(pos.id))
            .push(")");
        let Some(k) = &self.key else {
            return Ok(id_after.shared());
        };
        let key = &k.expr;
        let Some(text) = &pos.key else {
            // The position has no value: it sits among the NULLs, at the end.
            return Ok(if backward {
                Frag::sql("(").append(key).push(" IS NOT NULL OR ")
            } else {
                Frag::sql("(").append(key).push(" IS NULL AND ")
            }
            .append(&id_after)
            .push(")"));
        };
        let value = key_value(k.kind, text)?;
        let beyond = Frag::sql("(")
            .append(key)
            .push(op)
            .append(&value)
            .push(" OR (")
            .append(key)
            .push(" = ")
            .append(&value)
            .push(" AND ")
            .append(&id_after)
            .push("))");
        Ok(if k.nullable && !backward {
            Frag::sql("(")
                .append(key)
                .push(" IS NULL OR ")
                .append(&beyond)
                .push(")")
        } else {
            beyond
        })
    }
}

/// A cursor's key text as a bound value of the key's type. Cursors come
/// from clients: anything malformed is `invalidCursor`, never a cast error.
fn key_value(kind: KeyKind, text: &str) -> ScimResult<Frag> {
    let bad = || ScimError::bad_request(ScimType::InvalidCursor, "the cursor is malformed");
    Ok(match kind {
        KeyKind::Text => Frag::sql("").text(text),
        KeyKind::Bool => match text {
            "true" => Frag::sql("").bind(Bind::Bool(true)),
            "false" => Frag::sql("").bind(Bind::Bool(false)),
            _ => return Err(bad()),
        },
        KeyKind::Time => Frag::sql("").bind(Bind::Time(instant(text).ok_or_else(bad)?)),
        KeyKind::Num => {
            let numeric = !text.is_empty()
                && text.len() <= 64
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                && text.parse::<f64>().is_ok();
            if !numeric {
                return Err(bad());
            }
            Frag::sql("CAST(").text(text).push(" AS numeric)")
        }
    })
}

/// A document attribute as a sort key; for a multi-valued one, the
/// `primary` element's value, else the first element's.
fn doc_key(ctx: &Ctx<'_>, d: &DocAttr<'_>) -> SortKey {
    let value = if d.multi {
        d.in_element()
    } else {
        d.single(ctx.table)
    };
    let (expr, kind) = typed(&value, d.leaf);
    let expr = if d.multi {
        Frag::sql("(SELECT ")
            .append(&expr)
            .push(" FROM jsonb_path_query(")
            .append(&d.top(ctx.table))
            .push(", 'lax $[*]') WITH ORDINALITY AS e(v, n) ORDER BY COALESCE(e.v -> ")
            .text("primary")
            .push(" = 'true'::jsonb, FALSE) DESC, e.n LIMIT 1)")
    } else {
        expr
    };
    SortKey {
        expr,
        kind,
        nullable: true,
    }
}

/// A JSON value as a typed, orderable SQL value (NULL for another JSON type).
fn typed(v: &Frag<Jsonb>, leaf: AttrKind) -> (Frag<Text>, KeyKind) {
    let when = |json_type: &'static str| {
        Frag::sql("(CASE WHEN jsonb_typeof(")
            .append(v)
            .push(json_type)
    };
    let text = || Frag::<Text>::sql("(").append(v).push(" #>> '{}')");
    match leaf.ty {
        AttrType::Boolean => (
            when(") = 'boolean' THEN (")
                .append(v)
                .push(")::boolean END)"),
            KeyKind::Bool,
        ),
        AttrType::Integer | AttrType::Decimal => (
            when(") = 'number' THEN (")
                .append(v)
                .push(")::numeric END)"),
            KeyKind::Num,
        ),
        AttrType::DateTime => (
            when(") = 'string' AND ")
                .append(&text())
                .push(" ~ ")
                .push(RFC3339_SHAPE)
                .push(" AND ")
                .append(&text())
                .push(" NOT LIKE '0000%' THEN CAST(")
                .append(&text())
                .push(" AS timestamptz) END)"),
            KeyKind::Time,
        ),
        _ if leaf.case_exact => (
            when(") = 'string' THEN ").append(&text()).push(" END)"),
            KeyKind::Text,
        ),
        _ => (
            when(") = 'string' THEN scim_fold(")
                .append(&text())
                .push(") END)"),
            KeyKind::Text,
        ),
    }
}
