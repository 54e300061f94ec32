//! `/api/v1/openapi.json` and `/api/v1/docs`: the document is well-formed
//! OpenAPI 3.1, it names every route the source registers, every operation it
//! names is really served (with the methods and security it claims), and the
//! docs page loads under its strict policy.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::client::{request, Resp};
use crate::harness::{get, TestApp, TestDb};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn spec(app: &TestApp) -> Value {
    let r = get(&app.url("/api/v1/openapi.json"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.header("content-type")
    );
    r.json()
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            assert!(METHODS.contains(&method.as_str()), "{method} on {path}");
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

/// A parameter, with a `$ref` to `components/parameters` followed.
fn resolve<'a>(doc: &'a Value, p: &'a Value) -> &'a Value {
    match p["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => p,
    }
}

fn check_refs(v: &Value, doc: &Value) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                let local = r.strip_prefix('#').expect("only local references");
                assert!(doc.pointer(local).is_some(), "dangling {r}");
            }
            m.values().for_each(|x| check_refs(x, doc));
        }
        Value::Array(a) => a.iter().for_each(|x| check_refs(x, doc)),
        _ => {}
    }
}

/// `{anything}` becomes `{}`, so `{id}` and `{name}` compare equal.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_and_every_operation_is_complete() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let doc = spec(&app);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    check_refs(&doc, &doc);

    let tags: HashSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["Admin", "SCIM", "Discovery", "Operations"] {
        assert!(tags.contains(t), "tag {t}");
    }

    let mut ids = HashSet::new();
    let ops = operations(&doc);
    assert!(ops.len() > 40, "only {} operations", ops.len());
    for (path, method, op) in &ops {
        let at = format!("{method} {path}");
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_string()),
            "{at}: operationId reused"
        );
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{at}: no responses"));
        assert!(!responses.is_empty(), "{at}: no responses");
        for (status, r) in responses {
            assert!(
                status.len() == 3 && status.parse::<u16>().is_ok(),
                "{at}: status {status}"
            );
            assert!(
                r["description"].is_string(),
                "{at} {status}: no description"
            );
        }
        for tag in op["tags"].as_array().unwrap() {
            assert!(
                tags.contains(tag.as_str().unwrap()),
                "{at}: undeclared tag {tag}"
            );
        }
        // Each `{param}` of the path is declared, in the path, required.
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().map(|p| resolve(&doc, p)).collect())
            .unwrap_or_default();
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{at}: path parameter {name} not declared"
            );
        }
        // A protected operation names its scope and answers 401 and 403.
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: no security"));
        if !security.is_empty() {
            assert!(security[0]["bearerAuth"].is_array(), "{at}");
            assert!(
                op["description"].as_str().unwrap().contains("Scope:"),
                "{at}"
            );
            assert!(
                op["x-scopes"].as_array().is_some_and(|s| !s.is_empty()),
                "{at}"
            );
            for s in ["401", "403"] {
                assert!(responses.contains_key(s), "{at}: no {s}");
            }
        }
    }
    // The query parameters of a list.
    let list = doc["paths"]["/scim/v2/Users"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: HashSet<&str> = list
        .iter()
        .map(|p| resolve(&doc, p)["name"].as_str().unwrap())
        .collect();
    for n in [
        "filter",
        "sortBy",
        "sortOrder",
        "startIndex",
        "count",
        "cursor",
        "attributes",
        "excludedAttributes",
    ] {
        assert!(names.contains(n), "{n}");
    }
}

// ----- routes registered in the source -----------------------------------

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without `#[cfg(test)] mod … { … }` blocks: test-only routes are
/// not the server's.
fn without_test_modules(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    const ATTR: &str = "#[cfg(test)]";
    while let Some(at) = rest.find(ATTR) {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if !after[ATTR.len()..].trim_start().starts_with("mod ") {
            out.push_str(ATTR);
            rest = &after[ATTR.len()..];
            continue;
        }
        let Some(open) = after.find('{') else {
            return out;
        };
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// String literals that follow `opener` (whitespace allowed before the quote).
fn literals_after(text: &str, opener: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(opener) {
        let rest = text[at + opener.len()..].trim_start();
        if let Some(lit) = rest.strip_prefix('"') {
            if let Some(end) = lit.find('"') {
                out.push(lit[..end].to_string());
            }
        }
    }
    out
}

/// Paths in route tables written as `("/path", web::get().to(h))`.
fn table_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("(\"/") {
        let lit = &text[at + 2..];
        if let Some(end) = lit.find('"') {
            if lit[end + 1..].trim_start().starts_with(", web::") {
                out.push(lit[..end].to_string());
            }
        }
    }
    out
}

/// Every route path the source registers, with its scope prefix: files
/// under `src/http/scim/` are inside `/scim/v2`, those under
/// `src/http/admin/` and `src/http/openapi/` inside `/api/v1`, the rest at
/// the root.
fn registered_routes() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut routes = BTreeSet::new();
    let mut scopes = BTreeSet::new();
    for file in files {
        let text = without_test_modules(&std::fs::read_to_string(&file).unwrap());
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let prefix = if rel.starts_with("scim/") {
            "/scim/v2"
        } else if rel.starts_with("admin/") || rel.starts_with("openapi/") {
            "/api/v1"
        } else {
            ""
        };
        scopes.extend(literals_after(&text, "web::scope("));
        let mut paths = literals_after(&text, "web::resource(");
        paths.extend(literals_after(&text, ".route("));
        paths.extend(table_literals(&text));
        for p in paths {
            routes.insert(format!("{prefix}{p}"));
        }
    }
    // A new scope needs a line in the mapping above.
    assert_eq!(
        scopes,
        BTreeSet::from(["/api/v1".to_string(), "/scim/v2".to_string()]),
        "scopes changed: update registered_routes()"
    );
    routes
}

#[test]
fn every_registered_route_is_documented() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let doc = spec(&app);
    let documented: HashSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| normalise(p))
        .collect();
    let routes = registered_routes();
    // The scan must find the route tables, including the loop-registered ones.
    for known in [
        "/health",
        "/api/v1/tokens/{id}/rotate",
        "/scim/v2/Users/.search",
        "/scim/v2/Schemas/{id}",
    ] {
        assert!(routes.contains(known), "scan missed {known}: {routes:?}");
    }
    let missing: Vec<&String> = routes
        .iter()
        .filter(|r| !documented.contains(&normalise(r)))
        .collect();
    assert!(
        missing.is_empty(),
        "registered but not in openapi.json: {missing:?}"
    );
}

// ----- every documented operation is served --------------------------------

/// The default service's answer: the route does not exist.
fn is_catch_all(r: &Resp) -> bool {
    r.status == 404 && r.body.contains("no such endpoint")
}

/// A concrete URL for a documented path: a parameter with an `enum` takes
/// its first value, any other (ids) a random UUID.
fn concrete(doc: &Value, path: &str, op: &Value) -> String {
    let mut out = path.to_string();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = resolve(doc, p);
        if p["in"] != "path" {
            continue;
        }
        let name = p["name"].as_str().unwrap();
        let value = p["schema"]["enum"][0]
            .as_str()
            .or_else(|| p["schema"]["examples"][0].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    out
}

#[test]
fn every_documented_operation_is_served_with_the_security_it_claims() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    // The declared-type endpoints are served once a type is declared: the
    // agent types, at their documented example endpoint `/Agents`.
    let admin = crate::harness::seed_token(&db, &["all"]);
    let agents: Value = serde_json::from_str(include_str!("../../schemas/agents.json")).unwrap();
    for t in agents.as_array().unwrap() {
        let r = request(
            "POST",
            &app.url("/api/v1/resource-types"),
            Some(&admin),
            Some(t),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let doc = spec(&app);
    let ops = operations(&doc);
    let mut by_path: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, method, op) in &ops {
        let url = app.url(&concrete(&doc, path, op));
        let r = request(&method.to_uppercase(), &url, None, None);
        let at = format!("{method} {path}");
        assert!(
            !is_catch_all(&r),
            "{at}: not registered ({} {})",
            r.status,
            r.body
        );
        assert_ne!(r.status, 405, "{at}: method not allowed: {}", r.body);
        let protected = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if protected {
            assert_eq!(r.status, 401, "{at} without a token: {}", r.body);
        } else {
            assert_ne!(r.status, 401, "{at} is documented as public: {}", r.body);
        }
        by_path
            .entry(path.clone())
            .or_default()
            .push(method.clone());
    }
    // And the reverse on methods: one the document does not list is not served.
    for (path, methods) in by_path {
        let op = &doc["paths"][&path][&methods[0]];
        let url = app.url(&concrete(&doc, &path, op));
        for m in METHODS.iter().filter(|m| !methods.iter().any(|d| d == *m)) {
            let r = request(&m.to_uppercase(), &url, None, None);
            assert!(
                is_catch_all(&r) || r.status == 405,
                "{m} {path} is served ({}) but not documented",
                r.status
            );
        }
    }
}

// ----- the docs page --------------------------------------------------------

#[test]
fn the_docs_page_loads_with_a_strict_policy() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let page = get(&app.url("/api/v1/docs"), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").expect("CSP header");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    let assets: Vec<String> = ["src=", "href="]
        .iter()
        .flat_map(|a| literals_after(&page.body, a))
        .filter(|u| u.starts_with("/api/v1/docs/"))
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    for url in &assets {
        let r = get(&app.url(url), None);
        assert_eq!(r.status, 200, "{url}");
        let ct = r.header("content-type").unwrap_or("");
        let want = if url.ends_with(".js") {
            "text/javascript"
        } else if url.ends_with(".css") {
            "text/css"
        } else if url.ends_with(".svg") {
            "image/svg+xml"
        } else {
            panic!("unexpected asset {url}")
        };
        assert!(ct.starts_with(want), "{url}: {ct}");
        assert!(!r.body.is_empty(), "{url}");
    }
    // The script reads the document the page describes.
    let js = get(&app.url("/api/v1/docs/docs.js"), None);
    assert!(js.body.contains("/api/v1/openapi.json"));
    let r = get(&app.url("/api/v1/docs/nope.js"), None);
    assert_eq!(r.status, 404);
}
