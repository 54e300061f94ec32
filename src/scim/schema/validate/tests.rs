//! Document-level validation: the RFC example, `schemas`, extensions, names,
//! readOnly input. Per-value rules are tested in `values/tests.rs`.

use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::profile::Profile;
use crate::scim::schema::testkit::assert_err;
use crate::scim::schema::{
    project, validate, ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA,
};

const RFC_FULL_USER: &str = include_str!("../testdata/rfc7643_8_2_full_user.json");

fn create(kind: &str, body: Value) -> ScimResult<Value> {
    let reg = Registry::new();
    let rt = reg.resource_type(kind).expect("resource type");
    validate(&reg, rt, &body, WriteMode::Create, Profile::Lenient)
}

fn without(mut v: Value, keys: &[&str]) -> Value {
    if let Some(obj) = v.as_object_mut() {
        for k in keys {
            obj.remove(*k);
        }
    }
    v
}

#[test]
fn rfc7643_full_user_validates_and_round_trips() {
    let reg = Registry::new();
    let rt = reg.resource_type("User").expect("User");
    let rfc: Value = serde_json::from_str(RFC_FULL_USER).expect("fixture is JSON");

    let stored = validate(&reg, rt, &rfc, WriteMode::Create, Profile::Lenient)
        .expect("RFC example is valid");
    // readOnly input (id, meta, groups) is dropped; everything else is kept as is.
    assert_eq!(stored, without(rfc.clone(), &["id", "meta", "groups"]));
    // Normalized output is a fixed point.
    let again = validate(
        &reg,
        rt,
        &stored,
        WriteMode::Replace { existing: &stored },
        Profile::Lenient,
    );
    assert_eq!(again.expect("stored form re-validates"), stored);

    // With id, meta and groups re-attached, projection gives the RFC
    // document back, minus the never-returned password.
    let mut full = stored;
    for key in ["id", "meta", "groups"] {
        full[key] = rfc[key].clone();
    }
    assert_eq!(
        project(&reg, rt, &full, &[], &[]),
        without(rfc, &["password"])
    );
}

#[test]
fn enterprise_user_keeps_extension_and_drops_read_only_manager_name() {
    let body = json!({
        "schemas": [USER_SCHEMA, ENT],
        "userName": "bjensen",
        ENT: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915", "$ref": "../Users/26118915", "displayName": "John Smith"}
        }
    });
    let out = create("User", body).expect("valid");
    assert_eq!(
        out,
        json!({
            "schemas": [USER_SCHEMA, ENT],
            "userName": "bjensen",
            ENT: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "26118915", "$ref": "../Users/26118915"}
            }
        })
    );
}

#[test]
fn body_must_be_an_object() {
    for body in [json!([]), json!("user"), json!(null)] {
        assert_err(create("User", body), ScimType::InvalidSyntax, "JSON object");
    }
}

#[test]
fn schemas_must_be_present_well_formed_and_include_the_core_schema() {
    assert_err(
        create("User", json!({"userName": "a"})),
        ScimType::InvalidValue,
        "'schemas'",
    );
    assert_err(
        create("User", json!({"schemas": 7, "userName": "a"})),
        ScimType::InvalidValue,
        "'schemas'",
    );
    assert_err(
        create("User", json!({"schemas": [7], "userName": "a"})),
        ScimType::InvalidValue,
        "'schemas'",
    );
    assert_err(
        create("User", json!({"schemas": [ENT], "userName": "a"})),
        ScimType::InvalidValue,
        USER_SCHEMA,
    );
    // One URN instead of a list is read as a list of one.
    let out = create("User", json!({"schemas": USER_SCHEMA, "userName": "a"})).expect("valid");
    assert_eq!(out["schemas"], json!([USER_SCHEMA]));
}

#[test]
fn schemas_may_only_name_schemas_of_the_resource_type() {
    assert_err(
        create(
            "User",
            json!({"schemas": [USER_SCHEMA, "urn:example:custom"], "userName": "a"}),
        ),
        ScimType::InvalidValue,
        "schema urn:example:custom is not supported",
    );
    assert_err(
        create(
            "User",
            json!({"schemas": [USER_SCHEMA, GROUP_SCHEMA], "userName": "a"}),
        ),
        ScimType::InvalidValue,
        GROUP_SCHEMA,
    );
}

#[test]
fn extension_attributes_require_the_extension_in_schemas() {
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", ENT: {"department": "Ops"}});
    assert_err(create("User", body), ScimType::InvalidValue, ENT);
    let qualified = format!("{ENT}:department");
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", qualified: "Ops"});
    assert_err(create("User", body), ScimType::InvalidValue, ENT);
}

#[test]
fn declared_but_empty_extensions_are_dropped_from_schemas() {
    let body = json!({"schemas": [USER_SCHEMA, ENT], "userName": "a", ENT: {"department": null}});
    let out = create("User", body).expect("valid");
    assert_eq!(out, json!({"schemas": [USER_SCHEMA], "userName": "a"}));
}

#[test]
fn unknown_urn_keys_and_non_object_extensions_are_rejected() {
    let body =
        json!({"schemas": [USER_SCHEMA], "userName": "a", "urn:example:custom:2.0:User": {}});
    assert_err(
        create("User", body),
        ScimType::InvalidValue,
        "schema urn:example:custom:2.0:User is not supported",
    );
    let body = json!({"schemas": [USER_SCHEMA, ENT], "userName": "a", ENT: "Ops"});
    assert_err(create("User", body), ScimType::InvalidValue, ENT);
    let group_key = format!("{GROUP_SCHEMA}:displayName");
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", group_key: "x"});
    assert_err(
        create("User", body),
        ScimType::InvalidValue,
        "not supported",
    );
}

#[test]
fn unknown_attributes_and_sub_attributes_are_rejected_by_path() {
    let cases = [
        (
            json!({"foo": 1}),
            format!("attribute 'foo' is not defined in schema {USER_SCHEMA}"),
        ),
        (
            json!({"name": {"nick": "x"}}),
            "attribute 'name.nick' is not defined".into(),
        ),
        (
            json!({"emails": [{"value": "a@b"}, {"value": "c@d", "label": "x"}]}),
            "attribute 'emails[1].label' is not defined".into(),
        ),
        (
            json!({ENT: {"floor": 3}}),
            format!("attribute '{ENT}:floor' is not defined in schema {ENT}"),
        ),
    ];
    for (extra, needle) in cases {
        let mut body = json!({"schemas": [USER_SCHEMA, ENT], "userName": "a"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        assert_err(create("User", body), ScimType::InvalidValue, &needle);
    }
}

#[test]
fn names_and_urns_are_case_insensitive_and_output_is_canonical() {
    let body = json!({
        "SCHEMAS": [USER_SCHEMA.to_uppercase(), ENT.to_uppercase()],
        "USERNAME": "bjensen",
        "Name": {"GIVENNAME": "Barbara"},
        "Emails": [{"VALUE": "b@example.com", "Primary": true}],
        ENT.to_uppercase(): {"DEPARTMENT": "Ops", "Manager": {"VALUE": "42"}}
    });
    let out = create("User", body).expect("valid");
    assert_eq!(
        out,
        json!({
            "schemas": [USER_SCHEMA, ENT],
            "userName": "bjensen",
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@example.com", "primary": true}],
            ENT: {"department": "Ops", "manager": {"value": "42"}}
        })
    );
}

#[test]
fn urn_qualified_attribute_keys_are_accepted() {
    let core_key = format!("{}:userName", USER_SCHEMA.to_lowercase());
    let ext_key = format!("{ENT}:department");
    let body = json!({
        "schemas": [USER_SCHEMA, ENT],
        core_key: "bjensen",
        ext_key: "Ops",
        ENT: {"costCenter": "4130"}
    });
    let out = create("User", body).expect("valid");
    assert_eq!(out["userName"], "bjensen");
    assert_eq!(out[ENT], json!({"department": "Ops", "costCenter": "4130"}));
}

#[test]
fn an_attribute_given_twice_is_rejected() {
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", "USERNAME": "b"});
    assert_err(
        create("User", body),
        ScimType::InvalidValue,
        "'userName' is given more than once",
    );
}

#[test]
fn read_only_input_is_ignored_as_okta_puts_back_whole_resources() {
    let body = json!({
        "schemas": [USER_SCHEMA, ENT],
        "id": "server-assigned",
        "meta": {"resourceType": "User", "created": "not even a date"},
        "userName": "a",
        "groups": [{"value": "g1", "display": "Group One"}],
        ENT: {"manager": {"displayName": "only read-only"}}
    });
    let out = create("User", body).expect("valid");
    assert_eq!(out, json!({"schemas": [USER_SCHEMA], "userName": "a"}));

    let body = json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": "Admins",
        "members": [{"value": "u1", "display": "Babs", "type": "User"}],
        "meta": {"location": "ignored"}
    });
    let out = create("Group", body).expect("valid");
    assert_eq!(
        out,
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Admins", "members": [{"value": "u1", "type": "User"}]})
    );
}

#[test]
fn nulls_and_empty_arrays_mean_unassigned() {
    let body = json!({
        "schemas": [USER_SCHEMA],
        "userName": "a",
        "displayName": null,
        "emails": [],
        "phoneNumbers": [null],
        "name": {"givenName": null},
        "externalId": null
    });
    let out = create("User", body).expect("valid");
    assert_eq!(out, json!({"schemas": [USER_SCHEMA], "userName": "a"}));
}

#[test]
fn password_is_kept_for_the_store_to_hash() {
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", "password": "t1meMa$heen"});
    assert_eq!(
        create("User", body).expect("valid")["password"],
        "t1meMa$heen"
    );
}

#[test]
fn core_attributes_may_be_wrapped_in_the_core_urn() {
    let body = json!({
        "schemas": [USER_SCHEMA],
        USER_SCHEMA.to_lowercase(): {"userName": "bjensen", "title": "Guide"},
        "nickName": "Babs"
    });
    let out = create("User", body).expect("valid");
    assert_eq!(
        out,
        json!({"schemas": [USER_SCHEMA], "userName": "bjensen", "title": "Guide", "nickName": "Babs"})
    );
    let body = json!({"schemas": [USER_SCHEMA], "userName": "a", USER_SCHEMA: ["x"]});
    assert_err(create("User", body), ScimType::InvalidValue, USER_SCHEMA);
}

#[test]
fn group_members_need_a_value() {
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": "u1"}, {"type": "User"}]});
    assert_err(
        create("Group", body),
        ScimType::InvalidValue,
        "'members[1].value' is missing",
    );
}

#[test]
fn an_organization_ignoring_undeclared_attributes_gets_them_listed_not_refused() {
    let body = json!({
        "schemas": [USER_SCHEMA, "urn:x:unknown:1.0:User"],
        "userName": "a",
        "shoeSize": 44,
        "name": {"givenName": "A", "middleInitial": "Q"},
        "emails": [{"value": "a@x", "label": "work"}],
        "urn:x:unknown:1.0:User": {"y": 1}
    });
    let strict = Registry::new();
    let rt = strict.resource_type("User").expect("user");
    assert_err(
        validate(&strict, rt, &body, WriteMode::Create, Profile::Lenient),
        ScimType::InvalidValue,
        "urn:x:unknown:1.0:User",
    );
    let (none, listed) = validate_collecting(
        &strict,
        rt,
        &json!({"schemas": [USER_SCHEMA], "userName": "b"}),
        WriteMode::Create,
        Profile::Lenient,
    )
    .expect("valid");
    assert!(listed.is_empty() && none["userName"] == "b");

    let lenient = Registry::new().with_undeclared_ignored(true);
    let rt = lenient.resource_type("User").expect("user");
    let (doc, listed) =
        validate_collecting(&lenient, rt, &body, WriteMode::Create, Profile::Lenient)
            .expect("valid");
    assert_eq!(
        doc,
        json!({"schemas": [USER_SCHEMA], "userName": "a", "name": {"givenName": "A"},
               "emails": [{"value": "a@x"}]})
    );
    assert_eq!(
        listed,
        [
            "schemas: urn:x:unknown:1.0:User",
            "urn:x:unknown:1.0:User",
            "emails[0].label",
            "name.middleInitial",
            "shoeSize",
        ]
    );
    // Declared attributes are checked as strictly as ever.
    let bad = json!({"schemas": [USER_SCHEMA], "userName": "a", "active": "perhaps"});
    assert_err(
        validate(&lenient, rt, &bad, WriteMode::Create, Profile::Lenient),
        ScimType::InvalidValue,
        "active",
    );
}
