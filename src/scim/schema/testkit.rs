//! Test support: error assertions and a made-up resource type that exercises
//! the characteristics the standard schemas never combine (immutable
//! top-level values, `returned: request`, integer, decimal, writable
//! dateTime, a required extension).

use serde_json::Value;

use super::registry::Registry;
use super::types::{
    binary, complex, date_time, string, AttrType, AttributeDef, ResourceTypeDef, Returned,
    SchemaDef, SchemaExtension,
};
use crate::scim::error::{ScimResult, ScimType};

pub const THING_SCHEMA: &str = "urn:example:params:scim:schemas:test:2.0:Thing";
pub const THING_EXT: &str = "urn:example:params:scim:schemas:test:2.0:ThingExtra";

/// Asserts a 400 error of `scim_type` whose detail mentions `needle`.
#[track_caller]
pub fn assert_err(result: ScimResult<Value>, scim_type: ScimType, needle: &str) {
    match result {
        Ok(v) => panic!("expected {scim_type:?} error mentioning {needle:?}, got {v}"),
        Err(e) => {
            assert_eq!(e.status, 400, "{e}");
            assert_eq!(e.scim_type, Some(scim_type), "{e}");
            assert!(
                e.detail.contains(needle),
                "detail {:?} lacks {needle:?}",
                e.detail
            );
        }
    }
}

pub fn thing_registry() -> Registry {
    let thing = SchemaDef {
        id: THING_SCHEMA,
        name: "Thing",
        description: "Test thing",
        attributes: vec![
            string("label", "").required(),
            string("badge", "").immutable(),
            string("serialCode", "").immutable().case_exact(),
            AttributeDef::new("count", AttrType::Integer, ""),
            AttributeDef::new("ratio", AttrType::Decimal, ""),
            date_time("since", ""),
            binary("blob", ""),
            string("secret", "").returned(Returned::Request),
            string("tags", "").multi(),
            complex(
                "spec",
                "",
                vec![
                    string("serial", "").immutable(),
                    string("color", ""),
                    string("hint", "").returned(Returned::Request),
                    string("code", "").required(),
                ],
            ),
        ],
    };
    let extra = SchemaDef {
        id: THING_EXT,
        name: "ThingExtra",
        description: "Required test extension",
        attributes: vec![AttributeDef::new("level", AttrType::Integer, "").required()],
    };
    let rt = ResourceTypeDef {
        name: "Thing",
        endpoint: "/Things",
        description: "Test things",
        schema: THING_SCHEMA,
        extensions: vec![SchemaExtension {
            schema: THING_EXT,
            required: true,
        }],
    };
    Registry::with_definitions(vec![thing, extra], vec![rt])
}
