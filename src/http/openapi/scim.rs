//! Paths of the SCIM resources: `/scim/v2/Users`, `/scim/v2/Groups` (one
//! table for both, as the handlers behave alike) and `/scim/v2/Me`.

use serde_json::Value;

use super::builder::{param, path_param, schema, Op, Paths};
use crate::auth::scope::Access;
use crate::http::error::Flavor;

pub const TAG: &str = "SCIM";

const PROJECTION: [&str; 2] = ["attributes", "excludedAttributes"];
const LIST: [&str; 8] = [
    "filter",
    "sortBy",
    "sortOrder",
    "startIndex",
    "count",
    "cursor",
    "attributes",
    "excludedAttributes",
];

fn refs<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Value> {
    names.into_iter().map(param).collect()
}

fn op(id: &str, summary: &str) -> Op {
    Op::new(Flavor::Scim, TAG, id, summary)
}

/// A write's body-related failures, shared by POST, PUT and PATCH.
fn body_errors(op: Op) -> Op {
    op.err(
        400,
        "Invalid body (`invalidSyntax`, `invalidValue`, `invalidPath`, `noTarget`, `mutability`).",
    )
    .err(
        413,
        "Body over `maxPayloadSize` (10 MiB), refused unread (`tooLarge`).",
    )
    .err(
        415,
        "Content-Type is neither `application/scim+json` nor `application/json`.",
    )
}

pub fn paths(p: &mut Paths) {
    resources(p, "User", "Users");
    resources(p, "Group", "Groups");
    declared(p);
    me(p);
}

/// `/{endpoint}`, `/{endpoint}/{id}` and `/{endpoint}/.search` for the
/// resource types the caller's organization declared
/// (`/api/v1/resource-types`).
fn declared(p: &mut Paths) {
    let kind = "DeclaredResource";
    let endpoint = || {
        let mut p = path_param(
            "endpoint",
            "A declared resource type's endpoint, without the slash (e.g. `Agents`).",
        );
        p["schema"]["examples"] = serde_json::json!(["Agents"]);
        p
    };
    let id = || path_param("id", "The resource's id (a UUID).");
    let unknown = "No declared resource type is served at this endpoint, or no such resource.";
    p.add(
        "/scim/v2/{endpoint}",
        "get",
        op("listDeclared", "List or filter a declared type's resources")
            .access(Access::ScimRead)
            .params([endpoint()])
            .params(refs(LIST))
            .ok(200, "A ListResponse.", schema("ListResponse"))
            .err(
                400,
                "Bad parameter (`invalidFilter`, `invalidValue`, `invalidCursor`).",
            )
            .err(404, unknown),
    );
    p.add(
        "/scim/v2/{endpoint}",
        "post",
        body_errors(
            op("createDeclared", "Create a resource of a declared type")
                .access(Access::ScimWrite)
                .params([endpoint()])
                .params(refs(PROJECTION))
                .body(kind, true),
        )
        .resource(201, "The created resource.", kind)
        .err(404, unknown),
    );
    p.add(
        "/scim/v2/{endpoint}/.search",
        "post",
        op(
            "searchDeclared",
            "Search a declared type's resources (POST)",
        )
        .access(Access::ScimRead)
        .params([endpoint()])
        .body("SearchRequest", true)
        .ok(200, "A ListResponse.", schema("ListResponse"))
        .err(
            400,
            "Bad request (`invalidFilter`, `invalidValue`, `invalidSyntax`).",
        )
        .err(404, unknown),
    );
    p.add(
        "/scim/v2/{endpoint}/{id}",
        "get",
        op("getDeclared", "Read a resource of a declared type")
            .access(Access::ScimRead)
            .params([endpoint(), id()])
            .params(refs(PROJECTION))
            .params([param("IfNoneMatch")])
            .resource(200, "The resource.", kind)
            .empty(
                304,
                "Not modified: `If-None-Match` names the current version.",
            )
            .err(404, unknown),
    );
    for (method, verb, body) in [("put", "Replace", kind), ("patch", "Modify", "PatchOp")] {
        p.add(
            "/scim/v2/{endpoint}/{id}",
            method,
            body_errors(
                op(
                    &format!("{method}Declared"),
                    &format!("{verb} a resource of a declared type"),
                )
                .access(Access::ScimWrite)
                .params([endpoint(), id()])
                .params(refs(PROJECTION))
                .params([param("IfMatch")])
                .body(body, true),
            )
            .resource(200, "The resource as stored.", kind)
            .err(404, unknown)
            .err(412, "`If-Match` names a stale version."),
        );
    }
    p.add(
        "/scim/v2/{endpoint}/{id}",
        "delete",
        op("deleteDeclared", "Delete a resource of a declared type")
            .access(Access::ScimWrite)
            .params([endpoint(), id(), param("IfMatch")])
            .empty(204, "Deleted.")
            .err(404, unknown)
            .err(412, "`If-Match` names a stale version."),
    );
}

/// `/{plural}` and `/{plural}/{id}` for one resource type.
fn resources(p: &mut Paths, kind: &str, plural: &str) {
    let base = format!("/scim/v2/{plural}");
    let item = format!("{base}/{{id}}");
    let id = || path_param("id", &format!("The {kind}'s id (a UUID)."));
    let lower = plural.to_lowercase();
    let unique = if kind == "User" {
        "`userName` already taken in this organization (`uniqueness`)."
    } else {
        "Conflicts with an existing group (`uniqueness`)."
    };
    let written = |op: Op, status: u16| {
        let op = op.resource(status, &format!("The {kind} as stored."), kind);
        if kind == "Group" && status == 200 {
            op.empty(
                204,
                "Done (a PATCH answers this, with the ETag, unless `attributes` or \
                 `excludedAttributes` asks for the group).",
            )
        } else {
            op
        }
    };

    p.add(
        &base,
        "get",
        op(&format!("list{plural}"), &format!("List or filter {lower}"))
            .about(&format!(
                "A page of {lower} (RFC 7644 §3.4.2): filtered, sorted, index- or cursor-paged."
            ))
            .access(Access::ScimRead)
            .params(refs(LIST))
            .ok(200, "A ListResponse.", schema("ListResponse"))
            .err(
                400,
                "Bad parameter (`invalidFilter`, `invalidValue`, `invalidCursor`, `expiredCursor`).",
            ),
    );
    p.add(
        &base,
        "post",
        body_errors(
            op(&format!("create{kind}"), &format!("Create a {kind}"))
                .access(Access::ScimWrite)
                .params(refs(PROJECTION))
                .body(kind, true),
        )
        .resource(201, &format!("The created {kind}."), kind)
        .err(409, unique),
    );
    p.add(
        &item,
        "get",
        op(&format!("get{kind}"), &format!("Read a {kind}"))
            .access(Access::ScimRead)
            .params([id()])
            .params(refs(PROJECTION))
            .params([param("IfNoneMatch")])
            .resource(200, &format!("The {kind}."), kind)
            .empty(
                304,
                "Not modified: `If-None-Match` names the current version.",
            )
            .err(404, "No such resource."),
    );
    p.add(
        &item,
        "put",
        written(
            body_errors(
                op(&format!("replace{kind}"), &format!("Replace a {kind}"))
                    .access(Access::ScimWrite)
                    .params([id()])
                    .params(refs(PROJECTION))
                    .params([param("IfMatch")])
                    .body(kind, true),
            ),
            200,
        )
        .err(404, "No such resource.")
        .err(409, unique)
        .err(412, "`If-Match` names a stale version."),
    );
    p.add(
        &item,
        "patch",
        written(
            body_errors(
                op(&format!("patch{kind}"), &format!("Modify a {kind} (PATCH)"))
                    .about("Every path form is applied atomically, then validated like a PUT.")
                    .access(Access::ScimWrite)
                    .params([id()])
                    .params(refs(PROJECTION))
                    .params([param("IfMatch")])
                    .body("PatchOp", true),
            ),
            200,
        )
        .err(404, "No such resource.")
        .err(409, unique)
        .err(412, "`If-Match` names a stale version."),
    );
    p.add(
        &item,
        "delete",
        op(&format!("delete{kind}"), &format!("Delete a {kind}"))
            .access(Access::ScimWrite)
            .params([id(), param("IfMatch")])
            .empty(204, "Deleted.")
            .err(404, "No such resource.")
            .err(412, "`If-Match` names a stale version."),
    );
}

/// `/Me`: a connect token acting for the person named by `x-user-email`.
fn me(p: &mut Paths) {
    const PATH: &str = "/scim/v2/Me";
    let who = |op: Op, bad_request: &str| {
        op.err(400, bad_request)
            .err(404, "No user of this organization has that address.")
            .err(409, "The address matches more than one user.")
    };
    let self_service = "Only `displayName`, `nickName`, `name`, `title`, `preferredLanguage`, \
        `locale`, `timezone`, `phoneNumbers`, `addresses` and `photos` may change; anything \
        else is `403` naming the attribute, and nothing is applied.";
    p.add(
        PATH,
        "get",
        who(
            op("getMe", "Read the acting user")
                .about(
                    "Answers exactly as `GET /Users/{id}` would for the user `x-user-email` names.",
                )
                .access(Access::ConnectRead)
                .params(refs([
                    "XUserEmail",
                    "attributes",
                    "excludedAttributes",
                    "IfNoneMatch",
                ]))
                .resource(200, "The user.", "User")
                .empty(
                    304,
                    "Not modified: `If-None-Match` names the current version.",
                )
                .err(
                    403,
                    "The credential lacks the scope, or the user is deactivated.",
                ),
            "`x-user-email` is missing or empty (`invalidValue`).",
        ),
    );
    for (method, id, summary, body) in [
        (
            "put",
            "replaceMe",
            "Replace the acting user's profile",
            "User",
        ),
        (
            "patch",
            "patchMe",
            "Modify the acting user's profile",
            "PatchOp",
        ),
    ] {
        p.add(
            PATH,
            method,
            who(
                body_errors(
                    op(id, summary)
                        .about(self_service)
                        .access(Access::ConnectWrite)
                        .params(refs([
                            "XUserEmail",
                            "attributes",
                            "excludedAttributes",
                            "IfMatch",
                        ]))
                        .body(body, true),
                ),
                "`x-user-email` is missing or empty, or the body is invalid.",
            )
            .resource(200, "The user as stored.", "User")
            .err(
                403,
                "The credential lacks the scope, the user is deactivated, or the change touches \
                 an attribute managed by the identity provider.",
            )
            .err(412, "`If-Match` names a stale version."),
        );
    }
    for (method, id, summary) in [
        (
            "post",
            "createMe",
            "Create a user through /Me (always refused)",
        ),
        (
            "delete",
            "deleteMe",
            "Delete a user through /Me (always refused)",
        ),
    ] {
        p.add(
            PATH,
            method,
            op(id, summary)
                .about("People are created and deleted by the identity provider.")
                .access(Access::ConnectRead)
                .err(403, "Always, for a credential that may use /Me."),
        );
    }
}
