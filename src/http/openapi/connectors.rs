//! Paths and schemas of the connector admin API: `/api/v1/connectors`,
//! `/api/v1/org`, `/api/v1/ownership/transfer`, `/api/v1/provenance`.

use serde_json::{json, Map, Value};

use super::admin::TAG;
use super::builder::{path_param, query_param, schema, Op, Paths};
use crate::auth::scope::Access;
use crate::http::error::Flavor;

/// An admin operation (scope `all`); also the subscriptions'.
pub(super) fn op(id: &str, summary: &str) -> Op {
    Op::new(Flavor::Json, TAG, id, summary).access(Access::Admin)
}

pub(super) fn json_body(op: Op) -> Op {
    op.err(413, "Body over 64 KiB.")
        .err(415, "Content-Type is not `application/json`.")
}

pub(super) const VALIDATION: &str = "Validation failed; `fields` names each bad field.";

pub fn paths(p: &mut Paths) {
    deleted(p);
    let id = || path_param("id", "The connector's id (a UUID).");
    p.add(
        "/api/v1/connectors",
        "post",
        json_body(
            op("createConnector", "Create a connector")
                .about(
                    "A connector is one identity source (an Entra ID or Okta app, a script) with \
                     its own tokens, compatibility profile, ownership policy and rate limit. The \
                     answer carries its SCIM base URL and the value of its first `admin:scim` \
                     token, shown only now.",
                )
                .body("CreateConnectorRequest", true),
        )
        .ok(
            201,
            "The connector, with its first token's value.",
            schema("CreatedConnector"),
        )
        .err(400, VALIDATION)
        .err(
            409,
            "A connector of that name exists, or the token limit is reached.",
        ),
    );
    p.add(
        "/api/v1/connectors",
        "get",
        op("listConnectors", "List the organization's connectors").ok(
            200,
            "Every connector, oldest first.",
            json!({"type": "array", "items": schema("Connector")}),
        ),
    );
    p.add(
        "/api/v1/connectors/{id}",
        "get",
        op("getConnector", "Read a connector")
            .params([id()])
            .ok(200, "The connector.", schema("Connector"))
            .err(404, "No such connector."),
    );
    p.add(
        "/api/v1/connectors/{id}",
        "patch",
        json_body(
            op("updateConnector", "Change a connector")
                .about("Only the fields given change; `null` clears `ownership` (follow the organization's) and `rate_limit`. Served by every instance from the next request.")
                .params([id()])
                .body("UpdateConnectorRequest", true),
        )
        .ok(200, "The connector now.", schema("Connector"))
        .err(400, VALIDATION)
        .err(404, "No such connector.")
        .err(409, "Another connector has that name."),
    );
    p.add(
        "/api/v1/connectors/{id}",
        "delete",
        op("deleteConnector", "Delete a connector and its tokens")
            .about("Its tokens fail from the next request, on every instance. Refused while it owns resources: transfer them first.")
            .params([id()])
            .empty(204, "Deleted.")
            .err(404, "No such connector.")
            .err(409, "It still owns resources; the message says how many."),
    );
    p.add(
        "/api/v1/connectors/{id}/tokens",
        "post",
        json_body(
            op("createConnectorToken", "Mint another token for a connector")
                .about("Every field is optional: the name defaults to the connector's, the scopes to `admin:scim`.")
                .params([id()])
                .body("ConnectorTokenRequest", false),
        )
        .ok(201, "The token, with its value.", schema("CreatedToken"))
        .err(400, VALIDATION)
        .err(404, "No such connector.")
        .err(409, "The organization already holds its maximum of active tokens."),
    );
    p.add(
        "/api/v1/connectors/{id}/tokens",
        "get",
        op("listConnectorTokens", "List a connector's tokens")
            .params([id()])
            .ok(
                200,
                "Its tokens (never their values).",
                json!({"type": "array", "items": schema("Token")}),
            )
            .err(404, "No such connector."),
    );
    p.add(
        "/api/v1/connectors/{id}/requests",
        "get",
        op("listConnectorRequests", "Read a connector's request log")
            .about("Every SCIM request made with the connector's tokens, newest first: method, route, path, query, status, duration, request id, and both bodies (over 64 KiB cut; personal data and filter literals replaced by a keyed hash `h:…` unless SCIMD_REQUEST_LOG_PII=keep; passwords never kept).")
            .params([
                id(),
                query_param("status", "Status class.", json!({"type": "string", "enum": ["2xx", "3xx", "4xx", "5xx"]})),
                query_param("method", "HTTP method.", json!({"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]})),
                query_param("resource_id", "Only requests about this resource.", json!({"type": "string", "format": "uuid"})),
                query_param("since", "RFC 3339; at or after.", json!({"type": "string", "format": "date-time"})),
                query_param("until", "RFC 3339; before.", json!({"type": "string", "format": "date-time"})),
                query_param("cursor", "`next_cursor` of the previous page.", json!({"type": "string"})),
                query_param("limit", "Per page.", json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})),
            ])
            .ok(200, "A page of requests.", schema("RequestPage"))
            .err(400, VALIDATION)
            .err(404, "No such connector."),
    );
    p.add(
        "/api/v1/org",
        "get",
        op("getOrg", "Read the organization's policies").ok(
            200,
            "The policies.",
            schema("OrgPolicies"),
        ),
    );
    p.add(
        "/api/v1/org",
        "patch",
        json_body(
            op("configureOrg", "Change the organization's policies")
                .about("`ownership`: `shared` (any credential changes anything) or `owned` (a connector changes only what it owns). `delete`: `hard` or `soft`. `retention_days`: how long a soft-deleted resource is kept. Served by every instance from the next request.")
                .body("OrgPoliciesRequest", true),
        )
        .ok(200, "The policies now.", schema("OrgPolicies"))
        .err(400, VALIDATION),
    );
    p.add(
        "/api/v1/ownership/transfer",
        "post",
        json_body(
            op("transferOwnership", "Give resources to another connector")
                .about("Moves the resources `from` owns (or, with `resource_id`, one resource) to `to`, with the `externalId`s `from` set. One audit entry.")
                .body("TransferRequest", true),
        )
        .ok(200, "How many resources moved.", json!({"type": "object", "required": ["transferred"], "properties": {"transferred": {"type": "integer"}}}))
        .err(400, VALIDATION)
        .err(404, "No such resource."),
    );
    p.add(
        "/api/v1/provenance/{type}/{id}",
        "get",
        op("getProvenance", "Where a resource came from")
            .about("Which connector created it, which owns it, and its `externalId` with the connector that set it.")
            .params([
                path_param("type", "`User`, `Group` or a declared type's name."),
                path_param("id", "The resource's id."),
            ])
            .ok(200, "The provenance.", schema("Provenance"))
            .err(404, "No such resource."),
    );
}

fn deleted(p: &mut Paths) {
    let id = || path_param("id", "The deleted resource's id (its id before deletion).");
    p.add(
        "/api/v1/deleted",
        "get",
        op("listDeleted", "List soft-deleted resources")
            .about("Newest first, keyset-paged. Present only while within the organization's retention period.")
            .params([
                query_param("resource_type", "`User`, `Group` or a declared type's name.", json!({"type": "string"})),
                query_param("cursor", "`next_cursor` of the previous page.", json!({"type": "string"})),
                query_param("limit", "Per page.", json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})),
            ])
            .ok(200, "A page.", schema("DeletedPage"))
            .err(400, VALIDATION),
    );
    p.add(
        "/api/v1/deleted/{id}/restore",
        "post",
        op("restoreDeleted", "Restore a soft-deleted resource")
            .about("It comes back with its id, and its memberships in the groups that still exist.")
            .params([id()])
            .ok(200, "What was restored.", schema("DeletedResource"))
            .err(404, "No such deleted resource.")
            .err(
                409,
                "Another resource now holds one of its unique values (its userName).",
            ),
    );
    p.add(
        "/api/v1/deleted/{id}",
        "delete",
        op("purgeDeleted", "Purge a soft-deleted resource now")
            .params([id()])
            .empty(204, "Gone for good.")
            .err(404, "No such deleted resource."),
    );
}

fn connector_ref() -> Value {
    json!({"type": ["object", "null"], "required": ["id", "name"], "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": ["string", "null"], "description": "`null` for a connector since deleted."},
    }})
}

fn rate_limit() -> Value {
    json!({"oneOf": [schema("RateLimit"), {"type": "null"}]})
}

pub fn schemas(out: &mut Map<String, Value>) {
    out.insert("RateLimit".into(), json!({
        "type": "object", "additionalProperties": false, "required": ["per_second", "burst"],
        "description": "Requests per second on average and at most `burst` at once, across every instance. Over it: 429 with Retry-After.",
        "properties": {
            "per_second": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
            "burst": {"type": "integer", "minimum": 1, "maximum": 1000000},
        },
    }));
    let kind = json!({"type": "string", "enum": ["okta", "entra", "generic"]});
    let profile = json!({"type": "string", "enum": ["lenient", "okta", "entra", "strict"],
        "description": "Which client leniencies its requests get (README, Compatibility profiles); default: the kind's (`generic`: `lenient`)."});
    let ownership = json!({"type": ["string", "null"], "enum": ["shared", "owned", null]});
    out.insert("CreateConnectorRequest".into(), json!({
        "type": "object", "additionalProperties": false, "required": ["name", "kind"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}, "kind": kind,
            "profile": profile, "ownership": ownership, "rate_limit": rate_limit()},
    }));
    out.insert("UpdateConnectorRequest".into(), json!({
        "type": "object", "additionalProperties": false,
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}, "kind": kind,
            "profile": profile, "ownership": ownership, "rate_limit": rate_limit()},
    }));
    out.insert("ConnectorTokenRequest".into(), json!({
        "type": "object", "additionalProperties": false,
        "properties": {"name": {"type": "string"}, "scopes": {"type": "array", "items": schema("Scope")},
            "expires_at": {"type": "string", "format": "date-time"}},
    }));
    let connector = json!({
        "type": "object",
        "required": ["id", "name", "kind", "profile", "ownership", "effective_ownership", "rate_limit", "scim_url", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "kind": kind,
            "profile": profile, "ownership": ownership,
            "effective_ownership": {"type": "string", "enum": ["shared", "owned"]},
            "rate_limit": rate_limit(), "scim_url": {"type": "string", "format": "uri"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "activity": {
                "type": "object",
                "description": "From the request log: the last request, and the requests and errors (status 400 and up) of the last hour.",
                "properties": {
                    "last_request_at": {"type": ["string", "null"], "format": "date-time"},
                    "requests_last_hour": {"type": "integer"},
                    "errors_last_hour": {"type": "integer"},
                    "last_error": {"type": ["object", "null"], "properties": {
                        "at": {"type": "string", "format": "date-time"}, "status": {"type": "integer"},
                        "method": {"type": "string"}, "path": {"type": "string"}}},
                },
            },
        },
    });
    out.insert("Connector".into(), connector);
    out.insert("CreatedConnector".into(), json!({
        "description": "A connector with its first token's value: the only time it is shown.",
        "allOf": [schema("Connector"), {"type": "object", "required": ["token", "token_id"], "properties": {
            "token": {"type": "string", "examples": ["scimd_…"]}, "token_id": {"type": "string", "format": "uuid"}}}],
    }));
    let policies = json!({
        "ownership": {"type": "string", "enum": ["shared", "owned"]},
        "delete": {"type": "string", "enum": ["hard", "soft"]},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650},
    });
    let mut view = policies.clone();
    if let Some(m) = view.as_object_mut() {
        m.insert("id".into(), json!({"type": "string", "format": "uuid"}));
        m.insert("name".into(), json!({"type": "string"}));
    }
    out.insert("OrgPolicies".into(), json!({"type": "object", "required": ["id", "name", "ownership", "delete", "retention_days"], "properties": view}));
    out.insert(
        "OrgPoliciesRequest".into(),
        json!({"type": "object", "additionalProperties": false, "properties": policies}),
    );
    out.insert("TransferRequest".into(), json!({
        "type": "object", "additionalProperties": false, "required": ["to"],
        "properties": {
            "from": {"type": ["string", "null"], "format": "uuid", "description": "`null`: the resources no connector owns."},
            "to": {"type": ["string", "null"], "format": "uuid"},
            "resource_type": {"type": "string"},
            "resource_id": {"type": "string", "format": "uuid"},
        },
    }));
    out.insert("LoggedRequest".into(), json!({
        "type": "object",
        "required": ["id", "connector_id", "at", "method", "route", "path", "status", "duration_ms", "request_id", "truncated"],
        "properties": {
            "id": {"type": "string", "format": "uuid"}, "connector_id": {"type": "string", "format": "uuid"},
            "at": {"type": "string", "format": "date-time"}, "method": {"type": "string"},
            "route": {"type": "string", "examples": ["/scim/v2/Users/{id}"]}, "path": {"type": "string"},
            "query": {"type": ["string", "null"]}, "status": {"type": "integer"},
            "duration_ms": {"type": "number"}, "request_id": {"type": "string"},
            "resource_id": {"type": ["string", "null"], "format": "uuid"},
            "request_body": {"type": ["string", "null"], "description": "JSON text, masked."},
            "response_body": {"type": ["string", "null"], "description": "JSON text, masked; null for a 5xx."},
            "truncated": {"type": "boolean"},
        },
    }));
    out.insert("RequestPage".into(), json!({
        "type": "object", "required": ["requests"],
        "properties": {"requests": {"type": "array", "items": schema("LoggedRequest")}, "next_cursor": {"type": "string"}},
    }));
    out.insert("DeletedResource".into(), json!({
        "type": "object",
        "required": ["id", "resource_type", "deleted_at", "deleted_by", "member_of"],
        "properties": {
            "id": {"type": "string", "format": "uuid"}, "resource_type": {"type": "string"},
            "external_id": {"type": ["string", "null"]},
            "external_id_connector": {"type": ["string", "null"], "format": "uuid"},
            "display": {"type": ["string", "null"], "description": "userName, displayName or name."},
            "deleted_at": {"type": "string", "format": "date-time"},
            "deleted_by": {"type": "string"},
            "member_of": {"type": "array", "items": {"type": "string", "format": "uuid"}, "description": "The groups that held it."},
        },
    }));
    out.insert("DeletedPage".into(), json!({
        "type": "object", "required": ["resources"],
        "properties": {"resources": {"type": "array", "items": schema("DeletedResource")}, "next_cursor": {"type": "string"}},
    }));
    out.insert("Provenance".into(), json!({
        "type": "object", "required": ["resource_type", "id", "created_by", "owner", "external_id"],
        "properties": {
            "resource_type": {"type": "string"}, "id": {"type": "string", "format": "uuid"},
            "created_by": connector_ref(), "owner": connector_ref(),
            "external_id": {"type": ["object", "null"], "required": ["value", "connector"], "properties": {
                "value": {"type": "string"}, "connector": connector_ref()}},
        },
    }));
}
