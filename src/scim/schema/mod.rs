//! The SCIM schema layer (RFC 7643), as data: one table of attribute
//! characteristics per schema drives write validation (`validate`), response
//! projection (`project`) and the `/Schemas` and `/ResourceTypes` documents
//! (`discovery`). Pure: no I/O, no HTTP, no storage.
//!
//! Typical use: build one [`Registry`] at start-up, look up the
//! [`ResourceTypeDef`] for the endpoint, [`validate`] request bodies before
//! storing them, and [`project`] stored documents before returning them.

pub mod columns;
mod common;
pub mod declared_type;
pub mod define;
pub mod discovery;
mod enterprise;
mod group;
pub mod project;
pub mod provenance;
pub mod registry;
pub mod types;
mod user;
pub mod validate;
mod values;

pub use columns::{builtin_column_attributes, column_attributes, ColumnAttr, ColumnValues};
pub use common::SCHEMAS_ATTR;
pub use discovery::{resource_type_json, schema_json};
pub use enterprise::ENTERPRISE_USER_SCHEMA;
pub use group::GROUP_SCHEMA;
pub use project::{needs_attribute, parse_attr_list, project, project_owned};
pub use provenance::PROVENANCE_SCHEMA;
pub use registry::{Registry, ResolvedAttr};
pub use types::{
    AttrType, AttributeDef, Column, Mutability, ResourceTypeDef, Returned, SchemaDef,
    SchemaExtension, Uniqueness,
};
pub use user::USER_SCHEMA;
pub use validate::{validate, validate_collecting, WriteMode};
pub use values::MAX_STRING_BYTES;

#[cfg(test)]
mod testkit;

/// Case folding for `caseExact: false` attributes. The store folds stored
/// values into their lookup columns with it and the query compiler folds
/// searched values with it, so the two forms always agree.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}
