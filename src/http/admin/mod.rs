//! The admin API under `/api/v1` (JSON).

pub mod audit;
pub mod connectors;
pub mod deleted;
pub mod schemas;
pub mod tokens;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    tokens::configure(cfg);
    audit::configure(cfg);
    schemas::configure(cfg);
    connectors::configure(cfg);
    deleted::configure(cfg);
}
