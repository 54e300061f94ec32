//! The common attributes every resource carries (RFC 7643 §3.1): `id`,
//! `externalId` and `meta`. They belong to no schema (they are absent from
//! `/Schemas`), but validation, projection and path resolution treat them
//! exactly like core attributes, so they are written as the same kind of data.
//!
//! `schemas` (§3) is the one common attribute that is not in this table: it
//! is rebuilt from the resource's content on every write and every read.

use super::types::{
    complex, date_time, reference, string, AttributeDef, Column, Returned, Uniqueness,
};

/// The name of the `schemas` attribute, handled structurally rather than as
/// a value attribute.
pub const SCHEMAS_ATTR: &str = "schemas";

pub fn common_attributes() -> Vec<AttributeDef> {
    vec![
        // RFC 7643 §3.1 calls `id` REQUIRED, but it is readOnly: the server
        // assigns it, so `required` never applies to client input.
        string("id", "A unique identifier for a SCIM resource as defined by the service provider.")
            .required()
            .case_exact()
            .read_only()
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server)
            .stored_in(Column::Id),
        string("externalId", "A String that is an identifier for the resource as defined by the provisioning client.")
            .case_exact()
            .stored_in(Column::ExternalId),
        complex(
            "meta",
            "A complex attribute containing resource metadata.",
            vec![
                string("resourceType", "The name of the resource type of the resource.")
                    .case_exact()
                    .read_only(),
                date_time("created", "The DateTime that the resource was added to the service provider.")
                    .read_only()
                    .stored_in(Column::Created),
                date_time("lastModified", "The most recent DateTime that the details of this resource were updated at the service provider.")
                    .read_only()
                    .stored_in(Column::LastModified),
                reference("location", &["uri"], "The URI of the resource being returned.")
                    .case_exact()
                    .read_only(),
                string("version", "The version of the resource being returned.")
                    .case_exact()
                    .read_only(),
            ],
        )
        .read_only(),
    ]
}
