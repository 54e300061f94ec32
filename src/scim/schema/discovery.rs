//! JSON for the discovery endpoints: `/Schemas` entries (RFC 7643 §7, as in
//! §8.7) and `/ResourceTypes` entries (RFC 7643 §6, as in §8.6), rendered
//! from the same definitions that drive validation and projection.

use serde_json::{json, Map, Value};

use super::types::{AttrType, AttributeDef, ResourceTypeDef, SchemaDef};

/// Schema URN of schema representations (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// Schema URN of resource type representations (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// The `/Schemas/{id}` representation of `s`. `base_url` is the service's
/// base (e.g. `https://example.com/scim/v2`); a trailing slash is tolerated.
pub fn schema_json(s: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), s.id),
        },
    })
}

/// The `/ResourceTypes/{name}` representation of `rt`.
pub fn resource_type_json(rt: &ResourceTypeDef, base_url: &str) -> Value {
    let mut out = json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", base_url.trim_end_matches('/'), rt.name),
        },
    });
    // Optional in RFC 7643 §6, and §8.6 leaves it out for Group.
    if !rt.extensions.is_empty() {
        let extensions: Vec<Value> = rt
            .extensions
            .iter()
            .map(|e| json!({"schema": e.schema, "required": e.required}))
            .collect();
        if let Some(obj) = out.as_object_mut() {
            obj.insert("schemaExtensions".to_string(), Value::Array(extensions));
        }
    }
    out
}

/// Every characteristic, always: clients (Entra ID's schema discovery among
/// them) should not have to know the RFC's defaults.
fn attribute_json(a: &AttributeDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), a.name.into());
    m.insert("type".into(), a.attr_type.as_str().into());
    m.insert("multiValued".into(), a.multi_valued.into());
    m.insert("description".into(), a.description.into());
    m.insert("required".into(), a.required.into());
    m.insert("caseExact".into(), a.case_exact.into());
    m.insert("mutability".into(), a.mutability.as_str().into());
    m.insert("returned".into(), a.returned.as_str().into());
    m.insert("uniqueness".into(), a.uniqueness.as_str().into());
    if !a.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), a.canonical_values.into());
    }
    if a.attr_type == AttrType::Reference {
        m.insert("referenceTypes".into(), a.reference_types.into());
    }
    if a.attr_type == AttrType::Complex {
        let subs: Vec<Value> = a.sub_attributes.iter().map(attribute_json).collect();
        m.insert("subAttributes".into(), subs.into());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Registry, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    fn attr<'a>(attrs: &'a Value, name: &str) -> &'a Value {
        attrs
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn user_schema_lists_every_characteristic() {
        let reg = Registry::new();
        let user = reg.schema(USER_SCHEMA).expect("user schema");
        let j = schema_json(user, "https://example.com/scim/v2/");
        assert_eq!(j["id"], USER_SCHEMA);
        assert_eq!(j["name"], "User");
        assert_eq!(j["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(j["meta"]["resourceType"], "Schema");
        assert_eq!(
            j["meta"]["location"],
            format!("https://example.com/scim/v2/Schemas/{USER_SCHEMA}")
        );
        let user_name = attr(&j["attributes"], "userName");
        assert_eq!(
            user_name,
            &json!({
                "name": "userName", "type": "string", "multiValued": false,
                "description": user_name["description"], "required": true,
                "caseExact": false, "mutability": "readWrite", "returned": "default",
                "uniqueness": "server"
            })
        );
        let password = attr(&j["attributes"], "password");
        assert_eq!(password["mutability"], "writeOnly");
        assert_eq!(password["returned"], "never");
        let profile = attr(&j["attributes"], "profileUrl");
        assert_eq!(profile["referenceTypes"], json!(["external"]));

        let emails = attr(&j["attributes"], "emails");
        assert_eq!(emails["multiValued"], true);
        let email_type = attr(&emails["subAttributes"], "type");
        assert_eq!(
            email_type["canonicalValues"],
            json!(["work", "home", "other"])
        );
        let groups = attr(&j["attributes"], "groups");
        assert_eq!(
            attr(&groups["subAttributes"], "$ref")["referenceTypes"],
            json!(["User", "Group"])
        );
        // Common attributes are not part of any schema (RFC 7643 §3.1).
        assert_eq!(attr(&j["attributes"], "id"), &Value::Null);
    }

    #[test]
    fn enterprise_and_group_schemas_render() {
        let reg = Registry::new();
        let ent = schema_json(
            reg.schema(ENTERPRISE_USER_SCHEMA).expect("ent"),
            "https://x",
        );
        let manager = attr(&ent["attributes"], "manager");
        assert_eq!(
            attr(&manager["subAttributes"], "displayName")["mutability"],
            "readOnly"
        );
        let group = schema_json(reg.schema(GROUP_SCHEMA).expect("group"), "https://x");
        let members = attr(&group["attributes"], "members");
        assert_eq!(
            attr(&members["subAttributes"], "value")["mutability"],
            "immutable"
        );
        assert_eq!(attr(&group["attributes"], "displayName")["required"], true);
    }

    #[test]
    fn resource_types_render_with_extensions() {
        let reg = Registry::new();
        let user = resource_type_json(reg.resource_type("User").expect("User"), "https://x/v2");
        assert_eq!(
            user,
            json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": "User", "name": "User", "endpoint": "/Users",
                "description": "User Account", "schema": USER_SCHEMA,
                "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": "https://x/v2/ResourceTypes/User"}
            })
        );
        let group = resource_type_json(reg.resource_type("Group").expect("Group"), "https://x/v2");
        assert_eq!(group["endpoint"], "/Groups");
        assert!(group.get("schemaExtensions").is_none());
    }
}
