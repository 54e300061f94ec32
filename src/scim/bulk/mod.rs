//! Bulk requests (RFC 7644 §3.7), the pure part: parsing a BulkRequest into
//! operations, finding the `bulkId:` references each one makes, and
//! substituting resolved ids; and ([`plan`]) the order they run in.
//! Executing them is the application layer's job (`service::bulk`).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

mod plan;

pub use plan::{DeferredAdd, Planner, Step};

use super::error::{ScimError, ScimResult, ScimType};

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Advertised as `bulk.maxOperations`.
pub const MAX_OPERATIONS: usize = 1000;
const REF_PREFIX: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One operation as the client sent it. `method` is kept as text so a bad
/// one can still be echoed in its error result.
#[derive(Debug, Clone)]
pub struct BulkOp {
    pub method: Result<Method, String>,
    pub bulk_id: Option<String>,
    pub version: Option<String>,
    pub path: String,
    pub data: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None` = never.
    pub fail_on_errors: Option<usize>,
    pub ops: Vec<BulkOp>,
}

fn get_ci<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parses a BulkRequest. Whole-request problems are errors here; problems of
/// one operation (a bad method, a missing path) are left for that
/// operation's own result, so the rest still run.
pub fn parse(body: &Value) -> ScimResult<BulkRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a BulkRequest must be a JSON object"))?;
    let schemas_ok = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must contain {BULK_REQUEST}"
        )));
    }
    let fail_on_errors = match get_ci(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => {
                return Err(ScimError::invalid_value(
                    "failOnErrors must be an integer of at least 1",
                ))
            }
        },
    };
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("a BulkRequest needs an Operations array"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            Some(ScimType::TooLarge),
            format!(
                "the request has {} operations; maxOperations is {MAX_OPERATIONS}",
                ops.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let o = op.as_object().ok_or_else(|| {
            ScimError::invalid_syntax(format!("Operations[{i}] must be an object"))
        })?;
        let text = |k: &str| get_ci(o, k).and_then(Value::as_str).map(str::to_string);
        let method_text = text("method").unwrap_or_default();
        let method = match method_text.to_ascii_uppercase().as_str() {
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "PATCH" => Ok(Method::Patch),
            "DELETE" => Ok(Method::Delete),
            _ => Err(method_text),
        };
        let bulk_id = text("bulkId");
        if let Some(b) = &bulk_id {
            if !seen.insert(b.clone()) {
                return Err(ScimError::invalid_value(format!(
                    "bulkId {b:?} is used by more than one operation"
                )));
            }
        }
        parsed.push(BulkOp {
            method,
            bulk_id,
            version: text("version"),
            path: text("path").unwrap_or_default(),
            data: get_ci(o, "data").cloned(),
        });
    }
    Ok(BulkRequest {
        fail_on_errors,
        ops: parsed,
    })
}

/// Every `bulkId:X` an operation refers to, in its path or anywhere in its
/// data, in first-seen order.
pub fn references(op: &BulkOp) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = op
        .path
        .split('/')
        .find_map(|seg| seg.strip_prefix(REF_PREFIX))
    {
        out.push(r.to_string());
    }
    if let Some(d) = &op.data {
        collect_refs(d, &mut out);
    }
    let mut seen = HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix(REF_PREFIX) {
                out.push(r.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Replaces `bulkId:X` (a whole string, or a path segment) with X's id.
pub fn substitute(v: &Value, ids: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => match s.strip_prefix(REF_PREFIX).and_then(|r| ids.get(r)) {
            Some(id) => Value::String(id.clone()),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, ids)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn substitute_path(path: &str, ids: &HashMap<String, String>) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix(REF_PREFIX).and_then(|r| ids.get(r)) {
                Some(id) => id.as_str(),
                None => seg,
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Removes the group members whose value is an unresolved `bulkId:` in
/// `pending`, returning the new data and the bulkIds removed. This is how a
/// circular reference between new groups is broken (RFC 7644 §3.7.1): the
/// group is created without them, and they are added once they exist.
pub fn defer_member_refs(data: &Value, pending: &HashSet<String>) -> (Value, Vec<String>) {
    let mut out = data.clone();
    let mut deferred = Vec::new();
    if let Some(obj) = out.as_object_mut() {
        if let Some((_, Value::Array(members))) = obj
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("members"))
        {
            members.retain(|m| {
                let r = m
                    .get("value")
                    .and_then(Value::as_str)
                    .and_then(|s| s.strip_prefix(REF_PREFIX))
                    .filter(|r| pending.contains(*r));
                match r {
                    Some(r) => {
                        deferred.push(r.to_string());
                        false
                    }
                    None => true,
                }
            });
        }
    }
    (out, deferred)
}

/// Whether every unresolved reference of `op` is a group member value, so
/// deferring those members breaks the cycle.
pub fn only_member_refs(op: &BulkOp, pending: &HashSet<String>) -> bool {
    let Some(data) = &op.data else { return false };
    let (rest, deferred) = defer_member_refs(data, pending);
    if deferred.is_empty() || op.path.contains(REF_PREFIX) {
        return false;
    }
    let mut left = Vec::new();
    collect_refs(&rest, &mut left);
    !left.iter().any(|r| pending.contains(r))
}

/// The BulkResponse envelope around per-operation results.
pub fn response(results: Vec<Value>) -> Value {
    json!({ "schemas": [BULK_RESPONSE], "Operations": results })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ops: Value) -> Value {
        json!({"schemas": [BULK_REQUEST], "Operations": ops})
    }

    #[test]
    fn parses_operations_and_finds_references() {
        let r = parse(&req(json!([
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "a"}},
            {"method": "post", "path": "/Groups", "bulkId": "g1",
             "data": {"displayName": "g", "members": [{"value": "bulkId:u1"}]}},
            {"method": "PATCH", "path": "/Groups/bulkId:g1", "data": {}},
            {"method": "GET", "path": "/Users"}
        ])))
        .unwrap();
        assert_eq!(r.ops.len(), 4);
        assert_eq!(r.ops[1].method, Ok(Method::Post));
        assert_eq!(references(&r.ops[1]), ["u1"]);
        assert_eq!(references(&r.ops[2]), ["g1"]);
        assert_eq!(r.ops[3].method, Err("GET".to_string()));
    }

    #[test]
    fn whole_request_errors() {
        assert_eq!(
            parse(&json!([])).unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            parse(&json!({"Operations": []})).unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
        let too_many: Vec<Value> = (0..=MAX_OPERATIONS)
            .map(|_| json!({"method": "DELETE", "path": "/Users/x"}))
            .collect();
        assert_eq!(parse(&req(Value::Array(too_many))).unwrap_err().status, 413);
        let dup =
            req(json!([{"method": "POST", "bulkId": "a"}, {"method": "POST", "bulkId": "a"}]));
        assert_eq!(
            parse(&dup).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        let bad_fail = json!({"schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": []});
        assert!(parse(&bad_fail).is_err());
    }

    #[test]
    fn substitution_in_data_and_path() {
        let ids = HashMap::from([("u1".to_string(), "id-1".to_string())]);
        let v = substitute(
            &json!({"members": [{"value": "bulkId:u1"}, {"value": "bulkId:zz"}]}),
            &ids,
        );
        assert_eq!(
            v,
            json!({"members": [{"value": "id-1"}, {"value": "bulkId:zz"}]})
        );
        assert_eq!(substitute_path("/Users/bulkId:u1", &ids), "/Users/id-1");
    }

    #[test]
    fn member_cycles_can_be_deferred() {
        let op = BulkOp {
            method: Ok(Method::Post),
            bulk_id: Some("a".into()),
            version: None,
            path: "/Groups".into(),
            data: Some(
                json!({"displayName": "A", "members": [{"value": "bulkId:b"}, {"value": "x"}]}),
            ),
        };
        let pending = HashSet::from(["b".to_string()]);
        assert!(only_member_refs(&op, &pending));
        let (data, deferred) = defer_member_refs(op.data.as_ref().unwrap(), &pending);
        assert_eq!(deferred, ["b"]);
        assert_eq!(data["members"], json!([{"value": "x"}]));
    }
}
