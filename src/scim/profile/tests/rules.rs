//! One table, every rule: each case is an input that only that rule lets
//! through, what it turns into under every profile that has the rule, and
//! the 400 and `scimType` every other profile answers it with. Inputs go
//! through the engines the way the service layer calls them: a POST body
//! through `validate`; a PatchOp body through `parse_request`, `apply` and
//! `validate` of the result; a `filter` through `ListQuery::from_pairs`.

use serde_json::{json, Value};

use super::super::{Profile, Rule};
use crate::scim::error::{ScimResult, ScimType};
use crate::scim::filter::Filter;
use crate::scim::list::ListQuery;
use crate::scim::patch::{apply, parse_request, MemberDelta, PATCH_OP_SCHEMA};
use crate::scim::schema::{
    validate, Registry, WriteMode, ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA,
};

const MANAGER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
const MANAGER_ID: &str = "26118915-6090-4610-87e4-49d8ca9f808d";
const ALICE: &str = "2819c223-7f76-453a-919d-413861904646";
const BOB: &str = "902c246b-6245-4190-8e05-00816be7344a";
const ADSCIM_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// A stored user with a work email and a manager.
fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENT],
        "userName": "bjensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        ENT: {"department": "Tour Operations", "manager": {"value": MANAGER_ID}}
    })
}

/// A stored user with nothing multi-valued.
fn plain_user() -> Value {
    json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": true})
}

/// A stored group (members are rows, never in the document).
fn group() -> Value {
    json!({"schemas": [GROUP_SCHEMA], "displayName": "Tour Guides"})
}

enum Input {
    /// POST of this body to the resource type.
    Create(&'static str, Value),
    /// These operations, in a well-formed PatchOp body, on this document.
    Patch(&'static str, Value, Value),
    /// This whole PatchOp body on this document.
    PatchBody(&'static str, Value, Value),
    /// `GET …?filter=` this.
    Filter(&'static str),
}

enum Expect {
    /// The stored document.
    Doc(Value),
    /// The membership change (the group document stays as it was).
    Members {
        add: &'static [&'static str],
        remove: &'static [&'static str],
    },
    /// The filter, as this RFC 7644 filter parses.
    Filter(&'static str),
}

struct Case {
    rule: Rule,
    input: Input,
    accepted: Expect,
    refused: ScimType,
}

#[derive(Debug, PartialEq)]
enum Got {
    Doc(Value),
    Members(MemberDelta),
    Filter(Option<Filter>),
}

fn run(input: &Input, profile: Profile) -> ScimResult<Got> {
    let reg = Registry::new();
    let rt_of = |kind: &str| reg.resource_type(kind).expect("resource type");
    match input {
        Input::Create(kind, body) => {
            validate(&reg, rt_of(kind), body, WriteMode::Create, profile).map(Got::Doc)
        }
        Input::Patch(kind, doc, ops) => {
            let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops});
            patch(&reg, kind, doc, &body, profile)
        }
        Input::PatchBody(kind, doc, body) => patch(&reg, kind, doc, body, profile),
        Input::Filter(text) => {
            let pairs = [("filter".to_string(), (*text).to_string())];
            ListQuery::from_pairs(&pairs, profile).map(|q| Got::Filter(q.filter))
        }
    }
}

fn patch(
    reg: &Registry,
    kind: &str,
    doc: &Value,
    body: &Value,
    profile: Profile,
) -> ScimResult<Got> {
    let rt = reg.resource_type(kind).expect("resource type");
    let ops = parse_request(body, profile)?;
    let out = apply(reg, rt, doc, &ops, profile)?;
    let stored = validate(
        reg,
        rt,
        &out.doc,
        WriteMode::Replace { existing: doc },
        profile,
    )?;
    if out.members.is_empty() {
        return Ok(Got::Doc(stored));
    }
    assert_eq!(
        &stored, doc,
        "membership operations never touch the document"
    );
    Ok(Got::Members(out.members))
}

fn expected(e: &Expect) -> Got {
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match e {
        Expect::Doc(doc) => Got::Doc(doc.clone()),
        Expect::Members { add, remove } => Got::Members(MemberDelta {
            replace: None,
            add: ids(add),
            remove: ids(remove),
        }),
        Expect::Filter(text) => Got::Filter(Some(
            Filter::parse(text, Profile::Strict).expect("the expectation is RFC 7644"),
        )),
    }
}

fn cases() -> Vec<Case> {
    use Expect::Doc;
    use Input::{Create, Patch, PatchBody};
    let with_manager = |manager: Value| {
        let mut doc = plain_user();
        doc["schemas"] = json!([USER_SCHEMA, ENT]);
        doc[ENT] = json!({"manager": manager});
        doc
    };
    let without_manager = || {
        let mut doc = user();
        doc[ENT] = json!({"department": "Tour Operations"});
        doc
    };
    vec![
        // single-value-for-multi-valued
        Case {
            rule: Rule::SingleValueForMultiValued,
            input: Create(
                "User",
                json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "emails": {"value": "j@x"}}),
            ),
            accepted: Doc(
                json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "emails": [{"value": "j@x"}]}),
            ),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::SingleValueForMultiValued,
            input: Create("User", json!({"schemas": USER_SCHEMA, "userName": "jdoe"})),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe"})),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::SingleValueForMultiValued,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "add", "path": "emails", "value": {"value": "j@x", "type": "work"}}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA], "userName": "jdoe", "active": true,
                "emails": [{"value": "j@x", "type": "work"}]
            })),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::SingleValueForMultiValued,
            input: Patch(
                "Group",
                group(),
                json!([{"op": "add", "path": "members", "value": {"value": ALICE}}]),
            ),
            accepted: Expect::Members {
                add: &[ALICE],
                remove: &[],
            },
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::SingleValueForMultiValued,
            input: PatchBody(
                "User",
                plain_user(),
                json!({
                    "schemas": PATCH_OP_SCHEMA,
                    "Operations": [{"op": "replace", "path": "active", "value": false}]
                }),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": false})),
            refused: ScimType::InvalidSyntax,
        },
        // scalar-for-complex
        Case {
            rule: Rule::ScalarForComplex,
            input: Create(
                "User",
                json!({"schemas": [USER_SCHEMA, ENT], "userName": "jdoe", ENT: {"manager": MANAGER_ID}}),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA, ENT], "userName": "jdoe",
                ENT: {"manager": {"value": MANAGER_ID}}
            })),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::ScalarForComplex,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "path": MANAGER, "value": MANAGER_ID}]),
            ),
            accepted: Doc(with_manager(json!({"value": MANAGER_ID}))),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::ScalarForComplex,
            input: Patch(
                "Group",
                group(),
                json!([{"op": "add", "path": "members", "value": [ALICE]}]),
            ),
            accepted: Expect::Members {
                add: &[ALICE],
                remove: &[],
            },
            refused: ScimType::InvalidValue,
        },
        // string-booleans
        Case {
            rule: Rule::StringBooleans,
            input: Create(
                "User",
                json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": "False"}),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": false})),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::StringBooleans,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "path": "active", "value": "False"}]),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": false})),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::StringBooleans,
            input: Patch(
                "User",
                user(),
                json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
            ),
            accepted: Doc({
                let mut doc = user();
                doc["emails"] = json!([
                    {"value": "bjensen@example.com", "type": "work", "primary": false},
                    {"value": "babs@jensen.org", "type": "home", "primary": true}
                ]);
                doc
            }),
            refused: ScimType::InvalidValue,
        },
        // case-insensitive-ops
        Case {
            rule: Rule::CaseInsensitiveOps,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "Replace", "path": "active", "value": false}]),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": false})),
            refused: ScimType::InvalidSyntax,
        },
        // blank-path
        Case {
            rule: Rule::BlankPath,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "add", "path": "", "value": {"title": "Guide"}}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA], "userName": "jdoe", "active": true, "title": "Guide"
            })),
            refused: ScimType::InvalidPath,
        },
        // path-keys-in-patch-value
        Case {
            rule: Rule::PathKeysInPatchValue,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "value": {"name.givenName": "Kkom"}}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA], "userName": "jdoe", "active": true,
                "name": {"givenName": "Kkom"}
            })),
            refused: ScimType::InvalidPath,
        },
        Case {
            rule: Rule::PathKeysInPatchValue,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "value": {format!("{ENT}:employeeNumber"): "Aklq"}}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA, ENT], "userName": "jdoe", "active": true,
                ENT: {"employeeNumber": "Aklq"}
            })),
            refused: ScimType::InvalidPath,
        },
        Case {
            rule: Rule::PathKeysInPatchValue,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "value": {USER_SCHEMA: {"title": "Guide"}}}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA], "userName": "jdoe", "active": true, "title": "Guide"
            })),
            refused: ScimType::InvalidPath,
        },
        Case {
            rule: Rule::PathKeysInPatchValue,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "add", "value": {ENT: {"manager.value": MANAGER_ID}}}]),
            ),
            accepted: Doc(with_manager(json!({"value": MANAGER_ID}))),
            refused: ScimType::InvalidPath,
        },
        // qualified-keys-in-resource
        Case {
            rule: Rule::QualifiedKeysInResource,
            input: Create(
                "User",
                json!({"schemas": [USER_SCHEMA], format!("{USER_SCHEMA}:userName"): "jdoe"}),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe"})),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::QualifiedKeysInResource,
            input: Create(
                "User",
                json!({"schemas": [USER_SCHEMA], USER_SCHEMA: {"userName": "jdoe"}}),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe"})),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::QualifiedKeysInResource,
            input: Create(
                "User",
                json!({
                    "schemas": [USER_SCHEMA, ENT], "userName": "jdoe",
                    format!("{ENT}:department"): "Sales"
                }),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA, ENT], "userName": "jdoe", ENT: {"department": "Sales"}
            })),
            refused: ScimType::InvalidValue,
        },
        // read-only-in-patch-value
        Case {
            rule: Rule::ReadOnlyInPatchValue,
            input: Patch(
                "Group",
                group(),
                json!([{"op": "replace", "value": {
                    "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
                    "displayName": "Test SCIMv2"
                }}]),
            ),
            accepted: Doc(json!({"schemas": [GROUP_SCHEMA], "displayName": "Test SCIMv2"})),
            refused: ScimType::Mutability,
        },
        Case {
            rule: Rule::ReadOnlyInPatchValue,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "value": {"meta": {"resourceType": "User"}, "active": false}}]),
            ),
            accepted: Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "active": false})),
            refused: ScimType::Mutability,
        },
        // create-on-value-filter
        Case {
            rule: Rule::CreateOnValueFilter,
            input: Patch(
                "User",
                plain_user(),
                json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "j@x"}]),
            ),
            accepted: Doc(json!({
                "schemas": [USER_SCHEMA], "userName": "jdoe", "active": true,
                "emails": [{"type": "work", "value": "j@x"}]
            })),
            refused: ScimType::NoTarget,
        },
        // blank-clears-reference
        Case {
            rule: Rule::BlankClearsReference,
            input: Patch(
                "User",
                user(),
                json!([{"op": "replace", "path": MANAGER, "value": {"value": ""}}]),
            ),
            accepted: Doc(without_manager()),
            refused: ScimType::InvalidValue,
        },
        Case {
            rule: Rule::BlankClearsReference,
            input: Patch(
                "User",
                user(),
                json!([{"op": "replace", "path": format!("{MANAGER}.value"), "value": ""}]),
            ),
            accepted: Doc(without_manager()),
            refused: ScimType::InvalidValue,
        },
        // remove-by-value
        Case {
            rule: Rule::RemoveByValue,
            input: Patch(
                "Group",
                group(),
                json!([{"op": "remove", "path": "members", "value": [{"value": BOB}]}]),
            ),
            accepted: Expect::Members {
                add: &[],
                remove: &[BOB],
            },
            refused: ScimType::InvalidSyntax,
        },
        Case {
            rule: Rule::RemoveByValue,
            input: Patch(
                "User",
                user(),
                json!([{"op": "remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]),
            ),
            accepted: Doc({
                let mut doc = user();
                doc["emails"] =
                    json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]);
                doc
            }),
            refused: ScimType::InvalidSyntax,
        },
        // legacy-adscim-schema
        Case {
            rule: Rule::LegacyAdscimSchema,
            input: Create(
                "Group",
                json!({"schemas": [GROUP_SCHEMA, ADSCIM_GROUP], "displayName": "Sales"}),
            ),
            accepted: Doc(json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales"})),
            refused: ScimType::InvalidValue,
        },
        // sub-attribute-after-value-filter
        Case {
            rule: Rule::SubAttributeAfterValueFilter,
            input: Input::Filter(r#"emails[type eq "work"].value eq "j@x""#),
            accepted: Expect::Filter(r#"emails[type eq "work" and value eq "j@x"]"#),
            refused: ScimType::InvalidFilter,
        },
    ]
}

#[test]
fn every_rule_is_accepted_where_allowed_and_refused_elsewhere() {
    let cases = cases();
    for rule in Rule::ALL {
        assert!(
            cases.iter().any(|c| c.rule == rule),
            "no case for rule {rule}"
        );
    }
    for (i, case) in cases.iter().enumerate() {
        let rule = case.rule;
        for profile in Profile::ALL {
            let got = run(&case.input, profile);
            let at = format!("case {i} ({rule}) under {profile}");
            if profile.allows(rule) {
                let got = got.unwrap_or_else(|e| panic!("{at}: refused: {e}"));
                assert_eq!(got, expected(&case.accepted), "{at}");
                continue;
            }
            let e = match got {
                Ok(v) => panic!("{at}: accepted as {v:?}"),
                Err(e) => e,
            };
            assert_eq!(e.status, 400, "{at}: {e}");
            assert_eq!(e.scim_type, Some(case.refused), "{at}: {e}");
            assert!(
                e.detail.ends_with(&format!(
                    "the {profile} profile does not accept {} (rule {rule})",
                    rule.accepts()
                )),
                "{at}: {}",
                e.detail
            );
        }
    }
}

/// What a refusal says in full, for one rule on each path: the error the
/// input would get without the rule, then which profile and rule refused it.
#[test]
fn refusals_read_as_the_rfc_error_then_the_rule() {
    let detail = |input: Input| match run(&input, Profile::Strict) {
        Ok(v) => panic!("accepted as {v:?}"),
        Err(e) => e.detail,
    };
    assert_eq!(
        detail(Input::Create(
            "User",
            json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "emails": {"value": "j@x"}})
        )),
        "attribute 'emails' must be an array (it is multi-valued), not an object; the strict \
         profile does not accept a single value for a multi-valued attribute (rule \
         single-value-for-multi-valued)"
    );
    assert_eq!(
        detail(Input::Patch(
            "User",
            plain_user(),
            json!([{"op": "Replace", "path": "active", "value": false}])
        )),
        "Operations[0]: operation 'Replace' must be written 'replace'; the strict profile does \
         not accept PATCH 'op' names other than 'add', 'remove' and 'replace' (rule \
         case-insensitive-ops)"
    );
    assert_eq!(
        detail(Input::Filter(r#"emails[type eq "work"].value eq "j@x""#)),
        "a sub-attribute comparison after a value filter (write it inside the brackets) at \
         position 22 in filter; the strict profile does not accept a comparison after a value \
         filter (rule sub-attribute-after-value-filter)"
    );
}

/// Under strict, what the RFC allows still works, and what the rules
/// tolerated only is not needed to say the same thing.
#[test]
fn strict_accepts_the_rfc_forms_of_the_same_requests() {
    let strict = |input: Input| run(&input, Profile::Strict).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        strict(Input::Patch(
            "Group",
            group(),
            json!([{"op": "remove", "path": format!("members[value eq \"{BOB}\"]")}])
        )),
        expected(&Expect::Members {
            add: &[],
            remove: &[BOB]
        })
    );
    assert_eq!(
        strict(Input::Patch(
            "User",
            user(),
            json!([{"op": "remove", "path": MANAGER}])
        )),
        Got::Doc({
            let mut doc = user();
            doc[ENT] = json!({"department": "Tour Operations"});
            doc
        })
    );
    // A null value clears under every profile (RFC 7643 §2.5).
    assert_eq!(
        strict(Input::Patch(
            "User",
            user(),
            json!([{"op": "replace", "path": MANAGER, "value": {"value": null}}])
        )),
        strict(Input::Patch(
            "User",
            user(),
            json!([{"op": "replace", "path": MANAGER, "value": null}])
        ))
    );
    // readOnly input in a POST is ignored by RFC 7644 §3.5.1, not by a rule.
    assert_eq!(
        strict(Input::Create(
            "User",
            json!({"schemas": [USER_SCHEMA], "id": "x", "meta": {}, "userName": "jdoe"})
        )),
        Got::Doc(json!({"schemas": [USER_SCHEMA], "userName": "jdoe"}))
    );
    // So are readOnly sub-attributes in a PATCH value, and `schemas` keys.
    assert_eq!(
        strict(Input::Patch(
            "User",
            plain_user(),
            json!([{"op": "add", "value": {
                "schemas": [USER_SCHEMA],
                ENT: {"manager": {"value": MANAGER_ID, "displayName": "Boss"}}
            }}])
        )),
        Got::Doc({
            let mut doc = plain_user();
            doc["schemas"] = json!([USER_SCHEMA, ENT]);
            doc[ENT] = json!({"manager": {"value": MANAGER_ID}});
            doc
        })
    );
    // canonicalValues are suggestions (RFC 7643 §7).
    assert_eq!(
        strict(Input::Create(
            "User",
            json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "emails": [{"value": "j@x", "type": "WindowsLive"}]})
        )),
        Got::Doc(
            json!({"schemas": [USER_SCHEMA], "userName": "jdoe", "emails": [{"value": "j@x", "type": "WindowsLive"}]})
        )
    );
    // And a value filter that matches is not a created value.
    assert!(matches!(
        strict(Input::Patch(
            "User",
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x"}])
        )),
        Got::Doc(_)
    ));
}
