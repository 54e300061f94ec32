//! `POST /Bulk` (RFC 7644 §3.7): `service::bulk` runs the operations; this
//! renders each one's result, a server fault as a generic body with the
//! request id (its cause logged once), like a whole response's.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::{method_not_allowed, scim_json, Mounted, ScimBody};
use crate::http::authed::{Authed, ScimWrite};
use crate::http::error::{scim_error_body, server_fault_body, Flavor, ScimFailure};
use crate::http::scim::fresh;
use crate::scim::bulk;
use crate::scim::etag::etag;
use crate::service::bulk::OpResult;
use crate::service::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig, mounted: &mut Mounted) {
    cfg.service(
        web::resource("/Bulk")
            .route(web::post().to(handle))
            .default_service(web::to(method_not_allowed)),
    );
    mounted.bulk = true;
}

async fn handle(
    auth: Authed<ScimWrite>,
    ctx: Ctx,
    body: ScimBody,
) -> Result<HttpResponse, ScimFailure> {
    let request = bulk::parse(&body.0)?;
    let (ctx, actor, request) = (&ctx, &auth.audit_actor(), &request);
    fresh(ctx, move || async move {
        let results = crate::service::bulk::run(ctx, actor, request).await;
        let rendered = results.into_iter().map(|r| result(r, &ctx.request_id));
        Ok(scim_json(
            StatusCode::OK,
            &bulk::response(rendered.collect()),
        ))
    })
    .await
}

fn result(r: OpResult<'_>, request_id: &str) -> Value {
    let mut out = Map::new();
    let method =
        r.op.method
            .as_ref()
            .map_or_else(|m| m.as_str(), |m| m.as_str());
    out.insert("method".into(), json!(method));
    if let Some(b) = &r.op.bulk_id {
        out.insert("bulkId".into(), json!(b));
    }
    match r.outcome.map_err(|e| ScimFailure::from(e).0) {
        Ok(done) => {
            out.insert("location".into(), json!(done.location));
            if let Some(v) = done.version {
                out.insert("version".into(), json!(etag(v)));
            }
            out.insert("status".into(), json!(done.status.to_string()));
        }
        Err(e) if e.status >= 500 => {
            log::error!(
                "request {request_id}: bulk operation: {}: {}",
                e.status,
                e.detail
            );
            out.insert("status".into(), json!(e.status.to_string()));
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            out.insert(
                "response".into(),
                server_fault_body(Flavor::Scim, status, request_id),
            );
        }
        Err(e) => {
            out.insert("status".into(), json!(e.status.to_string()));
            out.insert("response".into(), scim_error_body(&e));
        }
    }
    Value::Object(out)
}
