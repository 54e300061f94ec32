//! Discovery endpoints (RFC 7644 §4): readable without a credential.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::{method_not_allowed, scim_json, Ctx, Params, MAX_PAYLOAD_SIZE};
use crate::http::error::ScimFailure;
use crate::scim::discovery::{
    list_response, service_provider_config, BulkLimits, Features, LIMITS_SCHEMA,
};
use crate::scim::error::ScimError;
use crate::scim::schema::{resource_type_json, schema_json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/ServiceProviderConfig", web::get().to(spc)),
        ("/Schemas", web::get().to(schemas)),
        ("/Schemas/{id}", web::get().to(schema)),
        ("/ResourceTypes", web::get().to(resource_types)),
        ("/ResourceTypes/{id}", web::get().to(resource_type)),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

/// What this build really supports; update it with each feature.
pub fn features(reg: &crate::scim::schema::Registry) -> Features {
    Features {
        limits: crate::scim::discovery::Limits {
            max_values_per_attribute: reg.max_values(),
            max_patch_operations: crate::scim::patch::MAX_OPERATIONS,
            max_filter_length: crate::scim::filter::MAX_FILTER_LEN,
            max_filter_depth: crate::scim::filter::MAX_FILTER_DEPTH,
            max_string_bytes: crate::scim::schema::MAX_STRING_BYTES,
        },
        patch: true,
        bulk: Some(BulkLimits {
            max_operations: crate::scim::bulk::MAX_OPERATIONS,
            max_payload_size: MAX_PAYLOAD_SIZE,
        }),
        filter_max_results: Some(crate::scim::list::MAX_RESULTS),
        sort: true,
        change_password: true,
        etag: true,
        max_payload_size: MAX_PAYLOAD_SIZE,
        pagination: Some(crate::scim::cursor::pagination_config()),
    }
}

async fn spc(ctx: Ctx, params: Params) -> HttpResponse {
    // The limits extension is returned on request only (see LIMITS_SCHEMA).
    let with_limits = params.0.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("attributes")
            && v.split(',')
                .any(|a| a.trim().eq_ignore_ascii_case(LIMITS_SCHEMA))
    });
    scim_json(
        StatusCode::OK,
        &service_provider_config(&features(&ctx.state.registry), &ctx.base, with_limits),
    )
}

async fn schemas(ctx: Ctx, params: Params) -> Result<HttpResponse, ScimFailure> {
    params.projection_only()?;
    let all: Vec<_> = ctx
        .state
        .registry
        .schemas()
        .iter()
        .map(|s| schema_json(s, &ctx.base))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &list_response(all.len() as i64, 1, all),
    ))
}

async fn schema(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ScimFailure> {
    let s = ctx
        .state
        .registry
        .schema(&id)
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))?;
    Ok(scim_json(StatusCode::OK, &schema_json(s, &ctx.base)))
}

async fn resource_types(ctx: Ctx, params: Params) -> Result<HttpResponse, ScimFailure> {
    params.projection_only()?;
    let all: Vec<_> = ctx
        .state
        .registry
        .resource_types()
        .iter()
        .map(|rt| resource_type_json(rt, &ctx.base))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &list_response(all.len() as i64, 1, all),
    ))
}

async fn resource_type(ctx: Ctx, id: web::Path<String>) -> Result<HttpResponse, ScimFailure> {
    let rt = ctx
        .state
        .registry
        .resource_types()
        .iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(&id))
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &resource_type_json(rt, &ctx.base),
    ))
}
