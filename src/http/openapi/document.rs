//! The whole OpenAPI 3.1 document: info, tags, components, and the paths of
//! each area.

use serde_json::{json, Value};

use super::builder::Paths;
use super::{admin, components, connectors, discovery, operations, scim, subscriptions};

const DESCRIPTION: &str = "\
scimd is a SCIM 2.0 provisioning server (RFC 7643, RFC 7644).

**Authentication.** Send a token as `Authorization: Bearer <value>`. Each \
operation's description names the scope it needs (also in `x-scopes`). \
`all` grants every scope; `admin:write` grants `admin:read` and `admin:scim`; \
`connect:write` grants `connect:read`. A missing or bad credential is `401`; \
a valid one without the scope is `403`.

**Errors.** Under `/scim/v2` every error (unknown routes and methods too, `404` \
and `405`) is an RFC 7644 §3.12 body (`ScimError`); elsewhere it is \
`{error, message}` JSON (`ApiError`). A `503` carries `Retry-After`.";

/// Builds the document. Pure: the same on every call.
pub fn document() -> Value {
    let mut paths = Paths::default();
    operations::paths(&mut paths);
    admin::paths(&mut paths);
    connectors::paths(&mut paths);
    subscriptions::paths(&mut paths);
    scim::paths(&mut paths);
    discovery::paths(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scimd",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "/", "description": "This server" }],
        "tags": [
            { "name": admin::TAG, "description": "Tokens, the audit log and the admin web page." },
            { "name": scim::TAG, "description": "Users, groups, /Me, search and bulk (RFC 7644)." },
            { "name": discovery::TAG, "description": "What the server supports; no credential needed." },
            { "name": operations::TAG, "description": "Health, readiness, metrics and this description." },
        ],
        "paths": paths.into_value(),
        "components": components::components(),
    })
}
