//! The admin web page: `GET /admin` and its static assets, compiled into the
//! binary. The page is plain HTML, CSS and JavaScript that talks to the admin
//! API (`/api/v1`) with the credential the user pastes; it holds no state of
//! its own on the server.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::error;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// Everything the page loads comes from this origin; nothing is inline, so no
/// injected markup can run script or style, and no other site may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(index))
        .route("/admin/", web::get().to(redirect_to_index))
        .route("/admin/{file}", web::get().to(asset));
}

/// An asset: its bytes, Content-Type and caching rule.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
}

fn lookup(file: &str) -> Option<Asset> {
    // Assets are small and change only with the binary; `no-cache` makes the
    // browser revalidate, so an upgraded server never runs a stale script.
    let (body, content_type) = match file {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return None,
    };
    Some(Asset {
        body,
        content_type,
        cache_control: "no-cache",
    })
}

fn respond(asset: Asset) -> HttpResponse {
    crate::http::page::embedded(
        asset.body,
        asset.content_type,
        asset.cache_control,
        CONTENT_SECURITY_POLICY,
    )
}

async fn index() -> HttpResponse {
    respond(Asset {
        body: INDEX_HTML,
        content_type: "text/html; charset=utf-8",
        cache_control: "no-store",
    })
}

async fn redirect_to_index() -> HttpResponse {
    HttpResponse::build(StatusCode::PERMANENT_REDIRECT)
        .insert_header((header::LOCATION, "/admin"))
        .finish()
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    match lookup(&file) {
        Some(a) => respond(a),
        None => error::not_found(&req),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use actix_web::{test as web_test, App};

    async fn get(path: &str) -> (StatusCode, header::HeaderMap, String) {
        // The whole route table, so the default service's order is tested too.
        let app = web_test::init_service(App::new().configure(crate::http::configure)).await;
        let resp =
            web_test::call_service(&app, web_test::TestRequest::get().uri(path).to_request()).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = web_test::read_body(resp).await;
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    fn header(h: &header::HeaderMap, name: header::HeaderName) -> &str {
        h.get(name).unwrap().to_str().unwrap()
    }

    #[actix_web::test]
    async fn index_is_html_with_a_strict_policy_and_no_store() {
        let (status, h, body) = get("/admin").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&h, header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&h, header::CACHE_CONTROL), "no-store");
        let csp = header(&h, header::CONTENT_SECURITY_POLICY);
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert!(body.contains("<script src=\"/admin/app.js\""));
        assert!(body.contains("href=\"/admin/app.css\""));
    }

    #[actix_web::test]
    async fn assets_have_their_content_types() {
        for (path, ct) in [
            ("/admin/app.js", "text/javascript; charset=utf-8"),
            ("/admin/app.css", "text/css; charset=utf-8"),
            ("/admin/favicon.svg", "image/svg+xml"),
        ] {
            let (status, h, body) = get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(header(&h, header::CONTENT_TYPE), ct, "{path}");
            assert_eq!(header(&h, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert!(!body.is_empty());
        }
    }

    #[actix_web::test]
    async fn unknown_assets_are_json_404s() {
        for path in ["/admin/nope.js", "/admin/..%2Fmod.rs", "/admin/index.html"] {
            let (status, h, body) = get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(header(&h, header::CONTENT_TYPE).starts_with("application/json"));
            assert!(body.contains("not_found"), "{body}");
        }
        let (status, h, _) = get("/admin/").await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&h, header::LOCATION), "/admin");
    }

    #[test]
    fn markup_has_no_inline_script_or_style() {
        // The policy would block them; catch it here rather than in a browser.
        let lower = INDEX_HTML.to_ascii_lowercase();
        assert!(!lower.contains("<style"));
        assert!(!lower.contains(" style="));
        assert!(!lower.contains(" onclick=") && !lower.contains(" onsubmit="));
        for script in lower.split("<script").skip(1) {
            let open = script.split('>').next().unwrap_or("");
            assert!(open.contains("src="), "inline <script>: {open}");
        }
        assert!(!lower.contains("http://") && !lower.contains("https://"));
    }
}
