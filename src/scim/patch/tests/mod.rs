//! Tests of the PATCH engine, by theme: the request message (`request`), the
//! RFC 7644 §3.5.2 examples (`rfc`), the recorded request shapes of Okta and
//! Entra ID (`clients`), Group membership (`members`), the engine's rules
//! (`paths`, `values`, and `device` for a made-up resource type) and a
//! never-panics property (`prop`). Helpers live here.

mod clients;
mod device;
mod members;
mod paths;
mod prop;
mod request;
mod rfc;
mod values;

use serde_json::{json, Value};

use super::{apply, parse_request, MemberDelta, Outcome};
use crate::scim::error::{ScimResult, ScimType};
use crate::scim::profile::Profile;
use crate::scim::schema::{
    validate, Registry, WriteMode, ENTERPRISE_USER_SCHEMA as ENT, GROUP_SCHEMA, USER_SCHEMA,
};

pub(super) const MANAGER_ID: &str = "26118915-6090-4610-87e4-49d8ca9f808d";
pub(super) const ALICE: &str = "2819c223-7f76-453a-919d-413861904646";
pub(super) const BOB: &str = "902c246b-6245-4190-8e05-00816be7344a";
pub(super) const CAROL: &str = "6c5bb468-14b2-4183-baf2-06d523e03bd3";

/// A stored User, as `validate` would have produced it.
pub(super) fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENT],
        "userName": "bjensen@example.com",
        "externalId": "bjensen",
        "name": {
            "formatted": "Ms. Barbara J Jensen III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
        "addresses": [{
            "type": "work",
            "streetAddress": "100 Universal City Plaza",
            "locality": "Hollywood",
            "primary": true
        }],
        ENT: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": MANAGER_ID}
        }
    })
}

/// A User without the enterprise extension.
pub(super) fn plain_user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": "jdoe",
        "active": true
    })
}

/// A stored Group: no `members`, they are rows.
pub(super) fn group() -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": "Tour Guides",
        "externalId": "tg-1"
    })
}

/// Parses `{"schemas": [PatchOp], "Operations": ops}` and applies it.
pub(super) fn patch(kind: &str, doc: &Value, ops: Value) -> ScimResult<Outcome> {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    });
    let reg = Registry::new();
    let rt = reg.resource_type(kind).expect("resource type");
    let ops = parse_request(&body, Profile::Lenient)?;
    apply(&reg, rt, doc, &ops, Profile::Lenient)
}

/// Applies to a User, asserts success and that `validate` accepts the result
/// as a replacement of `doc`; returns the validated document.
#[track_caller]
pub(super) fn patch_user(doc: &Value, ops: Value) -> Value {
    let out = patch("User", doc, ops).unwrap_or_else(|e| panic!("patch failed: {e}"));
    assert_eq!(out.members, MemberDelta::default());
    revalidated("User", doc, &out.doc)
}

/// `validate(Replace)` of `new` over `old`, which must succeed and must not
/// change anything but `schemas` normalization: the engine's output is
/// already canonical.
#[track_caller]
pub(super) fn revalidated(kind: &str, old: &Value, new: &Value) -> Value {
    let reg = Registry::new();
    let rt = reg.resource_type(kind).expect("resource type");
    let stored = validate(
        &reg,
        rt,
        new,
        WriteMode::Replace { existing: old },
        Profile::Lenient,
    )
    .unwrap_or_else(|e| panic!("validate refused the patched document {new}: {e}"));
    assert_eq!(&stored, new, "the patched document is not canonical");
    stored
}

/// Asserts a 400 error of `scim_type` whose detail mentions `needle`.
#[track_caller]
pub(super) fn assert_err<T: std::fmt::Debug>(
    result: ScimResult<T>,
    scim_type: ScimType,
    needle: &str,
) {
    match result {
        Ok(v) => panic!("expected {scim_type:?} mentioning {needle:?}, got {v:?}"),
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

/// The members delta of a Group patch, asserting the document is unchanged.
#[track_caller]
pub(super) fn member_delta(ops: Value) -> MemberDelta {
    let doc = group();
    let out = patch("Group", &doc, ops).unwrap_or_else(|e| panic!("patch failed: {e}"));
    assert_eq!(out.doc, doc, "members must never reach the document");
    out.members
}

pub(super) fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
