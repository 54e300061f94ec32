//! The vocabulary of schema definitions: attribute characteristics (RFC 7643
//! §2.2 and §7), schemas (§7) and resource types (§6), plus the small
//! builder helpers the tables in `user.rs`, `enterprise.rs`, `group.rs` and
//! `common.rs` are written with.
//!
//! Everything here is data. The validator, the projector and `/Schemas`
//! rendering read these values and never special-case attribute names.

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Binary,
    Complex,
}

impl AttrType {
    /// The spelling used in schema representations (RFC 7643 §7 `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Binary => "binary",
            AttrType::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`. Enforcing it needs the store, so this module
/// only carries and advertises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// A typed, indexed column the store keeps an attribute's value in, beside
/// the JSONB document (storage-neutral: the store maps each to its table's
/// column). The query compiler searches the column instead of the document,
/// and the writers fill it from the document, both reading it from the
/// attribute definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Id,
    UserName,
    ExternalId,
    DisplayName,
    Active,
    /// Every `value` of a multi-valued `emails`, folded, in one array.
    EmailValues,
    Created,
    LastModified,
}

/// One attribute (or sub-attribute) and all its RFC 7643 §2.2 characteristics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDef {
    pub name: &'static str,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    /// Advertised in `/Schemas` only: RFC 7643 §7 calls them suggestions, and
    /// Okta and Entra ID send `type` values outside them.
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: Vec<AttributeDef>,
    /// Where the store keeps the value besides the document, if anywhere.
    /// Not a SCIM characteristic: never advertised.
    pub column: Option<Column>,
    /// Personal data: the request log keeps only a keyed hash of its
    /// values (issue 17). scimd's own characteristic, declarable as
    /// `"sensitive": true`; never advertised in `/Schemas`.
    pub sensitive: bool,
}

impl AttributeDef {
    /// An attribute with the defaults RFC 7643 §2.2 gives to characteristics
    /// that a definition leaves unspecified.
    pub const fn new(name: &'static str, attr_type: AttrType, description: &'static str) -> Self {
        AttributeDef {
            name,
            attr_type,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: Vec::new(),
            column: None,
            sensitive: false,
        }
    }

    #[must_use]
    pub const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    #[must_use]
    pub const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    #[must_use]
    pub const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    #[must_use]
    pub const fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
    }

    #[must_use]
    pub const fn immutable(self) -> Self {
        self.mutability(Mutability::Immutable)
    }

    #[must_use]
    pub const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    #[must_use]
    pub const fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    #[must_use]
    pub const fn stored_in(mut self, column: Column) -> Self {
        self.column = Some(column);
        self
    }

    #[must_use]
    pub const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// Looks up a sub-attribute; names are case-insensitive (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        find_attr(&self.sub_attributes, name)
    }

    pub fn is_complex(&self) -> bool {
        self.attr_type == AttrType::Complex
    }
}

/// Case-insensitive lookup of an attribute by name in a definition list.
pub fn find_attr<'a>(attrs: &'a [AttributeDef], name: &str) -> Option<&'a AttributeDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

pub const fn string(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttrType::String, description)
}

pub const fn boolean(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttrType::Boolean, description)
}

pub const fn date_time(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttrType::DateTime, description)
}

pub const fn binary(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttrType::Binary, description)
}

/// A `reference` attribute; `types` are the RFC 7643 §7 `referenceTypes`
/// (resource type names, `external` or `uri`).
pub const fn reference(
    name: &'static str,
    types: &'static [&'static str],
    description: &'static str,
) -> AttributeDef {
    let mut def = AttributeDef::new(name, AttrType::Reference, description);
    def.reference_types = types;
    def
}

/// A `complex` attribute. Not `const`: its sub-attributes live in a `Vec`.
pub fn complex(
    name: &'static str,
    description: &'static str,
    sub_attributes: Vec<AttributeDef>,
) -> AttributeDef {
    let mut def = AttributeDef::new(name, AttrType::Complex, description);
    def.sub_attributes = sub_attributes;
    def
}

/// A schema (RFC 7643 §7): its URN and its top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    /// Looks up a top-level attribute, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        find_attr(&self.attributes, name)
    }
}

/// One entry of a resource type's `schemaExtensions` (RFC 7643 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    pub schema: &'static str,
    /// When true every resource of the type must carry the extension.
    pub required: bool,
}

/// A resource type (RFC 7643 §6): which schema is its core and which
/// extensions it may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTypeDef {
    /// Both `id` and `name` in RFC 7643 §6; they are equal for every type here.
    pub name: &'static str,
    /// Relative endpoint, e.g. `/Users`.
    pub endpoint: &'static str,
    pub description: &'static str,
    /// URN of the core schema.
    pub schema: &'static str,
    pub extensions: Vec<SchemaExtension>,
}

impl ResourceTypeDef {
    /// The extension of this type with the given URN (case-insensitive).
    pub fn extension(&self, urn: &str) -> Option<&SchemaExtension> {
        self.extensions
            .iter()
            .find(|e| e.schema.eq_ignore_ascii_case(urn))
    }

    /// True when `urn` names the core schema or one of the extensions.
    pub fn has_schema(&self, urn: &str) -> bool {
        self.schema.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_apply_rfc_defaults_and_overrides() {
        let plain = string("nickName", "casual name");
        assert_eq!(plain.mutability, Mutability::ReadWrite);
        assert_eq!(plain.returned, Returned::Default);
        assert_eq!(plain.uniqueness, Uniqueness::None);
        assert!(!plain.required && !plain.case_exact && !plain.multi_valued);

        let id = string("id", "identifier")
            .case_exact()
            .read_only()
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server);
        assert!(id.case_exact);
        assert_eq!(id.mutability.as_str(), "readOnly");
        assert_eq!(id.returned.as_str(), "always");
        assert_eq!(id.uniqueness.as_str(), "server");
    }

    #[test]
    fn sub_attribute_lookup_ignores_case() {
        let name = complex("name", "", vec![string("givenName", "")]);
        assert_eq!(
            name.sub_attribute("GIVENNAME").map(|a| a.name),
            Some("givenName")
        );
        assert!(name.sub_attribute("nope").is_none());
        assert_eq!(AttrType::DateTime.as_str(), "dateTime");
    }
}
