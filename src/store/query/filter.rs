//! Filter (RFC 7644 §3.4.2.2) → SQL `WHERE` predicate.
//!
//! Indexed attributes (see `target`) compare typed columns, so equality on
//! `userName`, `externalId` or `emails.value` is an index lookup. Everything
//! else is read from the JSONB document with the semantics of
//! `scim::filter::matches`:
//! - a multi-valued attribute matches if any value does:
//!   `EXISTS (SELECT 1 FROM jsonb_path_query(doc -> $k, 'lax $[*]') ...)`;
//!   the lax path also treats a single value as a one-element list;
//! - a value path (`emails[type eq "work" and value co "x"]`) tests both
//!   conditions on the same element;
//! - `ne` and `not` are negations, so they are true for a missing attribute.
//!
//! The filter must have passed `filter::check` with [`Ctx::kind`] first;
//! paths that still do not resolve are reported, never guessed at.

use std::ops::Not;

use diesel::sql_types::Text;

use super::compare::{
    constant, json_is_null, json_pred, json_present, parse_id, text_pred, time_pred, Case,
};
use super::sql::{Bind, Frag};
use super::target::{Ctx, DocAttr, MemberField, Target};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::path::AttrPath;
use crate::scim::schema::types::Column;
use crate::scim::schema::{fold, AttrType};

/// Elements of a (possibly multi-valued) document attribute, as rows `e(v)`.
const ELEMENTS_OPEN: &str = "EXISTS (SELECT 1 FROM jsonb_path_query(";
const ELEMENTS_CLOSE: &str = ", 'lax $[*]') AS e(v) WHERE ";
/// Membership rows of the group being filtered.
const MEMBERS_OPEN: &str =
    "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = scim_groups.id";

/// Translates `filter` for `ctx`'s table.
pub fn compile(ctx: &Ctx<'_>, filter: &Filter) -> ScimResult<Frag> {
    Ok(match filter {
        Filter::And(l, r) => compile(ctx, l)?.and(&compile(ctx, r)?),
        Filter::Or(l, r) => compile(ctx, l)?.or(&compile(ctx, r)?),
        Filter::Not(inner) => compile(ctx, inner)?.not(),
        Filter::Present(path) => scoped(ctx, path, present(ctx, path)?),
        Filter::Compare(path, CompareOp::Ne, value) => {
            scoped(ctx, path, compare(ctx, path, CompareOp::Eq, value)?).not()
        }
        Filter::Compare(path, op, value) => scoped(ctx, path, compare(ctx, path, *op, value)?),
        Filter::ValuePath(path, inner) => value_path(ctx, path, inner)?,
    })
}

/// `pred` on `externalId`, for a connector: true only of the rows whose
/// `externalId` that connector set, the only ones it is shown (so `ne` and
/// `not` are true of the others, whose value it does not see).
fn scoped(ctx: &Ctx<'_>, path: &AttrPath, pred: Frag) -> Frag {
    let Some(connector) = ctx.scope else {
        return pred;
    };
    let is_external_id = ctx
        .reg
        .resolve(ctx.rt, path)
        .is_some_and(|r| r.sub.is_none() && r.attr.column == Some(Column::ExternalId));
    if !is_external_id {
        return pred;
    }
    pred.and(
        &Frag::sql("(")
            .push(ctx.table.external_id_connector)
            .push(" = ")
            .bind(Bind::Uuid(connector))
            .push(")"),
    )
}

fn unknown(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("unknown attribute '{path}' in filter"))
}

fn unsupported(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("filtering on '{path}' is not supported"))
}

fn target<'r>(ctx: &Ctx<'r>, path: &AttrPath) -> ScimResult<Target<'r>> {
    ctx.target(path).ok_or_else(|| unknown(path))
}

fn doc_attr<'r>(ctx: &Ctx<'r>, path: &AttrPath) -> ScimResult<DocAttr<'r>> {
    ctx.doc_attr(path).ok_or_else(|| unknown(path))
}

/// `EXISTS` an element of `d` for which `test(element value)` holds.
fn any_element(ctx: &Ctx<'_>, d: &DocAttr<'_>, test: Frag) -> Frag {
    Frag::sql(ELEMENTS_OPEN)
        .append(&d.top(ctx.table))
        .push(ELEMENTS_CLOSE)
        .append(&test)
        .push(")")
}

fn present(ctx: &Ctx<'_>, path: &AttrPath) -> ScimResult<Frag> {
    Ok(match target(ctx, path)? {
        Target::Id | Target::Time { .. } | Target::ResourceType | Target::AlwaysPresent => {
            Frag::truth(true)
        }
        Target::Members(_) => Frag::sql(MEMBERS_OPEN).push(")"),
        Target::Unsupported => return Err(unsupported(path)),
        Target::Text { .. } | Target::Bool { .. } | Target::Emails | Target::Doc(_) => {
            doc_present(ctx, &doc_attr(ctx, path)?)
        }
    })
}

fn doc_present(ctx: &Ctx<'_>, d: &DocAttr<'_>) -> Frag {
    if d.multi {
        any_element(ctx, d, json_present(&d.in_element()))
    } else {
        json_present(&d.single(ctx.table))
    }
}

fn compare(ctx: &Ctx<'_>, path: &AttrPath, op: CompareOp, value: &CompValue) -> ScimResult<Frag> {
    let path = ctx.comparison_path(path);
    let table = ctx.table;
    Ok(match target(ctx, &path)? {
        Target::Id => match value {
            CompValue::Str(s) if op == CompareOp::Eq => match parse_id(s) {
                Some(id) => Frag::sql("(")
                    .push(table.id)
                    .push(" = ")
                    .bind(Bind::Uuid(id))
                    .push(")"),
                None => Frag::truth(false),
            },
            CompValue::Str(s) => text_pred(&Frag::sql(table.id_text), Case::Exact, op, s),
            _ => Frag::truth(false),
        },
        Target::Text {
            col,
            folded,
            nullable,
        } => match value {
            CompValue::Null => null_column(col, nullable),
            CompValue::Str(s) => {
                let case = if folded { Case::Folded } else { Case::Exact };
                guard_null(col, nullable, text_pred(&Frag::sql(col), case, op, s))
            }
            _ => Frag::truth(false),
        },
        Target::Bool { col } => match value {
            CompValue::Null => null_column(col, true),
            CompValue::Bool(b) if op == CompareOp::Eq => guard_null(
                col,
                true,
                Frag::sql("(")
                    .push(col)
                    .push(" = ")
                    .bind(Bind::Bool(*b))
                    .push(")"),
            ),
            _ => Frag::truth(false),
        },
        Target::Time { col } => time_pred(col, op, value),
        Target::Emails => match value {
            CompValue::Str(s) if op == CompareOp::Eq => Frag::sql("(scim_users.emails_ci @> ")
                .bind(Bind::TextArray(vec![fold(s)]))
                .push(")"),
            CompValue::Str(s) => {
                Frag::sql("EXISTS (SELECT 1 FROM unnest(scim_users.emails_ci) AS e(v) WHERE ")
                    .append(&text_pred(&Frag::sql("e.v"), Case::Folded, op, s))
                    .push(")")
            }
            _ => doc_compare(ctx, &doc_attr(ctx, &path)?, op, value),
        },
        Target::ResourceType => Frag::truth(constant(ctx.rt.name, op, value)),
        Target::AlwaysPresent | Target::Members(None) => Frag::truth(false),
        Target::Members(Some(field)) => match value {
            CompValue::Null => Frag::sql("(NOT ").push(MEMBERS_OPEN).push("))"),
            _ => Frag::sql(MEMBERS_OPEN)
                .push(" AND ")
                .append(&member_pred(field, op, value))
                .push(")"),
        },
        Target::Doc(d) => {
            indexed_compare(ctx, &d, op, value).unwrap_or_else(|| doc_compare(ctx, &d, op, value))
        }
        Target::Unsupported => return Err(unsupported(&path)),
    })
}

/// `eq null` on a column: no value.
fn null_column(col: &'static str, nullable: bool) -> Frag {
    if nullable {
        Frag::sql("(").push(col).push(" IS NULL)")
    } else {
        Frag::truth(false)
    }
}

/// Keeps a comparison on a nullable column two-valued while leaving it in a
/// form (`col IS NOT NULL AND col = $1`) an index can serve.
fn guard_null(col: &'static str, nullable: bool, test: Frag) -> Frag {
    if nullable {
        Frag::sql("(")
            .push(col)
            .push(" IS NOT NULL AND ")
            .append(&test)
            .push(")")
    } else {
        test
    }
}

/// `eq` on a declared attribute whose values are kept one per row
/// (`define::indexed_paths`), and `co`/`sw`/`ew` on a declared string: a
/// lookup in `scim_attr_values` (its btree, or its trigram index for the
/// patterns), not a scan of the organization's documents. Any of a
/// multi-valued attribute's values may match, as on the document. The value
/// is folded as the document path folds it (`text_pred`, `Case::Lower`),
/// the stored rows as the trigger folds them, so both paths agree. `None`
/// when the rows cannot answer (another operator, a decimal, `null`).
fn indexed_compare(
    ctx: &Ctx<'_>,
    d: &DocAttr<'_>,
    op: CompareOp,
    value: &CompValue,
) -> Option<Frag> {
    use super::sql::like_escape;
    use crate::scim::schema::define::{indexable, IndexedPath};
    // A declared type's core attributes sit at the top of its documents
    // (no `ext`); their rows are under its core schema's URN and its
    // folded name, as `store::custom::set_indexed` writes them.
    let custom = ctx.table.id == super::target::RESOURCES.id;
    let urn = match d.ext {
        Some(urn) => urn,
        None if custom => ctx.rt.schema,
        None => return None,
    };
    // Only what the schema itself declares has rows (not a common attribute).
    ctx.reg.schema(urn)?.attribute(d.attr)?;
    if !ctx.reg.is_declared(urn) || !indexable(d.leaf.ty) {
        return None;
    }
    let rt_key = if custom {
        ctx.rt.name.to_ascii_lowercase()
    } else {
        ctx.rt.name.to_string()
    };
    let folded = |s: &str| {
        if d.leaf.case_exact {
            s.to_string()
        } else {
            fold(s)
        }
    };
    let bound = |text: String| {
        let b = Frag::<Text>::sql("").bind(Bind::Text(text));
        if d.leaf.case_exact {
            b
        } else {
            Frag::sql("scim_fold(").append(&b).push(")")
        }
    };
    let test: Frag<Text> = match (op, value) {
        (CompareOp::Eq, CompValue::Str(s)) => Frag::sql(" = ").append(&bound(folded(s))),
        (CompareOp::Eq, CompValue::Bool(b)) => Frag::sql(" = ").bind(Bind::Text(b.to_string())),
        (CompareOp::Eq, CompValue::Number(n)) if n.is_i64() || n.is_u64() => {
            Frag::sql(" = ").bind(Bind::Text(n.to_string()))
        }
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, CompValue::Str(s))
            if matches!(d.leaf.ty, AttrType::String | AttrType::Reference) =>
        {
            let escaped = like_escape(&folded(s));
            let pattern = match op {
                CompareOp::Co => format!("%{escaped}%"),
                CompareOp::Sw => format!("{escaped}%"),
                _ => format!("%{escaped}"),
            };
            Frag::sql(" LIKE ")
                .append(&bound(pattern))
                .push(" ESCAPE '\\'")
        }
        _ => return None,
    };
    Some(
        Frag::sql("(")
            .push(ctx.table.id)
            .push(" IN (SELECT v.resource_id FROM scim_attr_values v WHERE v.org_id = ")
            .bind(Bind::Uuid(ctx.org))
            .push(" AND v.resource_type = ")
            .bind(Bind::Text(rt_key))
            .push(" AND v.path = ")
            .bind(Bind::Text(IndexedPath::key(urn, d.attr, d.sub)))
            .push(" AND v.value")
            .append(&test)
            .push("))"),
    )
}

fn doc_compare(ctx: &Ctx<'_>, d: &DocAttr<'_>, op: CompareOp, value: &CompValue) -> Frag {
    match (d.multi, value) {
        (false, CompValue::Null) => json_is_null(&d.single(ctx.table)),
        (false, _) => json_pred(&d.single(ctx.table), d.leaf, op, value),
        // `eq null` on a multi-valued attribute: no element has a value.
        (true, CompValue::Null) => any_element(ctx, d, json_is_null(&d.in_element()).not()).not(),
        (true, _) => any_element(ctx, d, json_pred(&d.in_element(), d.leaf, op, value)),
    }
}

/// One membership row `m` against a `members.value` / `members.type` test.
fn member_pred(field: MemberField, op: CompareOp, value: &CompValue) -> Frag {
    let CompValue::Str(s) = value else {
        return Frag::truth(false);
    };
    match field {
        MemberField::Value if op == CompareOp::Eq => match parse_id(s) {
            // The primary key (group_id, member_id) serves this directly.
            Some(id) => Frag::sql("(m.member_id = ").bind(Bind::Uuid(id)).push(")"),
            None => Frag::truth(false),
        },
        // A uuid's text is lower-case: already in folded form.
        MemberField::Value => text_pred(&Frag::sql("m.member_id::text"), Case::Folded, op, s),
        MemberField::Type => text_pred(&Frag::<Text>::sql("m.member_type"), Case::Lower, op, s),
    }
}

/// `attr[inner]`: `inner` holds for one and the same element of `attr`.
fn value_path(ctx: &Ctx<'_>, path: &AttrPath, inner: &Filter) -> ScimResult<Frag> {
    match target(ctx, path)? {
        Target::Doc(d) => {
            let test = in_element(ctx, path, inner, &|ctx, sub| {
                Ok(ElemSource::Json(doc_attr(ctx, sub)?))
            })?;
            Ok(any_element(ctx, &d, test))
        }
        Target::Members(None) => {
            let test = in_element(ctx, path, inner, &|ctx, sub| match target(ctx, sub)? {
                Target::Members(Some(field)) => Ok(ElemSource::Member(field)),
                _ => Err(unsupported(sub)),
            })?;
            Ok(Frag::sql(MEMBERS_OPEN)
                .push(" AND ")
                .append(&test)
                .push(")"))
        }
        _ => Err(unsupported(path)),
    }
}

/// Where a sub-attribute of the current element is read from.
enum ElemSource<'r> {
    Json(DocAttr<'r>),
    Member(MemberField),
}

type SourceOf<'a, 'r> = dyn Fn(&Ctx<'r>, &AttrPath) -> ScimResult<ElemSource<'r>> + 'a;

fn in_element<'r>(
    ctx: &Ctx<'r>,
    outer: &AttrPath,
    filter: &Filter,
    source: &SourceOf<'_, 'r>,
) -> ScimResult<Frag> {
    let recurse = |f: &Filter| in_element(ctx, outer, f, source);
    let qualified = |p: &AttrPath| AttrPath {
        urn: outer.urn.clone(),
        attr: outer.attr.clone(),
        sub: Some(p.attr.clone()),
    };
    Ok(match filter {
        Filter::And(l, r) => recurse(l)?.and(&recurse(r)?),
        Filter::Or(l, r) => recurse(l)?.or(&recurse(r)?),
        Filter::Not(inner) => recurse(inner)?.not(),
        Filter::ValuePath(p, _) => {
            return Err(ScimError::invalid_filter(format!(
                "value filter on '{p}' cannot be nested in another value filter"
            )))
        }
        Filter::Present(p) => match source(ctx, &qualified(p))? {
            ElemSource::Json(d) => json_present(&d.in_element()),
            ElemSource::Member(_) => Frag::truth(true),
        },
        Filter::Compare(p, op, value) => {
            let (op, negate) = match op {
                CompareOp::Ne => (CompareOp::Eq, true),
                op => (*op, false),
            };
            let test = match (source(ctx, &qualified(p))?, value) {
                (ElemSource::Json(d), CompValue::Null) => json_is_null(&d.in_element()),
                (ElemSource::Json(d), _) => json_pred(&d.in_element(), d.leaf, op, value),
                (ElemSource::Member(_), CompValue::Null) => Frag::truth(false),
                (ElemSource::Member(field), _) => member_pred(field, op, value),
            };
            if negate {
                test.not()
            } else {
                test
            }
        }
    })
}
