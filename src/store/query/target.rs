//! Where an attribute lives in the database: a typed column (indexed, and
//! case-folded by scimd for `caseExact: false` attributes), group membership
//! rows, or the JSONB document under the schema's canonical key names.
//!
//! Every name used to build SQL comes from here, and from the schema
//! registry: client text only picks among them.

use diesel::sql_types::Jsonb;

use super::sql::Frag;
use crate::scim::filter::{self, is_schemas, AttrKind, SCHEMAS_KIND};
use crate::scim::path::AttrPath;
use crate::scim::schema::{
    AttrType, Column, Registry, ResolvedAttr, ResourceTypeDef, SCHEMAS_ATTR,
};

/// The two tables that hold resources, and their column names.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    pub is_users: bool,
    /// Group membership rows answer `members` (the groups table only).
    pub has_members: bool,
    pub id: &'static str,
    pub id_text: &'static str,
    pub doc: &'static str,
    pub created: &'static str,
    pub last_modified: &'static str,
    pub external_id: &'static str,
    /// Whose `externalId` the row holds (issue 17).
    pub external_id_connector: &'static str,
    pub display_name_ci: Option<&'static str>,
    /// The columns only the users table has.
    pub user_name_ci: Option<&'static str>,
    pub active: Option<&'static str>,
    pub emails_ci: Option<&'static str>,
}

pub const USERS: Table = Table {
    is_users: true,
    has_members: false,
    id: "scim_users.id",
    id_text: "scim_users.id::text",
    doc: "scim_users.doc",
    created: "scim_users.created_at",
    last_modified: "scim_users.last_modified",
    external_id: "scim_users.external_id",
    external_id_connector: "scim_users.external_id_connector",
    display_name_ci: Some("scim_users.display_name_ci"),
    user_name_ci: Some("scim_users.user_name_ci"),
    active: Some("scim_users.active"),
    emails_ci: Some("scim_users.emails_ci"),
};

pub const GROUPS: Table = Table {
    is_users: false,
    has_members: true,
    id: "scim_groups.id",
    id_text: "scim_groups.id::text",
    doc: "scim_groups.doc",
    created: "scim_groups.created_at",
    last_modified: "scim_groups.last_modified",
    external_id: "scim_groups.external_id",
    external_id_connector: "scim_groups.external_id_connector",
    display_name_ci: Some("scim_groups.display_name_ci"),
    user_name_ci: None,
    active: None,
    emails_ci: None,
};

/// The resources of declared resource types: every attribute but the
/// common ones is read from the document.
pub const RESOURCES: Table = Table {
    is_users: false,
    has_members: false,
    id: "scim_resources.id",
    id_text: "scim_resources.id::text",
    doc: "scim_resources.doc",
    created: "scim_resources.created_at",
    last_modified: "scim_resources.last_modified",
    external_id: "scim_resources.external_id",
    external_id_connector: "scim_resources.external_id_connector",
    display_name_ci: None,
    user_name_ci: None,
    active: None,
    emails_ci: None,
};

/// A sub-attribute of a group's `members`, answered from membership rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberField {
    Value,
    Type,
}

/// An attribute kept in the JSONB document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocAttr<'r> {
    /// The extension schema URN the attribute is nested under, if any.
    pub ext: Option<&'r str>,
    pub attr: &'r str,
    pub multi: bool,
    pub sub: Option<&'r str>,
    /// The innermost attribute's kind: what values are compared as.
    pub leaf: AttrKind,
}

impl DocAttr<'_> {
    /// `doc -> $attr` (or `doc -> $urn -> $attr`): the top-level value.
    pub fn top(&self, table: &Table) -> Frag<Jsonb> {
        let f = Frag::sql(table.doc);
        let f = match self.ext {
            Some(urn) => f.push(" -> ").text(urn),
            None => f,
        };
        f.push(" -> ").text(self.attr)
    }

    /// The leaf value of a single-valued attribute (`doc -> $a -> $sub`).
    pub fn single(&self, table: &Table) -> Frag<Jsonb> {
        let top = self.top(table);
        match self.sub {
            Some(sub) => Frag::sql("(").append(&top).push(" -> ").text(sub).push(")"),
            None => top,
        }
    }

    /// The leaf value inside one element `e.v` of a multi-valued attribute.
    pub fn in_element(&self) -> Frag<Jsonb> {
        match self.sub {
            Some(sub) => Frag::sql("(e.v -> ").text(sub).push(")"),
            None => Frag::sql("e.v"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'r> {
    Id,
    Text {
        col: &'static str,
        /// The column holds `scim::schema::fold`ed text.
        folded: bool,
        nullable: bool,
    },
    Bool {
        col: &'static str,
    },
    Time {
        col: &'static str,
    },
    /// A user's `emails.value`, folded into the `emails_ci` array.
    Emails,
    /// `meta.resourceType`: the same for every row of a table.
    ResourceType,
    /// `meta` itself, and its sub-attributes that are never absent.
    AlwaysPresent,
    /// A group's `members` (None) or one of its sub-attributes.
    Members(Option<MemberField>),
    Doc(DocAttr<'r>),
    /// Known to the schema, but not something the store can search.
    Unsupported,
}

/// One resource type's view of the schema, for the translators.
pub struct Ctx<'r> {
    pub reg: &'r Registry,
    pub rt: &'r ResourceTypeDef,
    pub table: &'static Table,
    /// The organization searched: declared attributes' values are looked
    /// up in `scim_attr_values` under it.
    pub org: uuid::Uuid,
    /// The connector searching, when a connector's token asks: `externalId`
    /// then means that connector's own values (RFC 7643 §3.1: it is
    /// "issued by the provisioning client"), as it sees them rendered.
    pub scope: Option<uuid::Uuid>,
}

impl<'r> Ctx<'r> {
    /// The schema callback `filter::check` takes.
    pub fn kind(&self, path: &AttrPath) -> Option<AttrKind> {
        filter::kind_of(self.reg, self.rt, path)
    }

    /// RFC 7644 §3.4.2.2: `emails co "x"` compares `emails.value`. Mirrors
    /// `filter::eval`, so the database and in-memory evaluation agree.
    pub fn comparison_path(&self, path: &AttrPath) -> AttrPath {
        if let Some(kind) = self.kind(path) {
            if kind.ty == AttrType::Complex && kind.multi_valued && path.sub.is_none() {
                let value = AttrPath {
                    sub: Some("value".to_string()),
                    ..path.clone()
                };
                if self.kind(&value).is_some() {
                    return value;
                }
            }
        }
        path.clone()
    }

    /// Where `path` is stored; None for an unknown attribute.
    pub fn target(&self, path: &AttrPath) -> Option<Target<'r>> {
        if is_schemas(path) {
            return Some(Target::Doc(DocAttr {
                ext: None,
                attr: SCHEMAS_ATTR,
                multi: true,
                sub: None,
                leaf: SCHEMAS_KIND,
            }));
        }
        let r = self.reg.resolve(self.rt, path)?;
        Some(self.column(&r).unwrap_or_else(|| Target::Doc(doc_attr(&r))))
    }

    /// `path` as a document attribute, even when a column also holds it
    /// (`pr` asks about the document's value: `""` is not present).
    pub fn doc_attr(&self, path: &AttrPath) -> Option<DocAttr<'r>> {
        match self.target(path)? {
            Target::Doc(d) => Some(d),
            _ => self.reg.resolve(self.rt, path).map(|r| doc_attr(&r)),
        }
    }

    /// The typed column (or other non-document source) for `r`, if any:
    /// the attribute definition's `column`, or one of the attributes kept
    /// structurally (`meta`, membership rows).
    fn column(&self, r: &ResolvedAttr<'r>) -> Option<Target<'r>> {
        if r.is_extension {
            return None;
        }
        let t = self.table;
        let sub = r.sub.map(|s| s.name);
        let structural = match (r.attr.name, sub) {
            ("meta", Some("resourceType")) => Some(Target::ResourceType),
            ("meta", None) => Some(Target::AlwaysPresent),
            ("meta", Some(_)) if r.leaf().column.is_none() => Some(Target::Unsupported),
            // A user's groups are derived from membership rows, directly and
            // through nesting; searching them is not offered.
            ("groups", _) if t.is_users => Some(Target::Unsupported),
            ("members", None) if t.has_members => Some(Target::Members(None)),
            ("members", Some("value")) if t.has_members => {
                Some(Target::Members(Some(MemberField::Value)))
            }
            ("members", Some("type")) if t.has_members => {
                Some(Target::Members(Some(MemberField::Type)))
            }
            ("members", Some(_)) if t.has_members => Some(Target::Unsupported),
            _ => None,
        };
        if structural.is_some() {
            return structural;
        }
        let leaf = r.leaf();
        let target = match leaf.column? {
            Column::Id => Target::Id,
            Column::ExternalId => Target::Text {
                col: t.external_id,
                folded: false,
                nullable: true,
            },
            Column::DisplayName => Target::Text {
                col: t.display_name_ci?,
                folded: true,
                nullable: !leaf.required,
            },
            Column::UserName => Target::Text {
                col: t.user_name_ci?,
                folded: true,
                nullable: !leaf.required,
            },
            Column::Active => Target::Bool { col: t.active? },
            // The column holds folded values: it serves only a
            // case-insensitive comparison.
            Column::EmailValues if !leaf.case_exact && t.emails_ci.is_some() => Target::Emails,
            Column::EmailValues => return None,
            Column::Created => Target::Time { col: t.created },
            Column::LastModified => Target::Time {
                col: t.last_modified,
            },
        };
        Some(target)
    }
}

fn doc_attr<'r>(r: &ResolvedAttr<'r>) -> DocAttr<'r> {
    let leaf = r.leaf();
    DocAttr {
        ext: r.is_extension.then_some(r.schema),
        attr: r.attr.name,
        multi: r.attr.multi_valued,
        sub: r.sub.map(|s| s.name),
        leaf: AttrKind {
            ty: leaf.attr_type,
            case_exact: leaf.case_exact,
            multi_valued: leaf.multi_valued,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ctx(is_users: bool, f: impl FnOnce(&Ctx<'_>)) {
        let reg = Registry::new();
        let rt = reg
            .resource_type(if is_users { "User" } else { "Group" })
            .expect("resource type");
        let ctx = Ctx {
            reg: &reg,
            rt,
            table: if is_users { &USERS } else { &GROUPS },
            org: uuid::Uuid::nil(),
            scope: None,
        };
        f(&ctx);
    }

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).expect("path")
    }

    #[test]
    fn indexed_attributes_map_to_columns() {
        with_ctx(true, |c| {
            assert_eq!(c.target(&path("ID")), Some(Target::Id));
            assert!(matches!(
                c.target(&path("username")),
                Some(Target::Text {
                    folded: true,
                    nullable: false,
                    ..
                })
            ));
            assert!(matches!(
                c.target(&path("externalId")),
                Some(Target::Text { folded: false, .. })
            ));
            assert_eq!(c.target(&path("emails.value")), Some(Target::Emails));
            assert_eq!(
                c.target(&path("meta.created")),
                Some(Target::Time {
                    col: "scim_users.created_at"
                })
            );
            assert_eq!(c.target(&path("groups.value")), Some(Target::Unsupported));
            assert_eq!(c.target(&path("members")), None);
        });
        with_ctx(false, |c| {
            assert_eq!(
                c.target(&path("members.value")),
                Some(Target::Members(Some(MemberField::Value)))
            );
            assert!(matches!(
                c.target(&path("displayName")),
                Some(Target::Text {
                    nullable: false,
                    ..
                })
            ));
        });
    }

    #[test]
    fn other_attributes_use_canonical_document_keys() {
        with_ctx(true, |c| {
            let Some(Target::Doc(d)) = c.target(&path("NAME.GIVENNAME")) else {
                panic!("doc");
            };
            assert_eq!((d.attr, d.sub, d.ext), ("name", Some("givenName"), None));
            let Some(Target::Doc(d)) = c.target(&path("department")) else {
                panic!("doc");
            };
            assert_eq!(
                d.ext,
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            );
            assert_eq!(d.attr, "department");
            assert!(matches!(c.target(&path("schemas")), Some(Target::Doc(_))));
        });
    }

    #[test]
    fn shorthand_targets_value() {
        with_ctx(true, |c| {
            assert_eq!(c.comparison_path(&path("emails")), path("emails.value"));
            assert_eq!(c.comparison_path(&path("addresses")), path("addresses"));
            assert_eq!(c.comparison_path(&path("name")), path("name"));
        });
    }
}
