//! Discovery endpoints (RFC 7644 §4): readable without a credential.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::{method_not_allowed, scim_json, Ctx, Mounted, Params, MAX_PAYLOAD_SIZE};
use crate::http::authed::{Authed, MaybeAuthed, ScimRead};
use crate::http::error::ScimFailure;
use crate::scim::discovery::{
    list_response, service_provider_config, BulkLimits, Features, LIMITS_SCHEMA,
};
use crate::scim::error::ScimError;
use crate::scim::path::AttrPath;
use crate::scim::resource::Kind;
use crate::scim::resource::Projection;
use crate::scim::schema::{resource_type_json, schema_json, Mutability, Registry};
use crate::store::orgs::DEFAULT_ORG_ID;

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

/// What this server supports: each claim comes from the routes that are
/// mounted or from the schema, never from a literal.
pub fn features(reg: &Registry, mounted: &Mounted) -> Features {
    Features {
        limits: crate::scim::discovery::Limits {
            max_values_per_attribute: reg.max_values(),
            max_patch_operations: crate::scim::patch::MAX_OPERATIONS,
            max_filter_length: crate::scim::filter::MAX_FILTER_LEN,
            max_filter_depth: crate::scim::filter::MAX_FILTER_DEPTH,
            max_string_bytes: crate::scim::schema::MAX_STRING_BYTES,
        },
        patch: mounted.patch,
        bulk: mounted.bulk.then_some(BulkLimits {
            max_operations: crate::scim::bulk::MAX_OPERATIONS,
            max_payload_size: MAX_PAYLOAD_SIZE,
        }),
        filter_max_results: mounted.list.then_some(crate::scim::list::MAX_RESULTS),
        sort: mounted.list,
        // RFC 7643 §5: changing the password through PUT or PATCH, which
        // needs a User `password` a client may write.
        change_password: mounted.patch && password_writable(reg),
        etag: mounted.conditional,
        max_payload_size: MAX_PAYLOAD_SIZE,
        pagination: mounted.list.then(crate::scim::cursor::pagination_config),
    }
}

fn password_writable(reg: &Registry) -> bool {
    reg.resource_type(Kind::User.name())
        .and_then(|rt| reg.resolve(rt, &AttrPath::new("password")))
        .is_some_and(|r| r.attr.mutability != Mutability::ReadOnly)
}

/// The registry discovery describes: the caller's organization's, read
/// fresh (one primary-key read, and the declarations only when they
/// changed), or the `default` organization's without a credential
/// (RFC 7644 §4 lets discovery go unauthenticated).
async fn registry(
    ctx: &Ctx,
    auth: &Option<Authed<ScimRead>>,
) -> Result<Arc<Registry>, ScimFailure> {
    let org = auth.as_ref().map_or(DEFAULT_ORG_ID, |a| a.org_id);
    let regs = Arc::clone(&ctx.state.registries);
    let (reg, version, _) =
        crate::service::schemas::for_request(&ctx.state.pool, &regs, org, None, false)
            .await
            .map_err(|e| ScimFailure::from(crate::service::Error::Store(e)))?;
    if auth.is_some() {
        // The token check still owed (made before the answer leaves)
        // confirms this version, not the cached one the extractor chose.
        ctx.gate.expect_schema_version(regs, org, version);
    }
    Ok(reg)
}

async fn spc(
    MaybeAuthed(auth): MaybeAuthed<ScimRead>,
    ctx: Ctx,
    mounted: web::Data<Mounted>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    // The limits extension is returned on request only (see LIMITS_SCHEMA).
    let with_limits = p.attributes.iter().any(|a| {
        a.sub.is_none()
            && a.urn
                .as_deref()
                .is_some_and(|u| format!("{u}:{}", a.attr).eq_ignore_ascii_case(LIMITS_SCHEMA))
    });
    let features = features(&*registry(&ctx, &auth).await?, &mounted);
    let doc = service_provider_config(&features, &ctx.base, with_limits);
    Ok(scim_json(StatusCode::OK, &project(&p, &doc)))
}

async fn schemas(
    MaybeAuthed(auth): MaybeAuthed<ScimRead>,
    ctx: Ctx,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let reg = registry(&ctx, &auth).await?;
    let all: Vec<_> = reg
        .schemas()
        .iter()
        .map(|s| project(&p, &schema_json(s, &ctx.base)))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &list_response(all.len() as i64, 1, all),
    ))
}

async fn schema(
    MaybeAuthed(auth): MaybeAuthed<ScimRead>,
    ctx: Ctx,
    id: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let reg = registry(&ctx, &auth).await?;
    let s = reg
        .schema(&id)
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &project(&p, &schema_json(s, &ctx.base)),
    ))
}

async fn resource_types(
    MaybeAuthed(auth): MaybeAuthed<ScimRead>,
    ctx: Ctx,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let reg = registry(&ctx, &auth).await?;
    let all: Vec<_> = reg
        .resource_types()
        .iter()
        .map(|rt| project(&p, &resource_type_json(rt, &ctx.base)))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &list_response(all.len() as i64, 1, all),
    ))
}

async fn resource_type(
    MaybeAuthed(auth): MaybeAuthed<ScimRead>,
    ctx: Ctx,
    id: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ScimFailure> {
    let p = params.projection_only()?;
    let reg = registry(&ctx, &auth).await?;
    let rt = reg
        .resource_types()
        .iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(&id))
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &project(&p, &resource_type_json(rt, &ctx.base)),
    ))
}

fn project(p: &Projection, doc: &serde_json::Value) -> serde_json::Value {
    crate::scim::discovery::project(doc, &p.attributes, &p.excluded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{AttrType, AttributeDef, SchemaDef, USER_SCHEMA};

    #[test]
    fn nothing_mounted_claims_nothing() {
        let f = features(&Registry::new(), &Mounted::default());
        assert!(!f.patch && !f.sort && !f.etag && !f.change_password);
        assert!(f.bulk.is_none() && f.filter_max_results.is_none() && f.pagination.is_none());
    }

    #[test]
    fn each_claim_follows_what_is_mounted() {
        let reg = Registry::new();
        let all = Mounted {
            patch: true,
            bulk: true,
            list: true,
            conditional: true,
        };
        let f = features(&reg, &all);
        assert!(f.patch && f.sort && f.etag && f.change_password);
        assert!(f.bulk.is_some() && f.filter_max_results.is_some() && f.pagination.is_some());
        let no_bulk = features(&reg, &Mounted { bulk: false, ..all });
        assert!(no_bulk.bulk.is_none() && no_bulk.patch);
        let no_list = features(&reg, &Mounted { list: false, ..all });
        assert!(!no_list.sort && no_list.filter_max_results.is_none() && no_list.etag);
    }

    #[test]
    fn change_password_needs_a_writable_password() {
        let base = Registry::new();
        let schemas: Vec<SchemaDef> = base
            .schemas()
            .iter()
            .cloned()
            .map(|mut s| {
                if s.id == USER_SCHEMA {
                    s.attributes.retain(|a| a.name != "password");
                    s.attributes
                        .push(AttributeDef::new("nickName2", AttrType::String, "x"));
                }
                s
            })
            .collect();
        let reg = Registry::with_definitions(schemas, base.resource_types().to_vec());
        let all = Mounted {
            patch: true,
            bulk: true,
            list: true,
            conditional: true,
        };
        assert!(!features(&reg, &all).change_password);
    }
}
