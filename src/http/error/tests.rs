//! Every error's answer, pinned: statuses, SCIM types and bodies.

use super::*;

#[test]
fn store_errors_map_to_statuses() {
    assert_eq!(
        ApiError::Store(StoreError::Unavailable("x".into())).status_code(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        ApiError::Store(StoreError::Conflict("k".into())).status_code(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        ApiError::Store(StoreError::NotFound).status_code(),
        StatusCode::NOT_FOUND
    );
}

/// Every store error, as the SCIM API and the admin API answer it.
#[test]
fn every_store_error_has_one_pinned_answer() {
    use crate::scim::error::ScimType;
    let table: Vec<(StoreError, u16, Option<ScimType>, StatusCode)> = vec![
        (
            StoreError::Unavailable("down".into()),
            503,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            StoreError::ConnectionLost("closed".into()),
            503,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (StoreError::NotFound, 404, None, StatusCode::NOT_FOUND),
        (
            StoreError::PreconditionFailed,
            412,
            None,
            StatusCode::PRECONDITION_FAILED,
        ),
        (
            StoreError::Conflict("k".into()),
            409,
            Some(ScimType::Uniqueness),
            StatusCode::CONFLICT,
        ),
        (StoreError::Revoked, 409, None, StatusCode::CONFLICT),
        (
            StoreError::TokenNotLive,
            401,
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            StoreError::RegistryStale,
            503,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            StoreError::Rejected(ScimError::invalid_value("bad")),
            400,
            Some(ScimType::InvalidValue),
            StatusCode::BAD_REQUEST,
        ),
        (
            StoreError::Transient {
                reason: crate::store::RetryReason::Deadlock,
                cause: "deadlock detected".into(),
            },
            503,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            StoreError::Db("syntax".into()),
            500,
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ];
    for (e, scim_status, scim_type, api_status) in table {
        let name = format!("{e:?}");
        let api = ApiError::Store(clone_store_error(&e)).status_code();
        assert_eq!(api, api_status, "{name} on /api/v1");
        let ScimFailure(scim) = e.into();
        assert_eq!(scim.status, scim_status, "{name} on /scim/v2");
        assert_eq!(scim.scim_type, scim_type, "{name} on /scim/v2");
    }
}

fn clone_store_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(c) => StoreError::Unavailable(c.clone()),
        StoreError::ConnectionLost(c) => StoreError::ConnectionLost(c.clone()),
        StoreError::NotFound => StoreError::NotFound,
        StoreError::PreconditionFailed => StoreError::PreconditionFailed,
        StoreError::Conflict(c) => StoreError::Conflict(c.clone()),
        StoreError::Revoked => StoreError::Revoked,
        StoreError::TokenNotLive => StoreError::TokenNotLive,
        StoreError::RegistryStale => StoreError::RegistryStale,
        StoreError::Rejected(s) => StoreError::Rejected(s.clone()),
        StoreError::Transient { reason, cause } => StoreError::Transient {
            reason: *reason,
            cause: cause.clone(),
        },
        StoreError::Db(c) => StoreError::Db(c.clone()),
    }
}

#[test]
fn scim_body_has_string_status() {
    let body = scim_error_body(&ScimError::uniqueness("taken"));
    assert_eq!(body["status"], "409");
    assert_eq!(body["scimType"], "uniqueness");
    assert_eq!(body["schemas"][0], SCIM_ERROR_URN);
}
