//! The core Group schema (RFC 7643 §4.2 and §8.7.1):
//! `urn:ietf:params:scim:schemas:core:2.0:Group`.

use super::types::{complex, reference, string, Column, SchemaDef};

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub fn group_schema() -> SchemaDef {
    SchemaDef {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            // §8.7.1 lists `required: false`, but §4.2 calls displayName
            // REQUIRED, and a nameless group is useless to Okta and Entra ID.
            string("displayName", "A human-readable name for the Group.")
                .required()
                .stored_in(Column::DisplayName),
            complex(
                "members",
                "A list of members of the Group.",
                vec![
                    // Required here though optional in §8.7.1: a member
                    // without an identifier cannot be stored or resolved.
                    string("value", "Identifier of the member of this Group.")
                        .required()
                        .immutable(),
                    reference("$ref", &["User", "Group"], "The URI corresponding to a SCIM resource that is a member of this Group.")
                        .immutable(),
                    string("display", "A human-readable name for the member, primarily used for display purposes.")
                        .read_only(),
                    string("type", "A label indicating the type of resource, e.g., 'User' or 'Group'.")
                        .canonical(&["User", "Group"])
                        .immutable(),
                ],
            )
            .multi(),
        ],
    }
}
