//! The headers every page and asset embedded in the binary is served with
//! (the admin page, the API docs page): one place for that policy, so a
//! new page cannot forget part of it.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpResponse;

/// `200` with `body`, its own Content-Security-Policy, and no sniffing, no
/// framing and no referrer.
pub fn embedded(
    body: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    csp: &'static str,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}
