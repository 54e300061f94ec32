//! Paths of SCIM discovery (RFC 7644 §4, readable without a credential) and
//! of the query and batch endpoints: `/.search` (root and per type) and
//! `/Bulk`.

use super::builder::{path_param, schema, Op, Paths};
use crate::auth::scope::Access;
use crate::http::error::Flavor;

pub const TAG: &str = "Discovery";

fn discovery(id: &str, summary: &str) -> Op {
    Op::new(Flavor::Scim, TAG, id, summary)
        .public()
        .err(400, "An unknown query parameter (`invalidValue`).")
}

fn scim(id: &str, summary: &str) -> Op {
    Op::new(Flavor::Scim, super::scim::TAG, id, summary)
}

pub fn paths(p: &mut Paths) {
    p.add(
        "/scim/v2/ServiceProviderConfig",
        "get",
        discovery("getServiceProviderConfig", "What this server supports")
            .about("Features and limits: PATCH, Bulk, filter, sort, ETags, cursor paging, maxPayloadSize.")
            .ok(200, "The ServiceProviderConfig.", schema("ServiceProviderConfig")),
    );
    for (plural, single, id_text) in [
        (
            "Schemas",
            "Schema",
            "The schema's URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.",
        ),
        (
            "ResourceTypes",
            "ResourceType",
            "The resource type's name, e.g. `User` (case-insensitive).",
        ),
    ] {
        p.add(
            &format!("/scim/v2/{plural}"),
            "get",
            discovery(&format!("list{plural}"), &format!("List {plural}")).ok(
                200,
                &format!("A ListResponse of every {single}."),
                schema("ListResponse"),
            ),
        );
        p.add(
            &format!("/scim/v2/{plural}/{{id}}"),
            "get",
            discovery(&format!("get{single}"), &format!("Read one {single}"))
                .params([path_param("id", id_text)])
                .ok(200, &format!("The {single}."), schema(single))
                .err(404, &format!("No such {single}.")),
        );
    }
    search(p);
    p.add(
        "/scim/v2/Bulk",
        "post",
        scim("bulk", "Run a batch of operations")
            .about(
                "Operations run in dependency order (`bulkId:` references may point forward), \
                 one transaction each; `failOnErrors` stops early. Each operation's own status \
                 is in the BulkResponse.",
            )
            .access(Access::ScimWrite)
            .body("BulkRequest", true)
            .ok(200, "A BulkResponse.", schema("BulkResponse"))
            .err(
                400,
                "Not a valid BulkRequest (`invalidSyntax`, `invalidValue`).",
            )
            .err(
                413,
                "Over `maxOperations` (1000) or `maxPayloadSize` (10 MiB) (`tooLarge`).",
            )
            .err(
                415,
                "Content-Type is neither `application/scim+json` nor `application/json`.",
            ),
    );
}

fn search(p: &mut Paths) {
    for (path, id, what, extra) in [
        (
            "/scim/v2/.search",
            "searchAll",
            "users and groups",
            " Index paging only: `cursor` is `400` here.",
        ),
        ("/scim/v2/Users/.search", "searchUsers", "users", ""),
        ("/scim/v2/Groups/.search", "searchGroups", "groups", ""),
    ] {
        p.add(
            path,
            "post",
            scim(id, &format!("Search {what}"))
                .about(&format!(
                    "A SearchRequest body with the parameters a GET would take (RFC 7644 §3.4.3).{extra}"
                ))
                .access(Access::ScimRead)
                .body("SearchRequest", true)
                .ok(200, "A ListResponse.", schema("ListResponse"))
                .err(
                    400,
                    "Bad request (`invalidSyntax`, `invalidFilter`, `invalidValue`, `invalidCursor`).",
                )
                .err(413, "Body over `maxPayloadSize` (`tooLarge`).")
                .err(415, "Content-Type is neither `application/scim+json` nor `application/json`."),
        );
    }
}
