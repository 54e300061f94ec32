//! The attribute vocabulary filters are checked and evaluated with, answered
//! by the schema registry. The SQL compiler (`store::query`), PATCH value
//! filters and in-memory evaluation all take their [`AttrKind`]s from here,
//! so the engines cannot disagree on what an attribute is.

use super::{matches, AttrKind, Filter};
use serde_json::Value;

use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, Registry, ResourceTypeDef, SCHEMAS_ATTR};

/// `schemas` is a common attribute kept outside the registry's definitions;
/// clients still filter on it (`schemas eq "urn:…:enterprise:2.0:User"`).
pub const SCHEMAS_KIND: AttrKind = AttrKind {
    ty: AttrType::Reference,
    case_exact: false,
    multi_valued: true,
};

/// Whether `path` is the top-level `schemas` attribute.
pub fn is_schemas(path: &AttrPath) -> bool {
    path.attr_is(SCHEMAS_ATTR) && path.urn.is_none() && path.sub.is_none()
}

/// The kind of `path` in resource type `rt`; None for an unknown attribute.
pub fn kind_of(reg: &Registry, rt: &ResourceTypeDef, path: &AttrPath) -> Option<AttrKind> {
    if is_schemas(path) {
        return Some(SCHEMAS_KIND);
    }
    let resolved = reg.resolve(rt, path)?;
    let leaf = resolved.leaf();
    // `id` is caseExact (RFC 7643 §3.1), but this server's ids are UUIDs,
    // whose hex digits are case-insensitive on input (RFC 9562 §4): an id
    // written in upper case names the same resource in a filter as in a URL.
    let is_id = resolved.sub.is_none() && resolved.attr.name == "id" && !resolved.is_extension;
    Some(AttrKind {
        ty: leaf.attr_type,
        case_exact: leaf.case_exact && !is_id,
        multi_valued: leaf.multi_valued,
    })
}

/// [`kind_of`] as the callback `check` and `matches` take.
pub fn lookup<'a>(
    reg: &'a Registry,
    rt: &'a ResourceTypeDef,
) -> impl Fn(&AttrPath) -> Option<AttrKind> + 'a {
    move |path| kind_of(reg, rt, path)
}

/// `filter` with every attribute path qualified by the URN of the schema
/// that defines it, as the registry resolves it. An unqualified extension
/// attribute (`department`) lives under its schema's key in a document, not
/// at the top level; evaluation needs the URN to look there. Paths inside
/// `attr[…]` stay relative to their attribute; unknown paths are kept.
pub fn qualify(reg: &Registry, rt: &ResourceTypeDef, filter: &Filter) -> Filter {
    let path = |p: &AttrPath| match (&p.urn, reg.resolve(rt, p)) {
        (None, Some(r)) => AttrPath {
            urn: Some(r.schema.to_string()),
            ..p.clone()
        },
        _ => p.clone(),
    };
    match filter {
        Filter::Present(p) => Filter::Present(path(p)),
        Filter::Compare(p, op, v) => Filter::Compare(path(p), *op, v.clone()),
        Filter::And(l, r) => {
            Filter::And(Box::new(qualify(reg, rt, l)), Box::new(qualify(reg, rt, r)))
        }
        Filter::Or(l, r) => {
            Filter::Or(Box::new(qualify(reg, rt, l)), Box::new(qualify(reg, rt, r)))
        }
        Filter::Not(inner) => Filter::Not(Box::new(qualify(reg, rt, inner))),
        Filter::ValuePath(p, inner) => Filter::ValuePath(path(p), inner.clone()),
    }
}

/// Whether the resource `doc` (its JSON representation) of type `rt`
/// satisfies `filter`, with the same semantics as the SQL the store compiles
/// the filter to.
pub fn matches_resource(
    reg: &Registry,
    rt: &ResourceTypeDef,
    filter: &Filter,
    doc: &Value,
) -> bool {
    matches(&qualify(reg, rt, filter), doc, &lookup(reg, rt))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::profile::Profile;
    use crate::scim::schema::ENTERPRISE_USER_SCHEMA;

    fn user_matches(text: &str, doc: &Value) -> bool {
        let reg = Registry::new();
        let rt = reg.resource_type("User").unwrap();
        matches_resource(
            &reg,
            rt,
            &Filter::parse(text, Profile::Lenient).unwrap(),
            doc,
        )
    }

    #[test]
    fn unqualified_extension_attributes_are_read_under_their_urn() {
        let doc = json!({"id": "2819c223-7f76-453a-919d-413861904646", "userName": "b",
            ENTERPRISE_USER_SCHEMA: {"department": "Tour Operations"}});
        assert!(user_matches("department sw \"tour\"", &doc));
        assert!(!user_matches("department ne \"Tour Operations\"", &doc));
        assert!(user_matches("userName eq \"B\"", &doc));
        assert!(user_matches(
            "id eq \"2819C223-7F76-453A-919D-413861904646\"",
            &doc
        ));
    }
}
