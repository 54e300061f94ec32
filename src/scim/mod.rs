//! Pure SCIM protocol code: no HTTP, no SQL. Everything here takes its inputs
//! (including `now`) as arguments and can be tested without a server.

pub mod bulk;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod filter;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod policy;
pub mod profile;
pub mod resource;
pub mod schema;
