//! scimd: a SCIM 2.0 provisioning server (RFC 7643, RFC 7644).
//!
//! Layers, with dependencies pointing one way: `http` → `service` →
//! `auth`, `store`, `scim`; `store` → `scim` types; `scim` is pure protocol
//! code. `main`, `cli` and `server` are the entry points; `metrics` is the
//! registry each server's `state` holds and `http` feeds.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod database;
pub mod http;
pub mod metrics;
pub mod scim;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
