//! Integration tests: real HTTP against a real scimd over a real PostgreSQL
//! cluster that this test process starts (and a watchdog removes) itself.

// Test code may panic on broken expectations; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod audit;
mod auth;
mod concurrency;
mod connectors;
mod counts;
mod custom_schemas;
mod custom_types;
mod discovery;
mod embedded;
mod events;
mod filter_agreement;
mod fixtures;
mod generic_plans;
mod hostile;
mod instances;
mod limits;
mod me;
mod metrics;
mod migrations;
mod nul;
mod openapi;
mod outage;
mod query;
mod rate_limits;
mod receiver;
mod request_log;
mod resources;
mod round_trips;
mod schema_matrix;
mod soft_delete;
mod token_secrets;
mod tokens;
