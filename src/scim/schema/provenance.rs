//! scimd's provenance extension (issue 17): which connector created a
//! resource and which one owns it now. Read-only, kept in columns rather
//! than in the document (`scim::resource::Origin`), and added to a
//! representation when it is rendered; a client sending it has it ignored
//! like any read-only attribute (RFC 7644 §3.5.1).

use super::types::{complex, string, SchemaDef};

pub const PROVENANCE_SCHEMA: &str = "urn:scimd:params:scim:schemas:extension:1.0:Provenance";

fn connector_ref(name: &'static str, description: &'static str) -> super::types::AttributeDef {
    complex(
        name,
        description,
        vec![
            string("value", "The connector's id.").read_only(),
            string("display", "The connector's name.").read_only(),
        ],
    )
    .read_only()
}

pub fn provenance_schema() -> SchemaDef {
    SchemaDef {
        id: PROVENANCE_SCHEMA,
        name: "Provenance",
        description: "The scimd connectors this resource came from. Absent for a resource created by a credential with no connector.",
        attributes: vec![
            connector_ref(
                "createdBy",
                "The connector whose token created the resource.",
            ),
            connector_ref(
                "owner",
                "The connector that may change the resource under the 'owned' policy.",
            ),
        ],
    }
}

/// Adds the provenance extension to a document about to be rendered, when
/// a connector created or owns the resource: `{"value": id, "display":
/// name}` for each (no `display` for a connector since deleted).
pub fn add(
    policy: &crate::scim::policy::OrgPolicy,
    origin: &crate::scim::resource::Origin,
    doc: &mut serde_json::Value,
) {
    use serde_json::{json, Map, Value};
    if origin.created_by.is_none() && origin.owner.is_none() {
        return;
    }
    let named = |id: uuid::Uuid| -> Value {
        match policy.connector_name(id) {
            Some(name) => json!({"value": id.to_string(), "display": name}),
            None => json!({"value": id.to_string()}),
        }
    };
    let mut ext = Map::new();
    if let Some(c) = origin.created_by {
        ext.insert("createdBy".into(), named(c));
    }
    if let Some(c) = origin.owner {
        ext.insert("owner".into(), named(c));
    }
    let Some(m) = doc.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(schemas)) = m.get_mut("schemas") {
        if !schemas.iter().any(|s| s == PROVENANCE_SCHEMA) {
            schemas.push(Value::String(PROVENANCE_SCHEMA.into()));
        }
    }
    m.insert(PROVENANCE_SCHEMA.into(), Value::Object(ext));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::policy::{ConnectorPolicy, OrgPolicy};
    use crate::scim::resource::Origin;
    use serde_json::json;

    #[test]
    fn names_the_connectors_and_lists_the_schema() {
        let (a, gone) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let mut policy = OrgPolicy::default();
        policy.connectors.insert(
            a,
            ConnectorPolicy {
                name: "entra".into(),
                ownership: None,
                profile: crate::scim::profile::Profile::Entra,
                rate_limit: None,
            },
        );
        let mut doc =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u"});
        let origin = Origin {
            created_by: Some(gone),
            owner: Some(a),
            external_id_by: None,
        };
        add(&policy, &origin, &mut doc);
        assert_eq!(doc["schemas"][1], PROVENANCE_SCHEMA);
        assert_eq!(
            doc[PROVENANCE_SCHEMA],
            json!({"createdBy": {"value": gone.to_string()}, "owner": {"value": a.to_string(), "display": "entra"}})
        );
    }

    #[test]
    fn its_attributes_have_paths_clients_can_write() {
        // A URN ending in a version (`…:provenance:1.0`) made the SCIM
        // checkers' path parsers fail on `…:1.0:owner`: the URN ends in a
        // name, like RFC 7643's own.
        let p = crate::scim::path::AttrPath::parse(&format!("{PROVENANCE_SCHEMA}:owner.value"))
            .expect("parses");
        assert_eq!(p.attr, "owner");
        assert!(PROVENANCE_SCHEMA
            .rsplit(':')
            .next()
            .is_some_and(|n| n.starts_with(char::is_alphabetic)));
    }

    #[test]
    fn leaves_a_resource_no_connector_made_alone() {
        let mut doc = json!({"schemas": ["x"], "userName": "u"});
        add(&OrgPolicy::default(), &Origin::default(), &mut doc);
        assert_eq!(doc, json!({"schemas": ["x"], "userName": "u"}));
    }
}
