//! Component schemas of the admin API (`/api/v1`) and the operational
//! endpoints: what `crate::service::tokens` and `crate::http::admin` serialise.

use serde_json::{json, Map, Value};

use super::builder::schema;
use crate::auth::scope::Scope;

const DATE_TIME: &str = "date-time";

fn nullable_time() -> Value {
    json!({ "type": ["string", "null"], "format": DATE_TIME })
}

/// Adds the admin and operational component schemas to `out`.
pub fn add(out: &mut Map<String, Value>) {
    out.insert("ApiError".into(), api_error());
    out.insert("Scope".into(), scope());
    out.insert("CreateTokenRequest".into(), create_token_request());
    out.insert("RotateRequest".into(), rotate_request());
    out.insert("Token".into(), token());
    out.insert(
        "CreatedToken".into(),
        json!({
            "description": "A token with its value: the only time the value is shown.",
            "allOf": [
                schema("Token"),
                {
                    "type": "object",
                    "required": ["token"],
                    "properties": { "token": { "type": "string", "examples": ["scimd_…"] } },
                },
            ],
        }),
    );
    out.insert("DeclareSchemaRequest".into(), declare_schema_request());
    out.insert("DeclaredSchema".into(), declared_schema());
    out.insert(
        "DeclareResourceTypeRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["resourceType", "schema"],
            "properties": {
                "resourceType": {
                    "type": "object",
                    "description": "As `/ResourceTypes` serves one: `name`, `endpoint` (e.g. \
                                    `/Agents`), `schema` (the core schema's URN), `description`.",
                },
                "schema": { "type": "object", "description": "The core schema, as `/Schemas` serves one." },
            },
        }),
    );
    out.insert(
        "DeclaredResourceType".into(),
        json!({
            "type": "object",
            "required": ["name", "endpoint", "resourceType", "schema", "created_at", "updated_at"],
            "properties": {
                "name": { "type": "string" },
                "endpoint": { "type": "string" },
                "resourceType": { "type": "object" },
                "schema": { "type": "object" },
                "created_at": { "type": "string", "format": DATE_TIME },
                "updated_at": { "type": "string", "format": DATE_TIME },
            },
        }),
    );
    out.insert(
        "Settings".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["undeclared_attributes"],
            "properties": {
                "undeclared_attributes": { "type": "string", "enum": ["reject", "ignore"], "default": "reject" },
            },
        }),
    );
    out.insert("AuditEntry".into(), audit_entry());
    out.insert("AuditPage".into(), audit_page());
    out.insert("Overview".into(), overview());
    out.insert(
        "Status".into(),
        json!({
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": { "type": "string", "examples": ["ok", "ready", "unavailable"] },
                "message": { "type": "string" },
            },
        }),
    );
}

fn api_error() -> Value {
    json!({
        "type": "object",
        "description": "An admin API error. Validation errors list the fields.",
        "required": ["error", "message"],
        "properties": {
            "error": {
                "type": "string",
                "examples": ["validation_failed", "bad_request", "unauthorized", "forbidden",
                             "not_found", "conflict", "unavailable"],
            },
            "message": { "type": "string" },
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {
                        "field": { "type": "string" },
                        "message": { "type": "string" },
                    },
                },
            },
        },
    })
}

fn scope() -> Value {
    let names: Vec<&str> = Scope::EVERY.iter().map(|s| s.as_str()).collect();
    json!({
        "type": "string",
        "enum": names,
        "description": "`all` includes every scope; `admin:write` includes `admin:read` and \
                        `admin:scim`; `connect:write` includes `connect:read`.",
    })
}

fn create_token_request() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "scopes"],
        "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 100 },
            "scopes": { "type": "array", "minItems": 1, "items": schema("Scope") },
            "expires_at": { "type": "string", "format": DATE_TIME, "description": "RFC 3339, in the future." },
            "rate_limit": schema("RateLimit"),
        },
        "examples": [{ "name": "okta", "scopes": ["admin:scim"] }],
    })
}

fn rotate_request() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "grace_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 86400,
                "default": 0,
                "description": "How long the old value keeps working.",
            },
        },
    })
}

fn token() -> Value {
    json!({
        "type": "object",
        "description": "A token as the API shows it: never its value or hash.",
        "required": ["id", "name", "scopes", "created_at", "created_by", "expired", "expires_soon"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "name": { "type": "string" },
            "scopes": { "type": "array", "items": schema("Scope") },
            "created_at": { "type": "string", "format": DATE_TIME },
            "expires_at": nullable_time(),
            "last_used_at": nullable_time(),
            "revoked_at": nullable_time(),
            "created_by": { "type": "string" },
            "last_used_from": { "type": ["string", "null"] },
            "expired": { "type": "boolean" },
            "expires_soon": { "type": "boolean", "description": "Expires within 7 days." },
            "connector_id": { "type": "string", "format": "uuid", "description": "The connector it belongs to; absent for a token without one." },
            "rate_limit": schema("RateLimit"),
        },
    })
}

fn declare_schema_request() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["extends", "schema"],
        "properties": {
            "extends": {
                "type": "string",
                "description": "The resource type extended: `User`, `Group` or a declared type's name.",
                "examples": ["User", "Group", "Agent"],
            },
            "required": {
                "type": "boolean",
                "default": false,
                "description": "Whether every resource of the type must carry the extension.",
            },
            "schema": {
                "type": "object",
                "description": "An RFC 7643 §7 schema: `id` (a URN), optional `name` and \
                                `description`, and `attributes`.",
            },
        },
        "examples": [{
            "extends": "User",
            "schema": {
                "id": "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User",
                "attributes": [{ "name": "costCenterCode", "type": "string" }],
            },
        }],
    })
}

fn declared_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "extends", "required", "schema", "created_at", "updated_at"],
        "properties": {
            "id": { "type": "string" },
            "extends": { "type": "string" },
            "required": { "type": "boolean" },
            "schema": { "type": "object", "description": "As `/Schemas` serves it." },
            "created_at": { "type": "string", "format": DATE_TIME },
            "updated_at": { "type": "string", "format": DATE_TIME },
        },
    })
}

fn audit_entry() -> Value {
    json!({
        "type": "object",
        "required": ["id", "at", "actor", "action", "resource_type", "resource_id", "status"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "at": { "type": "string", "format": DATE_TIME },
            "actor": {
                "type": "object",
                "properties": {
                    "token_id": { "type": ["string", "null"], "format": "uuid" },
                    "name": { "type": "string" },
                    "connector_id": { "type": ["string", "null"], "format": "uuid" },
                },
            },
            "request_id": { "type": "string", "description": "The `X-Request-Id` of the request that made the change (absent for the command line)." },
            "action": { "type": "string", "examples": ["user.create", "token.revoke"] },
            "resource_type": { "type": "string" },
            "resource_id": { "type": "string" },
            "status": { "type": "integer" },
            "details": {
                "type": "object",
                "description": "Present when there is more to say: `ignored_attributes` lists what a \
                                write under `undeclared_attributes: ignore` dropped.",
                "properties": {
                    "ignored_attributes": { "type": "array", "items": { "type": "string" } },
                },
            },
        },
    })
}

fn audit_page() -> Value {
    json!({
        "type": "object",
        "required": ["entries", "next_cursor"],
        "properties": {
            "entries": { "type": "array", "items": schema("AuditEntry") },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next (older) page; null on the last.",
            },
        },
    })
}

fn overview() -> Value {
    json!({
        "type": "object",
        "required": ["users", "groups", "tokens"],
        "properties": {
            "users": { "type": "integer" },
            "groups": { "type": "integer" },
            "tokens": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "name": { "type": "string" },
                        "last_activity": {
                            "type": ["object", "null"],
                            "properties": {
                                "at": { "type": "string", "format": DATE_TIME },
                                "action": { "type": "string" },
                                "resource_type": { "type": "string" },
                                "resource_id": { "type": "string" },
                            },
                        },
                    },
                },
            },
        },
    })
}
