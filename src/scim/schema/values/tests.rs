//! Per-value rules, exercised through `validate` on the standard schemas and
//! on the made-up `Thing` type of `testkit`.

use serde_json::{json, Value};

use super::MAX_STRING_BYTES;
use crate::scim::error::{ScimResult, ScimType};
use crate::scim::profile::Profile;
use crate::scim::schema::testkit::{assert_err, thing_registry, THING_EXT, THING_SCHEMA};
use crate::scim::schema::{
    validate, Registry, WriteMode, ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA,
};

fn user(extra: Value) -> ScimResult<Value> {
    let mut body = json!({"schemas": [USER_SCHEMA, ENT], "userName": "bjensen"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let reg = Registry::new();
    let rt = reg.resource_type("User").expect("User");
    validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient)
}

fn thing(body: Value, existing: Option<&Value>) -> ScimResult<Value> {
    let reg = thing_registry();
    let rt = reg.resource_type("Thing").expect("Thing");
    let mut full =
        json!({"schemas": [THING_SCHEMA, THING_EXT], "label": "x", THING_EXT: {"level": 1}});
    if let (Some(b), Some(e)) = (full.as_object_mut(), body.as_object()) {
        b.extend(e.clone());
    }
    let mode = match existing {
        Some(existing) => WriteMode::Replace { existing },
        None => WriteMode::Create,
    };
    validate(&reg, rt, &full, mode, Profile::Lenient)
}

#[test]
fn strings_and_references_must_be_json_strings() {
    assert_err(
        user(json!({"displayName": 5})),
        ScimType::InvalidValue,
        "'displayName' must be a string",
    );
    assert_err(
        user(json!({"profileUrl": true})),
        ScimType::InvalidValue,
        "'profileUrl'",
    );
    assert_err(
        user(json!({"emails": [{"value": "a@b"}, {"value": 3}]})),
        ScimType::InvalidValue,
        "'emails[1].value'",
    );
}

#[test]
fn booleans_accept_entra_strings_and_normalize_them() {
    let out = user(json!({
        "active": "True",
        "emails": [{"value": "a@b", "primary": "FALSE"}, {"value": "c@d", "primary": "true"}]
    }))
    .expect("valid");
    assert_eq!(out["active"], json!(true));
    assert_eq!(out["emails"][0]["primary"], json!(false));
    assert_eq!(out["emails"][1]["primary"], json!(true));
    assert_eq!(
        user(json!({"active": false})).expect("valid")["active"],
        json!(false)
    );
    assert_err(
        user(json!({"active": "yes"})),
        ScimType::InvalidValue,
        "'active' must be a boolean",
    );
    assert_err(
        user(json!({"active": 1})),
        ScimType::InvalidValue,
        "'active'",
    );
}

#[test]
fn integers_decimals_and_date_times_are_type_checked() {
    let out = thing(
        json!({"count": 3, "ratio": 0.5, "since": "2008-01-23T04:56:22Z"}),
        None,
    )
    .expect("valid");
    assert_eq!(
        (out["count"].clone(), out["ratio"].clone()),
        (json!(3), json!(0.5))
    );
    assert_eq!(out["since"], "2008-01-23T04:56:22Z");
    thing(
        json!({"ratio": 2, "since": "2008-01-23T04:56:22.123+02:00"}),
        None,
    )
    .expect("valid");
    thing(json!({"since": "2008-01-23T04:56:22"}), None).expect("xsd allows no offset");

    assert_err(
        thing(json!({"count": 1.5}), None),
        ScimType::InvalidValue,
        "'count' must be an integer",
    );
    assert_err(
        thing(json!({"count": "3"}), None),
        ScimType::InvalidValue,
        "'count'",
    );
    assert_err(
        thing(json!({"ratio": "0.5"}), None),
        ScimType::InvalidValue,
        "'ratio' must be a number",
    );
    assert_err(
        thing(json!({"since": "2008-01-23"}), None),
        ScimType::InvalidValue,
        "'since'",
    );
    assert_err(
        thing(json!({"since": "yesterday"}), None),
        ScimType::InvalidValue,
        "'since'",
    );
    assert_err(
        thing(json!({THING_EXT: {"level": "high"}}), None),
        ScimType::InvalidValue,
        &format!("'{THING_EXT}:level'"),
    );
}

#[test]
fn binary_must_be_base64() {
    user(json!({"x509Certificates": [{"value": "TUlJRA=="}]})).expect("padded");
    user(json!({"x509Certificates": [{"value": "TUlJRA"}]})).expect("unpadded");
    assert_err(
        user(json!({"x509Certificates": [{"value": "not base64!"}]})),
        ScimType::InvalidValue,
        "'x509Certificates[0].value' must be base64",
    );
    assert_err(
        thing(json!({"blob": 12}), None),
        ScimType::InvalidValue,
        "'blob'",
    );
}

#[test]
fn complex_values_must_be_objects_unless_a_bare_value_fits() {
    assert_err(
        user(json!({"name": "Babs"})),
        ScimType::InvalidValue,
        "'name' must be a complex value",
    );
    assert_err(
        user(json!({"name": ["x"]})),
        ScimType::InvalidValue,
        "'name' is single-valued",
    );
    // Entra ID sends the manager as a bare id.
    let out = user(json!({ENT: {"manager": "26118915"}})).expect("valid");
    assert_eq!(out[ENT]["manager"], json!({"value": "26118915"}));
}

#[test]
fn multi_valued_attributes_accept_a_single_value() {
    let out = user(json!({"emails": {"value": "a@b", "type": "work"}})).expect("valid");
    assert_eq!(out["emails"], json!([{"value": "a@b", "type": "work"}]));
    let out = thing(json!({"tags": "red"}), None).expect("valid");
    assert_eq!(out["tags"], json!(["red"]));
    assert_err(
        user(json!({"emails": [[{"value": "a@b"}]]})),
        ScimType::InvalidValue,
        "'emails[0]'",
    );
}

#[test]
fn single_valued_attributes_reject_arrays() {
    assert_err(
        user(json!({"title": ["a", "b"]})),
        ScimType::InvalidValue,
        "'title' is single-valued",
    );
}

#[test]
fn required_attributes_must_be_present_and_non_empty() {
    let reg = Registry::new();
    let rt = reg.resource_type("User").expect("User");
    let check = |body: Value| validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient);
    let missing = "required attribute 'userName' is missing";
    assert_err(
        check(json!({"schemas": [USER_SCHEMA]})),
        ScimType::InvalidValue,
        missing,
    );
    assert_err(
        check(json!({"schemas": [USER_SCHEMA], "userName": null})),
        ScimType::InvalidValue,
        missing,
    );
    assert_err(
        check(json!({"schemas": [USER_SCHEMA], "userName": "  "})),
        ScimType::InvalidValue,
        "'userName' must not be empty",
    );
    let group = reg.resource_type("Group").expect("Group");
    assert_err(
        validate(
            &reg,
            group,
            &json!({"schemas": [GROUP_SCHEMA]}),
            WriteMode::Create,
            Profile::Lenient,
        ),
        ScimType::InvalidValue,
        "'displayName' is missing",
    );
    // Required sub-attributes apply whenever their parent is present.
    assert_err(
        thing(json!({"spec": {"color": "red"}}), None),
        ScimType::InvalidValue,
        "'spec.code' is missing",
    );
}

#[test]
fn required_extensions_and_their_attributes_are_enforced() {
    let reg = thing_registry();
    let rt = reg.resource_type("Thing").expect("Thing");
    let body = json!({"schemas": [THING_SCHEMA], "label": "x"});
    assert_err(
        validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient),
        ScimType::InvalidValue,
        THING_EXT,
    );
    let body =
        json!({"schemas": [THING_SCHEMA, THING_EXT], "label": "x", THING_EXT: {"level": null}});
    assert_err(
        validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient),
        ScimType::InvalidValue,
        THING_EXT,
    );
}

#[test]
fn at_most_one_primary_value() {
    assert_err(
        user(
            json!({"emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": "True"}]}),
        ),
        ScimType::InvalidValue,
        "'emails' has 2 values with primary set to true",
    );
    user(
        json!({"emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": false}]}),
    )
    .expect("one primary is fine");
}

#[test]
fn canonical_values_are_not_enforced() {
    let out = user(json!({"emails": [{"value": "a@b", "type": "Internet"}]})).expect("valid");
    assert_eq!(out["emails"][0]["type"], "Internet");
}

#[test]
fn strings_with_nul_or_over_the_limit_are_rejected() {
    assert_err(
        user(json!({"name": {"givenName": "Bar\u{0}bara"}})),
        ScimType::InvalidValue,
        "'name.givenName' must not contain NUL",
    );
    let long = "x".repeat(MAX_STRING_BYTES + 1);
    assert_err(
        user(json!({"title": long})),
        ScimType::InvalidValue,
        "'title' is longer than",
    );
    user(json!({"title": "x".repeat(MAX_STRING_BYTES)})).expect("at the limit");
}

#[test]
fn immutable_values_cannot_change_on_replace() {
    let existing = thing(json!({"badge": "B-1", "serialCode": "S-1"}), None).expect("create");
    assert_err(
        thing(json!({"badge": "B-2"}), Some(&existing)),
        ScimType::Mutability,
        "'badge' is immutable",
    );
    // caseExact decides how values compare.
    thing(
        json!({"badge": "b-1", "serialCode": "S-1"}),
        Some(&existing),
    )
    .expect("same badge");
    assert_err(
        thing(json!({"serialCode": "s-1"}), Some(&existing)),
        ScimType::Mutability,
        "'serialCode'",
    );
    // Create never checks, and a value may be set where none was stored.
    thing(json!({"badge": "B-2"}), None).expect("create");
    let bare = thing(json!({}), None).expect("create");
    thing(json!({"badge": "B-9"}), Some(&bare)).expect("first value");
}

#[test]
fn omitted_immutable_values_are_kept_on_replace() {
    let existing = thing(
        json!({"badge": "B-1", "spec": {"serial": "X", "code": "c"}}),
        None,
    )
    .expect("create");
    let out = thing(json!({"spec": {"code": "c"}}), Some(&existing)).expect("replace");
    assert_eq!(out["badge"], "B-1");
    assert_eq!(out["spec"], json!({"serial": "X", "code": "c"}));
    assert_err(
        thing(
            json!({"spec": {"serial": "Y", "code": "c"}}),
            Some(&existing),
        ),
        ScimType::Mutability,
        "'spec.serial'",
    );
}

#[test]
fn immutability_is_not_enforced_inside_multi_valued_attributes() {
    let reg = Registry::new();
    let rt = reg.resource_type("Group").expect("Group");
    let existing =
        json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": "u1"}]});
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": "u2"}, {"value": "u3"}]});
    let out = validate(
        &reg,
        rt,
        &body,
        WriteMode::Replace {
            existing: &existing,
        },
        Profile::Lenient,
    )
    .expect("valid");
    assert_eq!(out["members"], json!([{"value": "u2"}, {"value": "u3"}]));
}
