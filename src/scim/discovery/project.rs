//! `attributes` / `excludedAttributes` (RFC 7644 §3.9) on the discovery
//! resources: ServiceProviderConfig, Schema and ResourceType documents.
//!
//! These have no attribute definitions in the registry, so the projection
//! goes by the document's own shape: names match keys case-insensitively,
//! `a.b` reaches into an object or into every object of an array, and a
//! URN prefix names either the core schema (`schemas[0]`, whose attributes
//! are at the top level) or an extension (a key of its own). A bare
//! extension URN selects the whole extension. `schemas` and `id` are
//! returned always (RFC 7643 §7), and names the document lacks select
//! nothing, as they would on a User.

use serde_json::{Map, Value};

use crate::scim::path::AttrPath;

/// `doc` projected as the request asked; unchanged when both lists are empty.
pub fn project(doc: &Value, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Value::Object(src) = doc else {
        return doc.clone();
    };
    let mut out = if attributes.is_empty() {
        src.clone()
    } else {
        let mut out = Map::new();
        for path in attributes {
            if let Some((container, key, sub)) = locate(src, path) {
                select(src, &mut out, container.as_deref(), &key, sub);
            }
        }
        out
    };
    for path in excluded {
        if let Some((container, key, sub)) = locate(src, path) {
            remove(&mut out, container.as_deref(), &key, sub);
        }
    }
    for always in ["schemas", "id"] {
        if let Some((k, v)) = src.get_key_value(always) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Where `path` lives in `src`: the extension key holding it (None for the
/// top level), the attribute's own key as spelled in the document, and the
/// sub-attribute asked for. None when the document has no such attribute.
fn locate<'p>(
    src: &Map<String, Value>,
    path: &'p AttrPath,
) -> Option<(Option<String>, String, Option<&'p str>)> {
    let sub = path.sub.as_deref();
    let Some(urn) = path.urn.as_deref() else {
        return Some((None, key_ci(src, &path.attr)?, sub));
    };
    // `urn:…:1.0:ServiceProviderConfig` parses as URN `urn:…:1.0` plus the
    // attribute `ServiceProviderConfig`: the whole extension.
    if sub.is_none() {
        if let Some(ext) = key_ci(src, &format!("{urn}:{}", path.attr)) {
            return Some((None, ext, None));
        }
    }
    let core = src
        .get("schemas")
        .and_then(|s| s.get(0))
        .and_then(Value::as_str);
    if core.is_some_and(|c| c.eq_ignore_ascii_case(urn)) {
        return Some((None, key_ci(src, &path.attr)?, sub));
    }
    let ext = key_ci(src, urn)?;
    let key = key_ci(src.get(&ext)?.as_object()?, &path.attr)?;
    Some((Some(ext), key, sub))
}

fn key_ci(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Copies `key` (or only its `sub`) from `src` into `out`, merging with what
/// earlier paths already selected there.
fn select(
    src: &Map<String, Value>,
    out: &mut Map<String, Value>,
    container: Option<&str>,
    key: &str,
    sub: Option<&str>,
) {
    let (from, into) = match container {
        None => (src, out),
        Some(ext) => {
            let Some(Value::Object(from)) = src.get(ext) else {
                return;
            };
            let into = out
                .entry(ext.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(into) = into else {
                return;
            };
            (from, into)
        }
    };
    let Some(value) = from.get(key) else {
        return;
    };
    let Some(sub) = sub else {
        into.insert(key.to_string(), value.clone());
        return;
    };
    let picked = pick_sub(value, sub);
    match (into.get_mut(key), picked) {
        (_, None) => {}
        (None, Some(p)) => {
            into.insert(key.to_string(), p);
        }
        (Some(existing), Some(p)) => merge(existing, p),
    }
}

/// Only `sub` of `value`: of the object, or of every object in the array
/// (elements without it are kept as empty objects, so positions line up
/// when several sub-attributes of one array are asked for).
fn pick_sub(value: &Value, sub: &str) -> Option<Value> {
    let only = |o: &Map<String, Value>| {
        let mut m = Map::new();
        if let Some(k) = key_ci(o, sub) {
            m.insert(k.clone(), o[&k].clone());
        }
        m
    };
    match value {
        Value::Object(o) => Some(Value::Object(only(o))),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|v| match v {
                    Value::Object(o) => Value::Object(only(o)),
                    other => other.clone(),
                })
                .collect(),
        )),
        _ => None,
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => a.extend(b),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                merge(x, y);
            }
        }
        (slot, v) => *slot = v,
    }
}

fn remove(out: &mut Map<String, Value>, container: Option<&str>, key: &str, sub: Option<&str>) {
    let into = match container {
        None => out,
        Some(ext) => match out.get_mut(ext) {
            Some(Value::Object(m)) => m,
            _ => return,
        },
    };
    let Some(sub) = sub else {
        into.remove(key);
        return;
    };
    let strip = |o: &mut Map<String, Value>| {
        if let Some(k) = key_ci(o, sub) {
            o.remove(&k);
        }
    };
    match into.get_mut(key) {
        Some(Value::Object(o)) => strip(o),
        Some(Value::Array(items)) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(strip),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::parse_attr_list;

    const EXT: &str = "urn:scimd:params:scim:schemas:extension:limits:1.0:ServiceProviderConfig";

    fn doc() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": "urn:ietf:params:scim:schemas:core:2.0:Group",
            "name": "Group",
            "attributes": [
                {"name": "displayName", "type": "string", "mutability": "readWrite"},
                {"name": "members", "type": "complex", "mutability": "readWrite"}
            ],
            "meta": {"resourceType": "Schema", "location": "https://x/Schemas/g"},
            EXT: {"maxFilterDepth": 32, "maxStringBytes": 1024}
        })
    }

    fn projected(attributes: &str, excluded: &str) -> Value {
        project(
            &doc(),
            &parse_attr_list(attributes).unwrap(),
            &parse_attr_list(excluded).unwrap(),
        )
    }

    #[test]
    fn attributes_keep_what_was_named_and_what_is_always_returned() {
        assert_eq!(
            projected("NAME", ""),
            json!({"schemas": doc()["schemas"], "id": doc()["id"], "name": "Group"})
        );
        assert_eq!(
            projected("attributes.name,attributes.type", "")["attributes"],
            json!([{"name": "displayName", "type": "string"}, {"name": "members", "type": "complex"}])
        );
        assert_eq!(
            projected(
                "urn:ietf:params:scim:schemas:core:2.0:Schema:meta.location",
                ""
            )["meta"],
            json!({"location": "https://x/Schemas/g"})
        );
        assert_eq!(projected(EXT, "")[EXT], doc()[EXT]);
        assert_eq!(
            projected(&format!("{EXT}:maxFilterDepth"), "")[EXT],
            json!({"maxFilterDepth": 32})
        );
        assert!(projected("nosuch", "").get("name").is_none());
    }

    #[test]
    fn excluded_attributes_drop_what_was_named_but_never_id_or_schemas() {
        let p = projected("", "attributes,id,schemas,meta.location");
        assert!(p.get("attributes").is_none());
        assert_eq!(p["id"], doc()["id"]);
        assert_eq!(p["schemas"], doc()["schemas"]);
        assert_eq!(p["meta"], json!({"resourceType": "Schema"}));
        assert_eq!(
            projected("", "attributes.mutability")["attributes"][1],
            json!({"name": "members", "type": "complex"})
        );
        assert_eq!(projected("", ""), doc());
    }
}
