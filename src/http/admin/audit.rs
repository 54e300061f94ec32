//! `GET /api/v1/audit` (the change log, newest first, keyset-paged) and
//! `GET /api/v1/overview` (counts and each token's last change). Both need
//! `admin:read`.

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::http::authed::{AdminRead, Authed};
use crate::http::error::ApiError;
use crate::service::{self, FieldError};
use crate::state::AppState;
use crate::store::audit;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list))
        .route("/overview", web::get().to(overview));
}

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn encode_cursor(e: &audit::Entry) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}:{}",
        e.at.timestamp_micros(),
        e.id
    ))
}

fn decode_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (micros, id) = text.split_once(':')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

/// Free-text filters are compared with stored text; PostgreSQL text holds
/// no NUL, and no stored type or id holds any control character.
fn printable(field: &str, v: String) -> Result<String, ApiError> {
    if v.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(v)
}

fn parse_query(req: &HttpRequest) -> Result<audit::AuditQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
    let time = |field: &str, v: &str| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad(field, "must be an RFC 3339 date-time"))
    };
    let mut q = audit::AuditQuery {
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    for (k, v) in pairs.into_inner() {
        match k.as_str() {
            "actor" => {
                q.actor = Some(Uuid::parse_str(&v).map_err(|_| bad("actor", "must be a token id"))?)
            }
            "resource_type" => q.resource_type = Some(printable("resource_type", v)?),
            "resource_id" => q.resource_id = Some(printable("resource_id", v)?),
            "since" => q.since = Some(time("since", &v)?),
            "until" => q.until = Some(time("until", &v)?),
            "cursor" => {
                q.after = Some(
                    decode_cursor(&v)
                        .ok_or_else(|| bad("cursor", "is not a cursor this server issued"))?,
                )
            }
            "limit" => {
                q.limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad("limit", "must be an integer from 1 to 500"))?
            }
            other => return Err(bad(other, "is not a parameter of this endpoint")),
        }
    }
    Ok(q)
}

fn entry_json(e: &audit::Entry) -> Value {
    let mut v = json!({
        "id": e.id,
        "at": e.at,
        "actor": { "token_id": e.actor_token_id, "name": e.actor_name, "connector_id": e.connector_id },
        "action": e.action,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "status": e.status,
    });
    if let Some(r) = &e.request_id {
        v["request_id"] = json!(r);
    }
    if let Some(d) = &e.details {
        v["details"] = d.clone();
    }
    v
}

async fn list(
    auth: Authed<AdminRead>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = parse_query(&req)?;
    let page = service::audit::list(&state.pool, auth.org_id, q).await?;
    let next = if page.more {
        page.entries.last().map(encode_cursor)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(json!({
        "entries": page.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

async fn overview(
    auth: Authed<AdminRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let o = service::audit::overview(&state.pool, auth.org_id).await?;
    let tokens: Vec<Value> = o
        .tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "last_activity": t.last_change.as_ref().map(|e| json!({
                    "at": e.at,
                    "action": e.action,
                    "resource_type": e.resource_type,
                    "resource_id": e.resource_id,
                })),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "users": o.users, "groups": o.groups, "tokens": tokens })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let e = audit::Entry {
            id: Uuid::now_v7(),
            org_id: Uuid::nil(),
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            actor_token_id: None,
            actor_name: "x".into(),
            action: "user.create".into(),
            resource_type: "User".into(),
            resource_id: "1".into(),
            status: 201,
            details: None,
            request_id: None,
            connector_id: None,
        };
        assert_eq!(decode_cursor(&encode_cursor(&e)), Some((e.at, e.id)));
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor("MTIz"), None);
    }
}
