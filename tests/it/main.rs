//! Integration tests: real HTTP against a real scimd over a real PostgreSQL
//! cluster that this test process starts (and a watchdog removes) itself.

mod harness;

mod auth;
mod embedded;
mod migrations;
mod tokens;
