//! `/health` (the process answers) and `/ready` (the database answers).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;
use crate::store;

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match store::read(&state.pool, store::ping).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            log::warn!("not ready: {e}");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "1"))
                .json(json!({ "status": "unavailable", "message": "the database is unavailable" }))
        }
    }
}
