//! `parse_request`: the PatchOp message structure (RFC 7644 §3.5.2).

use serde_json::{json, Value};

use super::assert_err;
use crate::scim::error::ScimType;
use crate::scim::filter::PatchPath;
use crate::scim::patch::{parse_request, OpKind, PatchOp, MAX_OPERATIONS};
use crate::scim::path::AttrPath;
use crate::scim::profile::Profile;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn body(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

#[test]
fn parses_the_three_operations_with_any_case() {
    let ops = parse_request(
        &body(json!([
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "REPLACE", "value": {"active": false}},
            {"op": "remove", "path": "emails[type eq \"work\"]"}
        ])),
        Profile::Lenient,
    )
    .unwrap();
    assert_eq!(ops.len(), 3);
    assert_eq!(
        ops[0],
        PatchOp {
            op: OpKind::Add,
            path: Some(PatchPath::Attr(AttrPath::new("nickName"))),
            value: Some(json!("Babs")),
        }
    );
    assert_eq!(ops[1].op, OpKind::Replace);
    assert_eq!(ops[1].path, None);
    assert_eq!(ops[2].op, OpKind::Remove);
    assert!(matches!(ops[2].path, Some(PatchPath::Filtered { .. })));
    assert_eq!(ops[2].value, None);
}

#[test]
fn member_names_and_schema_urn_are_case_insensitive() {
    let ops = parse_request(
        &json!({
            "Schemas": ["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],
            "operations": [{"OP": "add", "Path": "title", "Value": "Boss"}]
        }),
        Profile::Lenient,
    )
    .unwrap();
    assert_eq!(ops[0].value, Some(json!("Boss")));
    // A single string stands for a one-element list, and extra URNs are fine.
    assert!(parse_request(
        &json!({"schemas": PATCH_OP, "Operations": [{"op": "remove", "path": "title"}]}),
        Profile::Lenient
    )
    .is_ok());
    assert!(parse_request(
        &json!({
            "schemas": ["urn:example:other", PATCH_OP],
            "Operations": [{"op": "remove", "path": "title"}]
        }),
        Profile::Lenient
    )
    .is_ok());
}

#[test]
fn rejects_bad_message_structure() {
    let one_op = json!([{"op": "remove", "path": "title"}]);
    assert_err(
        parse_request(&json!([]), Profile::Lenient),
        ScimType::InvalidSyntax,
        "JSON object",
    );
    assert_err(
        parse_request(&json!({"Operations": one_op}), Profile::Lenient),
        ScimType::InvalidSyntax,
        PATCH_OP,
    );
    assert_err(
        parse_request(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": one_op}),
            Profile::Lenient,
        ),
        ScimType::InvalidSyntax,
        PATCH_OP,
    );
    assert_err(
        parse_request(&json!({"schemas": [PATCH_OP]}), Profile::Lenient),
        ScimType::InvalidSyntax,
        "no 'Operations'",
    );
    assert_err(
        parse_request(&body(json!({"op": "add"})), Profile::Lenient),
        ScimType::InvalidSyntax,
        "must be an array",
    );
    assert_err(
        parse_request(&body(json!([])), Profile::Lenient),
        ScimType::InvalidSyntax,
        "at least one",
    );
}

#[test]
fn caps_the_number_of_operations() {
    let op = json!({"op": "replace", "path": "title", "value": "x"});
    let ok = Value::Array(vec![op.clone(); MAX_OPERATIONS]);
    assert_eq!(
        parse_request(&body(ok), Profile::Lenient).unwrap().len(),
        MAX_OPERATIONS
    );
    let too_many = Value::Array(vec![op; MAX_OPERATIONS + 1]);
    assert_err(
        parse_request(&body(too_many), Profile::Lenient),
        ScimType::InvalidSyntax,
        "at most 1000",
    );
}

#[test]
fn rejects_bad_operations_naming_their_index() {
    let cases = [
        (json!("add"), ScimType::InvalidSyntax, "JSON object"),
        (json!({"path": "title"}), ScimType::InvalidSyntax, "no 'op'"),
        (
            json!({"op": 1}),
            ScimType::InvalidSyntax,
            "'op' must be a string",
        ),
        (
            json!({"op": "move", "path": "title"}),
            ScimType::InvalidSyntax,
            "unknown operation 'move'",
        ),
        (
            json!({"op": "add", "path": "title"}),
            ScimType::InvalidSyntax,
            "requires a 'value'",
        ),
        (
            json!({"op": "Replace", "path": "title"}),
            ScimType::InvalidSyntax,
            "requires a 'value'",
        ),
        (
            json!({"op": "add", "path": 7, "value": 1}),
            ScimType::InvalidPath,
            "must be a string",
        ),
        (
            json!({"op": "add", "path": "emails[type eq", "value": 1}),
            ScimType::InvalidPath,
            "in path",
        ),
        (
            json!({"op": "remove", "path": "a.b.c"}),
            ScimType::InvalidPath,
            "not a valid attribute path",
        ),
    ];
    for (op, scim_type, needle) in cases {
        let ops = json!([{"op": "remove", "path": "title"}, op]);
        assert_err(
            parse_request(&body(ops), Profile::Lenient),
            scim_type,
            needle,
        );
        let ops = json!([{"op": "remove", "path": "title"}, op]);
        assert_err(
            parse_request(&body(ops), Profile::Lenient),
            scim_type,
            "Operations[1]: ",
        );
    }
}

#[test]
fn empty_or_null_path_means_no_path_and_null_value_is_kept() {
    let ops = parse_request(&body(json!([
        {"op": "add", "path": "", "value": {"title": "x"}},
        {"op": "add", "path": "  ", "value": {"title": "x"}},
        {"op": "replace", "path": null, "value": {"title": "x"}},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": null}
    ])), Profile::Lenient)
    .unwrap();
    assert!(ops[..3].iter().all(|op| op.path.is_none()));
    assert_eq!(ops[3].value, Some(Value::Null));
}

#[test]
fn remove_may_carry_a_value() {
    let ops = parse_request(
        &body(json!([
            {"op": "Remove", "path": "members", "value": [{"value": "abc"}]}
        ])),
        Profile::Lenient,
    )
    .unwrap();
    assert_eq!(ops[0].value, Some(json!([{"value": "abc"}])));
}
