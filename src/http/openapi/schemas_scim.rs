//! Component schemas of the SCIM protocol messages (RFC 7643, RFC 7644).
//! Resources are kept loose (`type: object`): the authoritative attribute
//! definitions are served by `/scim/v2/Schemas`, which drives validation.

use serde_json::{json, Map, Value};

use super::builder::schema;
use crate::http::error::SCIM_ERROR_URN;
use crate::scim::bulk::{BULK_REQUEST, BULK_RESPONSE, MAX_OPERATIONS};
use crate::scim::discovery::LIST_RESPONSE;
use crate::scim::list::{MAX_RESULTS, SEARCH_REQUEST_SCHEMA};
use crate::scim::patch::PATCH_OP_SCHEMA;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

/// `schemas`: a list of URNs that must contain `urn`.
fn schemas_member(urn: &str) -> Value {
    json!({
        "type": "array",
        "items": { "type": "string" },
        "contains": { "const": urn },
        "examples": [[urn]],
    })
}

fn string_list(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

/// Adds the SCIM component schemas to `out`.
pub fn add(out: &mut Map<String, Value>) {
    out.insert("ScimError".into(), error());
    out.insert("Meta".into(), meta());
    out.insert("User".into(), user());
    out.insert("Group".into(), group());
    out.insert(
        "DeclaredResource".into(),
        json!({
            "type": "object",
            "description": "A resource of a resource type the organization declared: its \
                            attributes are those of the type's core schema (`/Schemas`).",
            "required": ["schemas"],
            "properties": {
                "schemas": { "type": "array", "items": { "type": "string" } },
                "id": { "type": "string", "readOnly": true },
                "externalId": { "type": "string" },
                "meta": schema("Meta"),
            },
            "additionalProperties": true,
        }),
    );
    out.insert("ListResponse".into(), list_response());
    out.insert("PatchOp".into(), patch_op());
    out.insert("SearchRequest".into(), search_request());
    out.insert("BulkRequest".into(), bulk_request());
    out.insert("BulkResponse".into(), bulk_response());
    for name in ["ServiceProviderConfig", "Schema", "ResourceType"] {
        out.insert(
            name.into(),
            json!({
                "type": "object",
                "description": format!("A SCIM {name} (RFC 7643 §5–§7)."),
            }),
        );
    }
}

fn error() -> Value {
    json!({
        "type": "object",
        "description": "A SCIM error (RFC 7644 §3.12).",
        "required": ["schemas", "status"],
        "properties": {
            "schemas": schemas_member(SCIM_ERROR_URN),
            "status": { "type": "string", "description": "The HTTP status, as a string.", "examples": ["400"] },
            "scimType": {
                "type": "string",
                "enum": [
                    "invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax",
                    "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive",
                    "tooLarge", "invalidCursor", "expiredCursor"
                ],
            },
            "detail": { "type": "string" },
        },
    })
}

fn meta() -> Value {
    json!({
        "type": "object",
        "readOnly": true,
        "properties": {
            "resourceType": { "type": "string" },
            "created": { "type": "string", "format": "date-time" },
            "lastModified": { "type": "string", "format": "date-time" },
            "location": { "type": "string", "format": "uri" },
            "version": { "type": "string", "description": "Weak ETag, also sent as the `ETag` header." },
        },
    })
}

fn user() -> Value {
    json!({
        "type": "object",
        "description": format!(
            "A User ({USER_SCHEMA}, optionally with the {ENTERPRISE_USER_SCHEMA} extension). \
             The full attribute set is served by `/scim/v2/Schemas`. readOnly input \
             (`id`, `meta`, `groups`) is ignored; `password` is write-only."
        ),
        "required": ["userName"],
        "properties": {
            "schemas": schemas_member(USER_SCHEMA),
            "id": { "type": "string", "readOnly": true },
            "externalId": { "type": "string" },
            "userName": { "type": "string", "description": "Unique per organization, case-insensitively." },
            "displayName": { "type": "string" },
            "active": { "type": "boolean" },
            "emails": { "type": "array", "items": { "type": "object" } },
            "groups": { "type": "array", "readOnly": true, "items": { "type": "object" } },
            "meta": schema("Meta"),
        },
        "examples": [{
            "schemas": [USER_SCHEMA],
            "userName": "bjensen",
            "name": { "givenName": "Barbara", "familyName": "Jensen" },
            "emails": [{ "value": "bjensen@example.com", "type": "work", "primary": true }],
        }],
    })
}

fn group() -> Value {
    json!({
        "type": "object",
        "description": format!("A Group ({GROUP_SCHEMA}). Members may be users or groups."),
        "required": ["displayName"],
        "properties": {
            "schemas": schemas_member(GROUP_SCHEMA),
            "id": { "type": "string", "readOnly": true },
            "externalId": { "type": "string" },
            "displayName": { "type": "string" },
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "value": { "type": "string", "description": "Member id." },
                        "$ref": { "type": "string", "readOnly": true },
                        "display": { "type": "string", "readOnly": true },
                        "type": { "type": "string", "enum": ["User", "Group"] },
                    },
                },
            },
            "meta": schema("Meta"),
        },
        "examples": [{ "schemas": [GROUP_SCHEMA], "displayName": "Engineering", "members": [] }],
    })
}

fn list_response() -> Value {
    json!({
        "type": "object",
        "description": "A page of resources (RFC 7644 §3.4.2). In cursor paging (RFC 9865) \
                        it carries `nextCursor`/`previousCursor` instead of `startIndex`.",
        "required": ["schemas", "totalResults", "Resources"],
        "properties": {
            "schemas": schemas_member(LIST_RESPONSE),
            "totalResults": { "type": "integer", "minimum": 0 },
            "startIndex": { "type": "integer", "minimum": 1 },
            "itemsPerPage": { "type": "integer", "minimum": 0 },
            "nextCursor": { "type": "string" },
            "previousCursor": { "type": "string" },
            "Resources": { "type": "array", "items": { "type": "object" } },
        },
    })
}

fn patch_op() -> Value {
    json!({
        "type": "object",
        "description": "A PATCH request (RFC 7644 §3.5.2), applied atomically.",
        "required": ["schemas", "Operations"],
        "properties": {
            "schemas": schemas_member(PATCH_OP_SCHEMA),
            "Operations": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["op"],
                    "properties": {
                        "op": {
                            "type": "string",
                            "description": "`add`, `remove` or `replace` (case-insensitive).",
                            "examples": ["replace"],
                        },
                        "path": { "type": "string", "examples": ["members[value eq \"2819c223\"]"] },
                        "value": {},
                    },
                },
            },
        },
        "examples": [{
            "schemas": [PATCH_OP_SCHEMA],
            "Operations": [{ "op": "replace", "path": "active", "value": false }],
        }],
    })
}

fn search_request() -> Value {
    json!({
        "type": "object",
        "description": "A query sent as a body (RFC 7644 §3.4.3): the same parameters as a GET.",
        "required": ["schemas"],
        "properties": {
            "schemas": schemas_member(SEARCH_REQUEST_SCHEMA),
            "attributes": string_list("Attributes to return."),
            "excludedAttributes": string_list("Attributes to leave out."),
            "filter": { "type": "string" },
            "sortBy": { "type": "string" },
            "sortOrder": { "type": "string", "enum": ["ascending", "descending"] },
            "startIndex": { "type": "integer" },
            "count": { "type": "integer", "maximum": MAX_RESULTS },
            "cursor": { "type": "string", "description": "RFC 9865 cursor; empty for the first page." },
        },
        "examples": [{
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "filter": "userName sw \"bj\"",
            "count": 10,
        }],
    })
}

fn bulk_request() -> Value {
    json!({
        "type": "object",
        "description": "Up to maxOperations operations run in dependency order (RFC 7644 §3.7).",
        "required": ["schemas", "Operations"],
        "properties": {
            "schemas": schemas_member(BULK_REQUEST),
            "failOnErrors": { "type": "integer", "minimum": 1 },
            "Operations": {
                "type": "array",
                "maxItems": MAX_OPERATIONS,
                "items": {
                    "type": "object",
                    "required": ["method", "path"],
                    "properties": {
                        "method": { "type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"] },
                        "bulkId": { "type": "string" },
                        "version": { "type": "string" },
                        "path": { "type": "string", "examples": ["/Users", "/Groups/bulkId:g1"] },
                        "data": { "type": "object" },
                    },
                },
            },
        },
    })
}

fn bulk_response() -> Value {
    json!({
        "type": "object",
        "required": ["schemas", "Operations"],
        "properties": {
            "schemas": schemas_member(BULK_RESPONSE),
            "Operations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["method", "status"],
                    "properties": {
                        "method": { "type": "string" },
                        "bulkId": { "type": "string" },
                        "version": { "type": "string" },
                        "location": { "type": "string" },
                        "status": { "type": "string" },
                        "response": schema("ScimError"),
                    },
                },
            },
        },
    })
}
