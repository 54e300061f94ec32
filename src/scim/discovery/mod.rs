//! `/ServiceProviderConfig` (RFC 7643 §5): what this server supports. It is
//! built from [`Features`], which the HTTP layer fills from what is really
//! wired up, so the document cannot claim more than the server does.

mod project;

use serde_json::{json, Value};

pub use project::project;

pub const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

#[derive(Debug, Clone)]
pub struct BulkLimits {
    pub max_operations: usize,
    pub max_payload_size: usize,
}

/// The extension of `/ServiceProviderConfig` that advertises this server's
/// limits, which RFC 7643 §5 has no attributes for. Its attributes are
/// `returned: request` (RFC 7643 §2.4): they appear only when `attributes`
/// names the extension, because strict clients (scim2-tester's pydantic
/// models) refuse a ServiceProviderConfig with keys they do not know.
pub const LIMITS_SCHEMA: &str =
    "urn:scimd:params:scim:schemas:extension:limits:1.0:ServiceProviderConfig";

/// Request-size limits beyond `bulk` and `filter.maxResults`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Values a multi-valued attribute may hold (Group `members` excepted).
    pub max_values_per_attribute: usize,
    pub max_patch_operations: usize,
    pub max_filter_length: usize,
    pub max_filter_depth: usize,
    pub max_string_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct Features {
    pub limits: Limits,
    pub patch: bool,
    pub bulk: Option<BulkLimits>,
    /// `filter.maxResults` when filtering is supported.
    pub filter_max_results: Option<i64>,
    pub sort: bool,
    pub change_password: bool,
    pub etag: bool,
    /// The largest request body accepted, in bytes.
    pub max_payload_size: usize,
    /// RFC 9865 `pagination` object, when cursor paging is supported.
    pub pagination: Option<Value>,
}

/// The document; `with_limits` adds the [`LIMITS_SCHEMA`] extension.
pub fn service_provider_config(f: &Features, base_url: &str, with_limits: bool) -> Value {
    let (bulk_ops, bulk_payload) = f.bulk.as_ref().map_or((0, f.max_payload_size), |b| {
        (b.max_operations, b.max_payload_size)
    });
    let l = &f.limits;
    let mut doc = json!({
        "schemas": [SPC_SCHEMA, LIMITS_SCHEMA],
        LIMITS_SCHEMA: {
            "maxValuesPerAttribute": l.max_values_per_attribute,
            "maxPatchOperations": l.max_patch_operations,
            "maxFilterLength": l.max_filter_length,
            "maxFilterDepth": l.max_filter_depth,
            "maxStringBytes": l.max_string_bytes,
        },
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": f.patch },
        "bulk": {
            "supported": f.bulk.is_some(),
            "maxOperations": bulk_ops,
            "maxPayloadSize": bulk_payload,
        },
        "filter": {
            "supported": f.filter_max_results.is_some(),
            "maxResults": f.filter_max_results.unwrap_or(0),
        },
        "changePassword": { "supported": f.change_password },
        "sort": { "supported": f.sort },
        "etag": { "supported": f.etag },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A scimd API token (or the configured AUTH_SECRET) sent as 'Authorization: Bearer <value>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    });
    if let Some(p) = &f.pagination {
        doc["pagination"] = p.clone();
    }
    if !with_limits {
        if let Some(m) = doc.as_object_mut() {
            m.remove(LIMITS_SCHEMA);
        }
        doc["schemas"] = json!([SPC_SCHEMA]);
    }
    doc
}

/// A ListResponse (RFC 7644 §3.4.2) around `resources`.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_exactly_the_features_given() {
        let f = Features {
            limits: Limits {
                max_values_per_attribute: 7,
                max_patch_operations: 8,
                max_filter_length: 9,
                max_filter_depth: 10,
                max_string_bytes: 11,
            },
            patch: false,
            bulk: None,
            filter_max_results: None,
            sort: false,
            change_password: true,
            etag: true,
            max_payload_size: 1024,
            pagination: None,
        };
        let plain = service_provider_config(&f, "http://h/scim/v2", false);
        assert_eq!(plain["schemas"], json!([SPC_SCHEMA]));
        assert!(plain.get(LIMITS_SCHEMA).is_none());
        let d = service_provider_config(&f, "http://h/scim/v2", true);
        assert_eq!(d["patch"]["supported"], false);
        assert_eq!(d["bulk"]["supported"], false);
        assert_eq!(d["filter"]["supported"], false);
        assert_eq!(d["etag"]["supported"], true);
        assert_eq!(d["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(d["schemas"][1], LIMITS_SCHEMA);
        assert_eq!(d[LIMITS_SCHEMA]["maxValuesPerAttribute"], 7);
        assert_eq!(d[LIMITS_SCHEMA]["maxStringBytes"], 11);
        assert!(d.get("pagination").is_none());
    }
}
