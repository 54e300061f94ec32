//! Resource types an organization declares at runtime (issue 16): a name,
//! an endpoint of its own under `/scim/v2`, and a core schema, in the
//! representations `/ResourceTypes` and `/Schemas` serve (RFC 7643 §6, §7).
//! Checked here before they are stored; joined to a registry with
//! [`Registry::with_declared_types`].

use serde_json::Value;

use super::define::{intern, parse_schema, text_field, DefinitionError};
use super::registry::Registry;
use super::types::{ResourceTypeDef, SchemaDef};

/// The endpoints scimd serves itself: a declared type may not shadow one.
const RESERVED_ENDPOINTS: [&str; 8] = [
    "/Users",
    "/Groups",
    "/Me",
    "/Bulk",
    "/Schemas",
    "/ResourceTypes",
    "/ServiceProviderConfig",
    "/.search",
];

const MAX_NAME: usize = 64;
const MAX_DESCRIPTION: usize = 1024;

/// A declared resource type and its core schema.
#[derive(Debug, Clone)]
pub struct DeclaredType {
    pub resource_type: ResourceTypeDef,
    pub schema: SchemaDef,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads a resource type (`rt`, as `/ResourceTypes` serves one) and its
/// core schema (`schema`, as `/Schemas` serves one), or every problem
/// found, each naming its field.
pub fn parse_resource_type(
    rt: &Value,
    schema: &Value,
) -> Result<DeclaredType, Vec<DefinitionError>> {
    let mut errors = Vec::new();
    let at = "resourceType";
    let Some(obj) = rt.as_object() else {
        return Err(vec![DefinitionError::new(at, "must be a JSON object")]);
    };
    for key in obj.keys() {
        let known = [
            "schemas",
            "id",
            "name",
            "endpoint",
            "description",
            "schema",
            "schemaExtensions",
            "meta",
        ];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                "not a characteristic of a resource type (RFC 7643 §6)",
            ));
        }
    }
    let name = text_field(obj, "name", at, MAX_NAME, &mut errors);
    let name = match name {
        Some(n) if valid_name(n) => Some(n),
        Some(n) => {
            errors.push(DefinitionError::new(
                format!("{at}.name"),
                format!("{n:?}: a letter, then letters, digits, '_' or '-' (at most {MAX_NAME})"),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(format!("{at}.name"), "required"));
            None
        }
    };
    if let (Some(id), Some(n)) = (text_field(obj, "id", at, MAX_NAME, &mut errors), name) {
        if id != n {
            errors.push(DefinitionError::new(
                format!("{at}.id"),
                "when present, must equal name",
            ));
        }
    }
    let endpoint = match text_field(obj, "endpoint", at, MAX_NAME + 1, &mut errors) {
        Some(e) if e.strip_prefix('/').is_some_and(valid_name) => {
            if RESERVED_ENDPOINTS.iter().any(|r| r.eq_ignore_ascii_case(e)) {
                errors.push(DefinitionError::new(
                    format!("{at}.endpoint"),
                    format!("{e} is served by scimd itself"),
                ));
                None
            } else {
                Some(e)
            }
        }
        Some(e) => {
            errors.push(DefinitionError::new(
                format!("{at}.endpoint"),
                format!("{e:?}: '/' and a name (letters, digits, '_' or '-'), e.g. \"/Agents\""),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(format!("{at}.endpoint"), "required"));
            None
        }
    };
    let description = text_field(obj, "description", at, MAX_DESCRIPTION, &mut errors);
    let core = text_field(obj, "schema", at, 300, &mut errors);
    match obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemaExtensions"))
        .map(|(_, v)| v)
    {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(_) => errors.push(DefinitionError::new(
            format!("{at}.schemaExtensions"),
            "extensions are declared on their own, after the type: POST /api/v1/schemas with \"extends\": \"<the type's name>\"",
        )),
    }
    let parsed = match parse_schema(schema, "schema") {
        Ok(s) => Some(s),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    if let (Some(core), Some(s)) = (core, &parsed) {
        if !core.eq_ignore_ascii_case(s.id) {
            errors.push(DefinitionError::new(
                format!("{at}.schema"),
                format!("must be the core schema's id, {}", s.id),
            ));
        }
    } else if core.is_none() {
        errors.push(DefinitionError::new(
            format!("{at}.schema"),
            "required: the core schema's URN",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(name), Some(endpoint), Some(schema)) = (name, endpoint, parsed) else {
        return Err(errors);
    };
    Ok(DeclaredType {
        resource_type: ResourceTypeDef {
            name: intern(name),
            endpoint: intern(endpoint),
            description: intern(description.unwrap_or("")),
            schema: schema.id,
            extensions: Vec::new(),
        },
        schema,
    })
}

/// Checks `t` against the registry it would join: its name, endpoint and
/// core schema are new there (case-insensitively), and no core attribute is
/// named like a common attribute.
pub fn check_type_against(base: &Registry, t: &DeclaredType) -> Result<(), Vec<DefinitionError>> {
    let mut errors = Vec::new();
    let rt = &t.resource_type;
    if base.resource_type(rt.name).is_some() {
        errors.push(DefinitionError::new(
            "resourceType.name",
            format!("{} is already a resource type here", rt.name),
        ));
    }
    if base.resource_type_by_endpoint(rt.endpoint).is_some() {
        errors.push(DefinitionError::new(
            "resourceType.endpoint",
            format!("{} is already served", rt.endpoint),
        ));
    }
    if base.schema(t.schema.id).is_some() {
        errors.push(DefinitionError::new(
            "schema.id",
            format!("{} is already a schema here", t.schema.id),
        ));
    }
    let common = super::common::common_attributes();
    for a in &t.schema.attributes {
        if common.iter().any(|c| c.name.eq_ignore_ascii_case(a.name))
            || a.name.eq_ignore_ascii_case(super::SCHEMAS_ATTR)
        {
            errors.push(DefinitionError::new(
                format!("schema.attributes[{}]", a.name),
                "clashes with a common attribute (RFC 7643 §3.1)",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl Registry {
    /// This registry with `types` added, each with its core schema.
    pub fn with_declared_types(&self, types: &[DeclaredType]) -> Registry {
        if types.is_empty() {
            return self.with_declared(&[]);
        }
        let mut schemas = self.schemas().to_vec();
        let mut resource_types = self.resource_types().to_vec();
        for t in types {
            schemas.push(t.schema.clone());
            resource_types.push(t.resource_type.clone());
        }
        // Their core schemas are declared: their values are kept one per
        // row like a declared extension's.
        let mut declared = self.declared_ids().to_vec();
        declared.extend(types.iter().map(|t| t.schema.id));
        Registry::with_definitions(schemas, resource_types)
            .with_max_values(self.max_values())
            .with_undeclared_ignored(self.ignores_undeclared())
            .with_declared_ids(declared)
            .with_policy(self.policy_arc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent() -> (Value, Value) {
        (
            json!({"name": "Agent", "endpoint": "/Agents", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent"}),
            json!({"id": "urn:ietf:params:scim:schemas:core:2.0:Agent", "attributes": [
                {"name": "name", "type": "string", "required": true},
                {"name": "active", "type": "boolean"}
            ]}),
        )
    }

    #[test]
    fn a_resource_type_joins_the_registry_with_its_endpoint() {
        let (rt, schema) = agent();
        let t = parse_resource_type(&rt, &schema).expect("valid");
        let base = Registry::new();
        check_type_against(&base, &t).expect("new");
        let reg = base.with_declared_types(std::slice::from_ref(&t));
        let found = reg.resource_type_by_endpoint("/agents").expect("served");
        assert_eq!(found.name, "Agent");
        assert!(reg
            .schema("urn:ietf:params:scim:schemas:core:2.0:agent")
            .is_some());
        assert!(check_type_against(&reg, &t).is_err(), "declared twice");
    }

    #[test]
    fn bad_resource_types_name_each_problem() {
        let (_, schema) = agent();
        for (rt, field) in [
            (
                json!({"name": "Agent", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent"}),
                "resourceType.endpoint",
            ),
            (
                json!({"name": "Agent", "endpoint": "Agents", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent"}),
                "resourceType.endpoint",
            ),
            (
                json!({"name": "9", "endpoint": "/Agents", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent"}),
                "resourceType.name",
            ),
            (
                json!({"name": "Agent", "endpoint": "/Agents", "schema": "urn:x:y:z"}),
                "resourceType.schema",
            ),
            (
                json!({"name": "Agent", "endpoint": "/Agents", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent", "bogus": 1}),
                "resourceType.bogus",
            ),
            (
                json!({"name": "Agent", "endpoint": "/Agents", "schema": "urn:ietf:params:scim:schemas:core:2.0:Agent",
                    "schemaExtensions": [{"schema": "urn:x:y:z", "required": false}]}),
                "resourceType.schemaExtensions",
            ),
        ] {
            let e = parse_resource_type(&rt, &schema).expect_err(field);
            assert!(e.iter().any(|e| e.path == field), "{field}: {e:?}");
        }
        let user_core = json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": [{"name": "a", "type": "string"}]});
        let rt = json!({"name": "Thing", "endpoint": "/Things", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"});
        assert!(
            parse_resource_type(&rt, &user_core).is_err(),
            "the RFC's URNs stay reserved"
        );
    }
}
