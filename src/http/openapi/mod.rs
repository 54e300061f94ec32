//! The API description: `GET /api/v1/openapi.json` (an OpenAPI 3.1 document
//! of every route the server registers) and `GET /api/v1/docs` (an
//! interactive page that reads it and can send requests with a token). Both
//! need no credential; the page's assets are compiled into the binary and
//! served under `/api/v1/docs/{file}`.
//!
//! The document is data built in Rust, one module per area: [`operations`]
//! (`/health`, `/ready`, `/metrics`, `/admin`, these routes), [`admin`]
//! (`/api/v1`), [`scim`] (Users, Groups, `/Me`) and [`discovery`] (discovery,
//! `/.search`, `/Bulk`). `tests/it/openapi.rs` checks that it names every
//! route the source registers and that every path it names is served.

mod admin;
mod builder;
mod components;
mod connectors;
mod discovery;
mod document;
mod operations;
mod schemas_admin;
mod schemas_scim;
mod scim;
mod subscriptions;

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::error::{self, ApiError};

pub use document::document;

/// The page runs only its own script and style: no inline code, no other
/// origin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("assets/index.html");

/// The page's assets: name, body, Content-Type.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "docs.js",
        include_str!("assets/docs.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "docs.css",
        include_str!("assets/docs.css"),
        "text/css; charset=utf-8",
    ),
    (
        "favicon.svg",
        include_str!("assets/favicon.svg"),
        "image/svg+xml",
    ),
];

/// Registers the routes inside the `/api/v1` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(spec))
        .route("/docs", web::get().to(page))
        .route("/docs/{file}", web::get().to(asset));
}

/// The names of the page's assets, for the document.
fn asset_names() -> Vec<&'static str> {
    ASSETS.iter().map(|(name, _, _)| *name).collect()
}

/// The serialised document, built on first use.
fn spec_text() -> Option<&'static str> {
    static TEXT: OnceLock<Option<String>> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_string(&document()).ok())
        .as_deref()
}

async fn spec() -> Result<HttpResponse, ApiError> {
    let text = spec_text()
        .ok_or_else(|| ApiError::Internal("the OpenAPI document cannot be serialised".into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(text))
}

fn static_response(body: &'static str, content_type: &'static str) -> HttpResponse {
    crate::http::page::embedded(body, content_type, "no-cache", CONTENT_SECURITY_POLICY)
}

async fn page() -> HttpResponse {
    static_response(INDEX_HTML, "text/html; charset=utf-8")
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, body, content_type)) => static_response(body, content_type),
        None => error::not_found(&req),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn markup_has_no_inline_script_or_style_and_no_other_origin() {
        let lower = INDEX_HTML.to_ascii_lowercase();
        assert!(!lower.contains("<style") && !lower.contains(" style="));
        assert!(!lower.contains(" onclick=") && !lower.contains(" onload="));
        for script in lower.split("<script").skip(1) {
            let open = script.split('>').next().unwrap_or("");
            assert!(open.contains("src="), "inline <script>: {open}");
        }
        assert!(!lower.contains("http://") && !lower.contains("https://"));
        for name in asset_names() {
            assert!(
                INDEX_HTML.contains(&format!("/api/v1/docs/{name}")),
                "{name}"
            );
        }
    }

    #[test]
    fn every_json_reference_resolves() {
        fn walk(v: &serde_json::Value, doc: &serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = r.strip_prefix('#').expect("local reference");
                        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                    }
                    m.values().for_each(|x| walk(x, doc));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, doc)),
                _ => {}
            }
        }
        let doc = document();
        walk(&doc, &doc);
        assert!(spec_text().is_some());
    }
}
