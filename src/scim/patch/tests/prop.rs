//! Properties: parsing and applying arbitrary operations never panics; a
//! successful result is an object whose `schemas` starts with the core
//! schema; and whenever `validate` accepts a result it returns it unchanged,
//! i.e. the engine writes canonical documents. Paths and keys are drawn mostly from real attribute names, so the
//! engine's deep branches are reached, not just its path errors.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::{group, plain_user, user};
use crate::scim::patch::{apply, parse_request};
use crate::scim::profile::Profile;
use crate::scim::schema::{validate, Registry, WriteMode};

const PATHS: &[&str] = &[
    "",
    "userName",
    "displayName",
    "active",
    "name",
    "name.givenName",
    "NAME.familyname",
    "emails",
    "emails.value",
    "emails.primary",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"home\" and primary eq true].display",
    "emails[value co \"@\"]",
    "phoneNumbers[type eq \"mobile\"].value",
    "addresses[type eq \"work\" and country eq \"US\"].streetAddress",
    "roles",
    "groups",
    "id",
    "meta.version",
    "members",
    "members[value eq \"a\"]",
    "members[value eq \"a\" or value eq \"b\"]",
    "members[display eq \"a\"]",
    "members.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"]",
    "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
    "department",
    "x509Certificates[value eq \"AA==\"]",
    "nope",
    "emails[",
];

const KEYS: &[&str] = &[
    "value",
    "Value",
    "type",
    "primary",
    "display",
    "givenName",
    "familyName",
    "userName",
    "active",
    "emails",
    "members",
    "id",
    "schemas",
    "meta",
    "manager",
    "department",
    "name.givenName",
    "emails[type eq \"work\"].value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "$ref",
    "bogus",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "", "True", "false", "work", "home", "a", "b", "x@y.org", "AA=="
        ])
        .prop_map(|s| json!(s)),
        "[a-zA-Z0-9 @.]{0,8}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "add", "Replace", "remove", "REMOVE", "Add", "replace", "copy",
        ]),
        prop_oneof![
            3 => prop::sample::select(PATHS).prop_map(|p| Some(p.to_string())),
            1 => Just(None),
            1 => "[a-zA-Z\\[\\]\\. \"=:]{0,16}".prop_map(Some),
        ],
        prop::option::weighted(0.9, value()),
    )
        .prop_map(|(op, path, value)| {
            let mut object = Map::new();
            object.insert("op".into(), json!(op));
            if let Some(path) = path {
                object.insert("path".into(), json!(path));
            }
            if let Some(value) = value {
                object.insert("value".into(), value);
            }
            Value::Object(object)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn apply_never_panics(ops in prop::collection::vec(operation(), 1..6), which in 0usize..3) {
        let (kind, doc) = match which {
            0 => ("User", user()),
            1 => ("User", plain_user()),
            _ => ("Group", group()),
        };
        let reg = Registry::new();
        let rt = reg.resource_type(kind).unwrap();
        // Each operation is parsed on its own, so one malformed operation
        // does not keep the others from reaching `apply`.
        let parsed: Vec<_> = ops
            .into_iter()
            .filter_map(|op| {
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [op]
                });
                parse_request(&body, Profile::Lenient).ok()
            })
            .flatten()
            .collect();
        let whole = apply(&reg, rt, &doc, &parsed, Profile::Lenient);
        // Also one operation at a time, carrying successes forward, so that
        // later operations meet documents earlier ones have reshaped.
        let mut current = doc.clone();
        for op in &parsed {
            if let Ok(out) = apply(&reg, rt, &current, std::slice::from_ref(op), Profile::Lenient) {
                current = out.doc;
            }
        }
        for out in whole.ok().map(|o| o.doc).into_iter().chain([current]) {
            prop_assert!(out.is_object());
            prop_assert_eq!(&out["schemas"][0], &json!(rt.schema));
            // validate must judge whatever the engine produced without
            // panicking, and find nothing to normalize in what it accepts.
            if let Ok(v) = validate(&reg, rt, &out, WriteMode::Replace { existing: &doc }, Profile::Lenient) {
                prop_assert_eq!(&v, &out);
            }
        }
    }

    /// A profile only takes leniencies away: whatever it accepts, it reads
    /// as `lenient` does, and what `lenient` stores needs no rule to be
    /// read back (so re-validating it under any profile changes nothing).
    #[test]
    fn profiles_refuse_or_agree_with_lenient(ops in prop::collection::vec(operation(), 1..4), which in 0usize..3) {
        let (kind, doc) = match which {
            0 => ("User", user()),
            1 => ("User", plain_user()),
            _ => ("Group", group()),
        };
        let reg = Registry::new();
        let rt = reg.resource_type(kind).unwrap();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops
        });
        let run = |profile: Profile| {
            let ops = parse_request(&body, profile)?;
            apply(&reg, rt, &doc, &ops, profile)
        };
        let lenient = run(Profile::Lenient);
        for profile in [Profile::Okta, Profile::Entra, Profile::Strict] {
            if let Ok(out) = run(profile) {
                prop_assert_eq!(Some(&out), lenient.as_ref().ok(), "{}", profile);
            }
        }
        if let Ok(out) = &lenient {
            let mode = WriteMode::Replace { existing: &doc };
            if let Ok(v) = validate(&reg, rt, &out.doc, mode, Profile::Lenient) {
                prop_assert_eq!(validate(&reg, rt, &v, mode, Profile::Strict), Ok(v));
            }
        }
    }
}
