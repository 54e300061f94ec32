//! Rules the standard schemas cannot exercise, on a made-up `Device` type:
//! required and immutable values (top-level, multi-valued, sub-attributes,
//! a required extension) and caseExact filtering.

use serde_json::{json, Value};

use super::{assert_err, patch, patch_user, user};
use crate::scim::error::{ScimResult, ScimType};
use crate::scim::patch::{apply, parse_request};
use crate::scim::profile::Profile;
use crate::scim::schema::types::{boolean, complex, string, SchemaExtension};
use crate::scim::schema::{validate, Registry, ResourceTypeDef, SchemaDef, WriteMode};

const DEVICE: &str = "urn:example:params:scim:schemas:test:2.0:Device";
const DEVICE_EXTRA: &str = "urn:example:params:scim:schemas:test:2.0:DeviceExtra";

/// A resource type with what the standard schemas never combine: an
/// immutable top-level value, a required multi-valued attribute with a
/// caseExact `value`, a required sub-attribute and a required extension.
fn device_registry() -> Registry {
    let device = SchemaDef {
        id: DEVICE,
        name: "Device",
        description: "Test device",
        attributes: vec![
            string("label", ""),
            string("serial", "").immutable(),
            complex(
                "ports",
                "",
                vec![
                    string("value", "").case_exact(),
                    string("type", ""),
                    boolean("primary", ""),
                    string("pin", "").immutable(),
                ],
            )
            .multi()
            .required(),
            complex(
                "spec",
                "",
                vec![string("color", ""), string("code", "").required()],
            ),
        ],
    };
    let extra = SchemaDef {
        id: DEVICE_EXTRA,
        name: "DeviceExtra",
        description: "Required extension",
        attributes: vec![string("level", "")],
    };
    let rt = ResourceTypeDef {
        name: "Device",
        endpoint: "/Devices",
        description: "Test devices",
        schema: DEVICE,
        extensions: vec![SchemaExtension {
            schema: DEVICE_EXTRA,
            required: true,
        }],
    };
    Registry::with_definitions(vec![device, extra], vec![rt])
}

fn device() -> Value {
    json!({
        "schemas": [DEVICE, DEVICE_EXTRA],
        "label": "Router",
        "serial": "SN-1",
        "ports": [
            {"value": "Eth0", "type": "lan", "pin": "p0"},
            {"value": "eth1", "type": "wan"}
        ],
        "spec": {"color": "black", "code": "X1"},
        DEVICE_EXTRA: {"level": "3"}
    })
}

fn patch_device(ops: Value) -> ScimResult<Value> {
    let reg = device_registry();
    let rt = reg.resource_type("Device").unwrap();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    apply(
        &reg,
        rt,
        &device(),
        &parse_request(&body, Profile::Lenient)?,
        Profile::Lenient,
    )
    .map(|o| o.doc)
}
#[test]
fn removing_required_or_set_immutable_values_is_mutability() {
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "remove", "path": "userName"}]),
        ),
        ScimType::Mutability,
        "required",
    );
    assert_err(
        patch(
            "Group",
            &super::group(),
            json!([{"op": "Remove", "path": "displayName"}]),
        ),
        ScimType::Mutability,
        "required",
    );
    assert_err(
        patch(
            "User",
            &user(),
            json!([{"op": "replace", "path": "userName", "value": null}]),
        ),
        ScimType::Mutability,
        "required",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": "serial"}])),
        ScimType::Mutability,
        "immutable",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": "spec.code"}])),
        ScimType::Mutability,
        "required",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": "ports[type eq \"lan\"].pin"}])),
        ScimType::Mutability,
        "immutable",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": "ports"}])),
        ScimType::Mutability,
        "required",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": "ports[type pr]"}])),
        ScimType::Mutability,
        "last value",
    );
    assert_err(
        patch_device(json!([{"op": "remove", "path": DEVICE_EXTRA}])),
        ScimType::Mutability,
        "required",
    );
    // Removing a pin that was never set is fine, as is removing one port.
    assert!(patch_device(json!([{"op": "remove", "path": "ports[type eq \"wan\"].pin"}])).is_ok());
    let out = patch_device(json!([{"op": "remove", "path": "ports[type eq \"wan\"]"}])).unwrap();
    assert_eq!(
        out["ports"],
        json!([{"value": "Eth0", "type": "lan", "pin": "p0"}])
    );
}

#[test]
fn filters_follow_the_schema_case_rules() {
    // `ports.value` is caseExact…
    assert_err(
        patch_device(json!([{"op": "remove", "path": "ports[value eq \"eth0\"]"}])),
        ScimType::NoTarget,
        "matches the filter",
    );
    let out = patch_device(json!([{"op": "remove", "path": "ports[value eq \"Eth0\"]"}])).unwrap();
    assert_eq!(out["ports"], json!([{"value": "eth1", "type": "wan"}]));
    // …`emails.value` is not.
    let out = patch_user(
        &user(),
        json!([{"op": "remove", "path": "emails[value eq \"BJENSEN@EXAMPLE.COM\"]"}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn immutable_values_are_left_to_validate() {
    let reg = device_registry();
    let rt = reg.resource_type("Device").unwrap();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "serial", "value": "SN-2"}]});
    let out = apply(
        &reg,
        rt,
        &device(),
        &parse_request(&body, Profile::Lenient).unwrap(),
        Profile::Lenient,
    )
    .unwrap();
    let e = validate(
        &reg,
        rt,
        &out.doc,
        WriteMode::Replace {
            existing: &device(),
        },
        Profile::Lenient,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability), "{e}");
}
