//! The requests recorded from Okta and Entra ID (`scim-fixtures/*okta*`,
//! `*entra*`), replayed through the engines under their client's profile
//! and under `lenient`: every one must come out exactly the same, accepted
//! or refused. So a client profile lacks no rule its client's recorded
//! traffic needs. (The fixtures themselves are replayed end to end, under
//! `lenient`, by `tests/it/fixtures.rs`.)
//!
//! The replay keeps each resource a step captured, so a PATCH applies to
//! the document the steps before it produced; schemas a step declares join
//! the registry.

use std::collections::HashMap;

use serde_json::Value;

use super::super::Profile;
use crate::scim::error::ScimResult;
use crate::scim::list::ListQuery;
use crate::scim::patch::{apply, parse_request};
use crate::scim::schema::define::{check_against, intern, parse_schema, Declared};
use crate::scim::schema::{validate, Registry, WriteMode};

const OKTA: [(&str, &str); 3] = [
    (
        "patch-okta-user",
        include_str!("../../../../scim-fixtures/patch-okta-user.json"),
    ),
    (
        "patch-okta-groups",
        include_str!("../../../../scim-fixtures/patch-okta-groups.json"),
    ),
    (
        "custom-schema-okta-profile",
        include_str!("../../../../scim-fixtures/custom-schema-okta-profile.json"),
    ),
];

const ENTRA: [(&str, &str); 4] = [
    (
        "patch-entra-user",
        include_str!("../../../../scim-fixtures/patch-entra-user.json"),
    ),
    (
        "patch-entra-groups",
        include_str!("../../../../scim-fixtures/patch-entra-groups.json"),
    ),
    (
        "entra-work-email-match-and-legacy-urn",
        include_str!("../../../../scim-fixtures/entra-work-email-match-and-legacy-urn.json"),
    ),
    (
        "custom-schema-entra-extension",
        include_str!("../../../../scim-fixtures/custom-schema-entra-extension.json"),
    ),
];

/// What one request comes to in the engines.
#[derive(Debug, PartialEq)]
enum Seen {
    Stored(Value),
    Patched(Value, crate::scim::patch::MemberDelta),
    Query(Box<ListQuery>),
}

struct Replay {
    declared: Vec<Declared>,
    reg: Registry,
    /// Stored documents by the name a step captured their id under.
    docs: HashMap<String, Value>,
}

impl Replay {
    fn new() -> Self {
        Replay {
            declared: Vec::new(),
            reg: Registry::new(),
            docs: HashMap::new(),
        }
    }

    /// The outcome of `request` under `profile`, or None for a request the
    /// engines have no part in (discovery, GET by id).
    fn run(&self, request: &Value, profile: Profile) -> Option<ScimResult<Seen>> {
        let method = request["method"].as_str()?;
        let path = request["path"].as_str()?;
        let body = &request["body"];
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let kind = match segments.first() {
            Some(&"Users") => "User",
            Some(&"Groups") => "Group",
            Some(&".search") if method == "POST" => {
                return Some(ListQuery::from_search_request(body, profile).map(query_seen));
            }
            _ => return None,
        };
        let rt = self.reg.resource_type(kind)?;
        let existing = segments.get(1).and_then(|s| self.doc_of(s));
        Some(match (method, segments.len(), segments.get(1)) {
            ("GET", 1, _) => ListQuery::from_pairs(&pairs(query), profile).map(query_seen),
            ("POST", 2, Some(&".search")) => {
                ListQuery::from_search_request(body, profile).map(query_seen)
            }
            ("POST", 1, _) => {
                validate(&self.reg, rt, body, WriteMode::Create, profile).map(Seen::Stored)
            }
            ("PUT", 2, _) => {
                let mode = match existing {
                    Some(existing) => WriteMode::Replace { existing },
                    None => WriteMode::Create,
                };
                validate(&self.reg, rt, body, mode, profile).map(Seen::Stored)
            }
            ("PATCH", 2, _) => {
                let current = existing?;
                parse_request(body, profile).and_then(|ops| {
                    let out = apply(&self.reg, rt, current, &ops, profile)?;
                    let mode = WriteMode::Replace { existing: current };
                    let doc = validate(&self.reg, rt, &out.doc, mode, profile)?;
                    Ok(Seen::Patched(doc, out.members))
                })
            }
            _ => return None,
        })
    }

    fn doc_of(&self, segment: &str) -> Option<&Value> {
        let name = segment.strip_prefix("{{")?.strip_suffix("}}")?;
        self.docs.get(name)
    }

    /// What the step leaves behind for the ones after it.
    fn record(&mut self, step: &Value, outcome: Option<&ScimResult<Seen>>) {
        let request = &step["request"];
        let succeeded = step["response"]["status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s));
        if request["path"] == "/api/v1/schemas" && request["method"] == "POST" && succeeded {
            self.declare(&request["body"]);
        }
        let doc = match outcome {
            Some(Ok(Seen::Stored(doc) | Seen::Patched(doc, _))) => doc.clone(),
            _ => return,
        };
        if let Some(captures) = step["capture"].as_object() {
            for (name, pointer) in captures {
                if pointer == "/id" {
                    self.docs.insert(name.clone(), doc.clone());
                }
            }
        }
        let path = request["path"].as_str().unwrap_or_default();
        if let Some(target) = path.split('/').nth(2) {
            let target = target.split('?').next().unwrap_or_default();
            if let Some(name) = target.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
                self.docs.insert(name.to_string(), doc);
            }
        }
    }

    fn declare(&mut self, body: &Value) {
        let extends = body["extends"].as_str().unwrap_or("User");
        let schema = parse_schema(&body["schema"], "schema").expect("a declared schema parses");
        let decl = Declared {
            extends: intern(extends),
            required: body["required"].as_bool().unwrap_or(false),
            schema,
        };
        check_against(&self.reg, &decl).expect("a declaration the server accepted");
        self.declared.push(decl);
        self.reg = Registry::new().with_declared(&self.declared);
    }
}

fn query_seen(q: ListQuery) -> Seen {
    Seen::Query(Box::new(q))
}

/// A query string's pairs, percent-decoded as the HTTP layer decodes them.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = text.get(i + 1..i + 3).expect("two hex digits after %");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

fn replay(fixtures: &[(&str, &str)], profile: Profile) {
    let mut compared = 0;
    for (name, text) in fixtures {
        let fixture: Value = serde_json::from_str(text).expect("fixture is JSON");
        let mut replay = Replay::new();
        let steps = fixture["steps"].as_array().expect("steps");
        for (i, step) in steps.iter().enumerate() {
            let lenient = replay.run(&step["request"], Profile::Lenient);
            if let Some(lenient) = &lenient {
                let client = replay.run(&step["request"], profile);
                assert_eq!(
                    client.as_ref(),
                    Some(lenient),
                    "{name} step {i}: {profile} and lenient differ on {}",
                    step["request"]
                );
                compared += 1;
            }
            replay.record(step, lenient.as_ref());
        }
    }
    assert!(compared > 20, "only {compared} requests were compared");
}

#[test]
fn okta_accepts_every_recorded_okta_request_as_lenient_does() {
    replay(&OKTA, Profile::Okta);
}

#[test]
fn entra_accepts_every_recorded_entra_request_as_lenient_does() {
    replay(&ENTRA, Profile::Entra);
}

/// The replay is not vacuous: the strict profile refuses some of what both
/// clients were recorded sending.
#[test]
fn strict_differs_from_lenient_on_the_recorded_requests() {
    for fixtures in [&OKTA[..], &ENTRA[..]] {
        let differs = fixtures.iter().any(|(_, text)| {
            let fixture: Value = serde_json::from_str(text).expect("fixture is JSON");
            let mut replay = Replay::new();
            let mut differs = false;
            for step in fixture["steps"].as_array().expect("steps") {
                let lenient = replay.run(&step["request"], Profile::Lenient);
                differs |= replay.run(&step["request"], Profile::Strict) != lenient;
                replay.record(step, lenient.as_ref());
            }
            differs
        });
        assert!(differs);
    }
}
