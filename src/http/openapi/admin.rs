//! Paths of the admin API under `/api/v1`: tokens, declared schemas, the
//! audit log and the overview.

use serde_json::json;

use super::builder::{path_param, query_param, schema, Op, Paths};
use crate::auth::scope::Access;
use crate::http::error::Flavor;

pub const TAG: &str = "Admin";

fn op(id: &str, summary: &str) -> Op {
    Op::new(Flavor::Json, TAG, id, summary)
}

fn json_body_errors(op: Op) -> Op {
    op.err(413, "Body over 64 KiB.")
        .err(415, "Content-Type is not `application/json`.")
}

pub fn paths(p: &mut Paths) {
    tokens(p);
    schemas(p);
    resource_types(p);
    settings(p);
    reports(p);
}

fn tokens(p: &mut Paths) {
    let id = || path_param("id", "The token's id (a UUID).");
    let validation = "Validation failed; `fields` names each bad field.";
    p.add(
        "/api/v1/tokens",
        "post",
        json_body_errors(
            op("createToken", "Create a token")
                .about("The response is the only time the token's value is shown.")
                .access(Access::Admin)
                .body("CreateTokenRequest", true),
        )
        .ok(201, "The token, with its value.", schema("CreatedToken"))
        .err(400, validation)
        .err(
            409,
            "The organization already holds its maximum of active tokens.",
        ),
    );
    p.add(
        "/api/v1/tokens",
        "get",
        op("listTokens", "List the organization's tokens")
            .access(Access::Admin)
            .ok(
                200,
                "Every token, revoked and expired ones included.",
                json!({
                    "type": "array",
                    "items": schema("Token"),
                }),
            ),
    );
    p.add(
        "/api/v1/tokens/{id}",
        "get",
        op("getToken", "Read a token")
            .access(Access::Admin)
            .params([id()])
            .ok(200, "The token (never its value).", schema("Token"))
            .err(404, "No such token."),
    );
    p.add(
        "/api/v1/tokens/{id}",
        "delete",
        op("revokeToken", "Revoke a token")
            .about("The token fails from the next request on, on every instance.")
            .access(Access::Admin)
            .params([id()])
            .empty(204, "Revoked.")
            .err(404, "No such token, or already revoked."),
    );
    p.add(
        "/api/v1/tokens/{id}/rotate",
        "post",
        op("rotateToken", "Issue a new value for a token")
            .about(
                "Same id, name, scopes and expiry; the old value keeps working for \
                 `grace_seconds`. The body is optional.",
            )
            .access(Access::Admin)
            .params([id()])
            .body("RotateRequest", false)
            .ok(
                200,
                "The token, with its new value.",
                schema("CreatedToken"),
            )
            .err(400, "`grace_seconds` is not between 0 and 86400.")
            .err(404, "No such token.")
            .err(409, "A revoked or expired token cannot be rotated."),
    );
}

fn schemas(p: &mut Paths) {
    let urn = || path_param("urn", "The schema's URN (its `id`), case-insensitive.");
    let force = || {
        query_param(
            "force",
            "Apply the change even though stored resources hold values it invalidates; \
             those values are removed in the same transaction.",
            json!({ "type": "boolean", "default": false }),
        )
    };
    let validation = "The definition is not a valid RFC 7643 §7 schema, or clashes with one \
                      already served; `fields` names each problem.";
    p.add(
        "/api/v1/schemas",
        "post",
        json_body_errors(
            op("declareSchema", "Declare an extension schema")
                .about(
                    "The organization's `/Schemas`, `/ResourceTypes`, validation, filters, \
                     sorting, projection and PATCH paths include it from the next request \
                     on, on every instance.",
                )
                .access(Access::Admin)
                .body("DeclareSchemaRequest", true),
        )
        .ok(201, "The declared schema.", schema("DeclaredSchema"))
        .err(400, validation)
        .err(
            409,
            "Already declared, the organization's limit reached, or required while \
             resources lack it.",
        ),
    );
    p.add(
        "/api/v1/schemas",
        "get",
        op(
            "listDeclaredSchemas",
            "List the organization's declared schemas",
        )
        .access(Access::Admin)
        .ok(
            200,
            "Every declared schema, oldest first.",
            json!({ "type": "array", "items": schema("DeclaredSchema") }),
        ),
    );
    p.add(
        "/api/v1/schemas/{urn}",
        "get",
        op("getDeclaredSchema", "Read a declared schema")
            .access(Access::Admin)
            .params([urn()])
            .ok(200, "The schema.", schema("DeclaredSchema"))
            .err(404, "No such declared schema."),
    );
    p.add(
        "/api/v1/schemas/{urn}",
        "put",
        json_body_errors(
            op("replaceDeclaredSchema", "Replace a declared schema")
                .about(
                    "Adding or relaxing attributes always applies. Removing or retyping one \
                     that resources hold, or requiring one they lack, is refused with the \
                     count unless `force`.",
                )
                .access(Access::Admin)
                .params([urn(), force()])
                .body("DeclareSchemaRequest", true),
        )
        .ok(200, "The schema as now declared.", schema("DeclaredSchema"))
        .err(400, validation)
        .err(404, "No such declared schema.")
        .err(409, "Stored resources hold values the change invalidates."),
    );
    p.add(
        "/api/v1/schemas/{urn}",
        "delete",
        op("removeDeclaredSchema", "Remove a declared schema")
            .about("Refused while resources carry the extension, unless `force`.")
            .access(Access::Admin)
            .params([urn(), force()])
            .empty(204, "Removed.")
            .err(400, "`force` is not a boolean.")
            .err(404, "No such declared schema.")
            .err(409, "Resources carry the extension."),
    );
}

fn resource_types(p: &mut Paths) {
    let name = || path_param("name", "The resource type's name, case-insensitive.");
    let force = || {
        query_param(
            "force",
            "Apply even though stored resources hold values the change invalidates (PUT), \
             or delete the type's resources with it (DELETE).",
            json!({ "type": "boolean", "default": false }),
        )
    };
    let validation = "The definition is not a valid RFC 7643 §6/§7 resource type and schema, \
                      or clashes with one already served; `fields` names each problem.";
    p.add(
        "/api/v1/resource-types",
        "post",
        json_body_errors(
            op("declareResourceType", "Declare a resource type")
                .about(
                    "Served at `/scim/v2/{endpoint}` for the organization, listed in its \
                     `/ResourceTypes` and `/Schemas`, from the next request on, on every instance.",
                )
                .access(Access::Admin)
                .body("DeclareResourceTypeRequest", true),
        )
        .ok(
            201,
            "The declared resource type.",
            schema("DeclaredResourceType"),
        )
        .err(400, validation)
        .err(
            409,
            "The organization's limit of declared types is reached.",
        ),
    );
    p.add(
        "/api/v1/resource-types",
        "get",
        op(
            "listDeclaredResourceTypes",
            "List the organization's declared resource types",
        )
        .access(Access::Admin)
        .ok(
            200,
            "Every declared resource type, oldest first.",
            json!({ "type": "array", "items": schema("DeclaredResourceType") }),
        ),
    );
    p.add(
        "/api/v1/resource-types/{name}",
        "get",
        op("getDeclaredResourceType", "Read a declared resource type")
            .access(Access::Admin)
            .params([name()])
            .ok(200, "The resource type.", schema("DeclaredResourceType"))
            .err(404, "No such declared resource type."),
    );
    p.add(
        "/api/v1/resource-types/{name}",
        "put",
        json_body_errors(
            op(
                "replaceDeclaredResourceType",
                "Replace a declared resource type's core schema",
            )
            .about("Name, endpoint and schema URN stay; attribute changes follow the schema rules.")
            .access(Access::Admin)
            .params([name(), force()])
            .body("DeclareResourceTypeRequest", true),
        )
        .ok(
            200,
            "The resource type now.",
            schema("DeclaredResourceType"),
        )
        .err(400, validation)
        .err(404, "No such declared resource type.")
        .err(409, "Stored resources hold values the change invalidates."),
    );
    p.add(
        "/api/v1/resource-types/{name}",
        "delete",
        op(
            "removeDeclaredResourceType",
            "Remove a declared resource type",
        )
        .about("Refused while it has resources, unless `force`, which deletes them.")
        .access(Access::Admin)
        .params([name(), force()])
        .empty(204, "Removed.")
        .err(400, "`force` is not a boolean.")
        .err(404, "No such declared resource type.")
        .err(409, "The type has resources."),
    );
}

fn settings(p: &mut Paths) {
    p.add(
        "/api/v1/settings",
        "get",
        op("getSettings", "Read the organization's settings")
            .access(Access::Admin)
            .ok(200, "The settings.", schema("Settings")),
    );
    p.add(
        "/api/v1/settings",
        "put",
        json_body_errors(
            op("setSettings", "Change the organization's settings")
                .about(
                    "`undeclared_attributes`: `reject` (the default) answers a write naming an \
                     attribute nobody declared with `400 invalidValue`; `ignore` accepts the write \
                     without it and lists it in the audit entry's `details.ignored_attributes`. \
                     Applies on every instance from the next request.",
                )
                .access(Access::Admin)
                .body("Settings", true),
        )
        .ok(200, "The settings now.", schema("Settings"))
        .err(400, "A value other than `reject` or `ignore`."),
    );
}

fn reports(p: &mut Paths) {
    let string = || json!({ "type": "string" });
    let time = || json!({ "type": "string", "format": "date-time" });
    p.add(
        "/api/v1/audit",
        "get",
        op("listAudit", "Read the audit log")
            .about("Every change with its actor, newest first, keyset-paged.")
            .access(Access::AdminRead)
            .params([
                query_param(
                    "actor",
                    "Only changes made with this token id.",
                    json!({ "type": "string", "format": "uuid" }),
                ),
                query_param("resource_type", "e.g. `User`, `Group`, `Token`.", string()),
                query_param("resource_id", "Only changes to this resource.", string()),
                query_param("since", "RFC 3339; entries at or after.", time()),
                query_param("until", "RFC 3339; entries before.", time()),
                query_param("cursor", "`next_cursor` of the previous page.", string()),
                query_param(
                    "limit",
                    "Entries per page.",
                    json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 50 }),
                ),
            ])
            .ok(200, "A page of entries.", schema("AuditPage"))
            .err(400, "A bad or unknown parameter; `fields` names it."),
    );
    p.add(
        "/api/v1/overview",
        "get",
        op("getOverview", "Counts and each token's last change")
            .access(Access::AdminRead)
            .ok(200, "The overview.", schema("Overview")),
    );
}
