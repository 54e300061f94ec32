//! The two filter engines agree: `scim::filter::matches` (in memory, over
//! the representation a client reads) and `store::query` (compiled to SQL,
//! over the stored rows) are run over the same documents with every filter
//! of the query corpus, and every disagreement is reported at once.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::query::{add_groups, corpus, group_corpus, hour, Fixture};
use scimd::scim::filter::{self, Filter};
use scimd::scim::list::ListQuery;
use scimd::scim::profile::Profile;
use scimd::scim::resource::{render, Meta, Reference, ResourceInfo};
use scimd::store::orgs::DEFAULT_ORG_ID;
use scimd::store::query::list_groups;

const BASE: &str = "https://scim.example/scim/v2";

/// A resource as the HTTP API renders it (id, meta, references included).
fn representation(
    kind: &str,
    id: &uuid::Uuid,
    doc: &Value,
    meta: &Meta,
    refs_attr: &str,
    refs: Option<&[Reference]>,
) -> Value {
    let id = id.to_string();
    let endpoint = if kind == "User" { "Users" } else { "Groups" };
    let info = ResourceInfo {
        id: &id,
        resource_type: kind,
        created: meta.created,
        last_modified: meta.last_modified,
        version: meta.version,
        location: format!("{BASE}/{endpoint}/{id}"),
    };
    render(doc, &info, refs_attr, refs)
}

/// The names, among `docs`, that the in-memory engine says match `text`.
fn evaluated(f: &Fixture, rt: &str, text: &str, docs: &[(String, Value)]) -> BTreeSet<String> {
    let rt = f.reg.resource_type(rt).unwrap();
    let parsed = Filter::parse(text, Profile::Lenient).unwrap();
    docs.iter()
        .filter(|(_, doc)| filter::matches_resource(&f.reg, rt, &parsed, doc))
        .map(|(name, _)| name.clone())
        .collect()
}

fn report(disagreements: Vec<String>, total: usize) {
    assert!(
        disagreements.is_empty(),
        "{} of {total} filters disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn in_memory_and_sql_filters_agree_on_users() {
    let f = Fixture::new();
    let docs: Vec<(String, Value)> = f
        .users
        .iter()
        .map(|u| {
            let name = u.doc["userName"].as_str().unwrap().to_string();
            (
                name,
                representation("User", &u.id, &u.doc, &u.meta, "groups", None),
            )
        })
        .collect();
    let cases = corpus(&f);
    let total = cases.len();
    let mut disagreements = Vec::new();
    for (text, _) in cases {
        let sql = f.matching(&text);
        let memory = evaluated(&f, "User", &text, &docs);
        if sql != memory {
            disagreements.push(format!(
                "  {text}\n    sql:    {sql:?}\n    memory: {memory:?}"
            ));
        }
    }
    report(disagreements, total);
}

#[test]
fn in_memory_and_sql_filters_agree_on_groups() {
    let f = Fixture::new();
    let admins = add_groups(&f);
    let mut conn = f.db.conn();
    let everything = ListQuery {
        count: Some(1000),
        ..ListQuery::default()
    };
    let all = list_groups(
        &mut conn,
        DEFAULT_ORG_ID,
        &f.reg,
        &everything,
        hour(30),
        true,
    )
    .unwrap();
    let docs: Vec<(String, Value)> = all
        .items
        .iter()
        .map(|g| {
            let refs: Vec<Reference> = g
                .members
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|m| {
                    let endpoint = if m.kind.as_str() == "User" {
                        "Users"
                    } else {
                        "Groups"
                    };
                    Reference {
                        value: m.id.to_string(),
                        reference: format!("{BASE}/{endpoint}/{}", m.id),
                        display: m.display.clone(),
                        kind: m.kind.as_str(),
                    }
                })
                .collect();
            let name = g.doc["displayName"].as_str().unwrap().to_string();
            (
                name,
                representation("Group", &g.id, &g.doc, &g.meta, "members", Some(&refs)),
            )
        })
        .collect();
    let cases = group_corpus(&f, admins);
    let total = cases.len();
    let mut disagreements = Vec::new();
    for (text, _) in cases {
        let q = ListQuery {
            filter: Some(Filter::parse(&text, Profile::Lenient).unwrap()),
            count: Some(1000),
            ..ListQuery::default()
        };
        let sql: BTreeSet<String> =
            list_groups(&mut conn, DEFAULT_ORG_ID, &f.reg, &q, hour(30), false)
                .unwrap()
                .items
                .iter()
                .map(|g| g.doc["displayName"].as_str().unwrap().to_string())
                .collect();
        let memory = evaluated(&f, "Group", &text, &docs);
        if sql != memory {
            disagreements.push(format!(
                "  {text}\n    sql:    {sql:?}\n    memory: {memory:?}"
            ));
        }
    }
    report(disagreements, total);
}
