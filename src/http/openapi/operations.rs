//! Paths for running the server: `/health`, `/ready`, `/metrics`, the admin
//! web page (`/admin`) and this API description (`/api/v1/openapi.json`,
//! `/api/v1/docs`).

use serde_json::json;

use super::builder::{path_param, schema, Op, Paths};
use crate::http::error::Flavor;
use crate::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;

pub const TAG: &str = "Operations";

fn op(tag: &str, id: &str, summary: &str) -> Op {
    Op::new(Flavor::Json, tag, id, summary).public()
}

/// A `text/*`-like response of `content_type`.
fn text(op: Op, status: u16, description: &str, content_type: &str) -> Op {
    op.reply(
        status,
        json!({
            "description": description,
            "content": { content_type: { "schema": { "type": "string" } } },
        }),
    )
}

pub fn paths(p: &mut Paths) {
    p.add(
        "/health",
        "get",
        op(TAG, "health", "Liveness")
            .about("`200` while the process runs, whether or not the database answers.")
            .ok(200, "The process runs.", schema("Status")),
    );
    p.add(
        "/ready",
        "get",
        op(TAG, "ready", "Readiness")
            .about("`200` when the database answers; take the instance out of rotation on `503`.")
            .ok(200, "Ready to serve.", schema("Status"))
            .ok(
                503,
                "The database is unavailable (with `Retry-After`).",
                schema("Status"),
            ),
    );
    p.add(
        "/metrics",
        "get",
        text(
            op(TAG, "metrics", "Prometheus metrics")
                .about("OpenMetrics text. Reveals traffic volumes: firewall it or bind privately."),
            200,
            "The metrics.",
            METRICS_CONTENT_TYPE,
        )
        .err(500, "The metrics could not be encoded."),
    );
    admin_page(p);
    p.add(
        "/api/v1/openapi.json",
        "get",
        op(TAG, "openapi", "This document")
            .about("The OpenAPI 3.1 description of every route the server registers.")
            .ok(200, "The OpenAPI document.", json!({ "type": "object" })),
    );
    p.add(
        "/api/v1/docs",
        "get",
        text(
            op(TAG, "docs", "Interactive API documentation")
                .about("An HTML page that reads this document and can send requests with a token."),
            200,
            "The page.",
            "text/html; charset=utf-8",
        ),
    );
    p.add(
        "/api/v1/docs/{file}",
        "get",
        asset(
            op(TAG, "docsAsset", "An asset of the documentation page"),
            &super::asset_names(),
        ),
    );
}

/// `200` with the asset or a `404`; `files` are the names that exist.
fn asset(op: Op, files: &[&str]) -> Op {
    let mut file = path_param("file", "The asset's name.");
    file["schema"]["enum"] = json!(files);
    op.params([file])
        .reply(
            200,
            json!({ "description": "The asset, with its Content-Type." }),
        )
        .err(404, "No such asset.")
}

fn admin_page(p: &mut Paths) {
    const ADMIN: &str = super::admin::TAG;
    p.add(
        "/admin",
        "get",
        text(
            op(ADMIN, "adminPage", "The admin web page").about(
                "Tokens, the audit log and the overview, in the browser; it asks for a token.",
            ),
            200,
            "The page.",
            "text/html; charset=utf-8",
        ),
    );
    p.add(
        "/admin/",
        "get",
        op(ADMIN, "adminPageSlash", "Redirect to /admin").reply(
            308,
            json!({ "description": "Permanent redirect to `/admin`." }),
        ),
    );
    p.add(
        "/admin/{file}",
        "get",
        asset(
            op(ADMIN, "adminAsset", "An asset of the admin web page"),
            &["app.js", "app.css", "favicon.svg"],
        ),
    );
}
