//! `components`: the security scheme, shared parameters and headers, and the
//! schemas of [`super::schemas_scim`] and [`super::schemas_admin`].

use serde_json::{json, Map, Value};

use super::builder::query_param;
use super::{connectors, schemas_admin, schemas_scim, subscriptions};
use crate::scim::list::{DEFAULT_COUNT, MAX_RESULTS};

pub fn components() -> Value {
    let mut schemas = Map::new();
    schemas_scim::add(&mut schemas);
    schemas_admin::add(&mut schemas);
    connectors::schemas(&mut schemas);
    subscriptions::schemas(&mut schemas);
    json!({
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token (`scimd_…`) or `AUTH_SECRET`. Create one with \
                                `scimd token create --name NAME --scope SCOPE` or \
                                `POST /api/v1/tokens`.",
            },
        },
        "parameters": parameters(),
        "headers": {
            "ETag": {
                "description": "The resource's version (`meta.version`), a weak ETag.",
                "schema": { "type": "string", "examples": ["W/\"3\""] },
            },
            "Location": {
                "description": "The new resource's URL.",
                "schema": { "type": "string", "format": "uri" },
            },
        },
        "schemas": schemas,
    })
}

fn header_param(name: &str, description: &str, required: bool) -> Value {
    json!({
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": { "type": "string" },
    })
}

fn parameters() -> Value {
    let string = json!({ "type": "string" });
    json!({
        "filter": query_param(
            "filter",
            "A filter expression (RFC 7644 §3.4.2.2), e.g. `userName eq \"bjensen\"`. \
             A syntax error is `400 invalidFilter`.",
            string.clone(),
        ),
        "sortBy": query_param("sortBy", "Attribute to sort by, e.g. `name.familyName`.", string.clone()),
        "sortOrder": query_param(
            "sortOrder",
            "Sort direction.",
            json!({ "type": "string", "enum": ["ascending", "descending"], "default": "ascending" }),
        ),
        "startIndex": query_param(
            "startIndex",
            "1-based index of the first result (index paging).",
            json!({ "type": "integer", "default": 1 }),
        ),
        "count": query_param(
            "count",
            &format!("Page size; above {MAX_RESULTS} is read as {MAX_RESULTS}."),
            json!({ "type": "integer", "minimum": 0, "default": DEFAULT_COUNT }),
        ),
        "cursor": query_param(
            "cursor",
            "Cursor paging (RFC 9865): empty for the first page, then `nextCursor` or \
             `previousCursor`. Tied to its filter and sort; expires after an hour.",
            string.clone(),
        ),
        "attributes": query_param(
            "attributes",
            "Comma-separated attributes to return (RFC 7644 §3.9).",
            string.clone(),
        ),
        "excludedAttributes": query_param(
            "excludedAttributes",
            "Comma-separated attributes to leave out (RFC 7644 §3.9).",
            string,
        ),
        "IfMatch": header_param(
            "If-Match",
            "Apply only if the resource's current ETag matches; otherwise `412`.",
            false,
        ),
        "IfNoneMatch": header_param(
            "If-None-Match",
            "Answer `304` with no body if the resource's current ETag matches.",
            false,
        ),
        "XUserEmail": header_param(
            "x-user-email",
            "The person this request acts for: a user whose `userName` or any email equals it \
             (case-insensitively).",
            true,
        ),
    })
}
