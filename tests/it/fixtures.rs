//! Replays every recorded exchange in `scim-fixtures/` against a real server
//! and database. A fixture is a list of steps: a request, the expected status,
//! and an expected body that the answer must contain (extra fields allowed;
//! arrays must match element by element). Markers: `"<any>"` matches any
//! present value (ids, timestamps), `"<absent>"` requires the key to be
//! missing, and `"{{name}}"` is a value captured by an earlier step.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::harness::client::Resp;
use crate::harness::{seed_token, TestApp, TestDb};

struct Run {
    vars: HashMap<String, String>,
}

impl Run {
    fn subst(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => {
                let mut out = s.clone();
                for (k, val) in &self.vars {
                    out = out.replace(&format!("{{{{{k}}}}}"), val);
                }
                Value::String(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        (
                            self.subst(&Value::String(k.clone()))
                                .as_str()
                                .unwrap_or(k)
                                .to_string(),
                            self.subst(x),
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Does `actual` contain `expected`? Returns the path of the first mismatch.
fn contains(expected: &Value, actual: Option<&Value>, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(s), None) if s == "<absent>" => Ok(()),
        (Value::String(s), Some(a)) if s == "<absent>" => {
            Err(format!("{path}: expected absent, got {a}"))
        }
        (_, None) => Err(format!("{path}: missing, expected {expected}")),
        (Value::String(s), Some(_)) if s == "<any>" => Ok(()),
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, ev) in e {
                contains(ev, a.get(k), &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Some(Value::Array(a))) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: expected {} elements, got {}: {}",
                    e.len(),
                    a.len(),
                    Value::Array(a.clone())
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                contains(ev, Some(av), &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (e, Some(a)) if e == a => Ok(()),
        (e, Some(a)) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

fn pointer(v: &Value, p: &str) -> Option<String> {
    v.pointer(p).map(|x| {
        x.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| x.to_string())
    })
}

fn send(app: &TestApp, tokens: &HashMap<&str, String>, req: &Value) -> Resp {
    let method = req["method"].as_str().expect("method");
    let path = req["path"].as_str().expect("path");
    // The admin API (e.g. declaring a schema) sits beside SCIM and speaks
    // plain JSON.
    let admin = path.starts_with("/api/");
    let url = if admin {
        app.url(path)
    } else {
        app.url(&format!("/scim/v2{path}"))
    };
    let content_type = if admin {
        "application/json"
    } else {
        "application/scim+json"
    };
    let mut r = ureq::request(method, &url);
    let token_name = req.get("token").and_then(Value::as_str).unwrap_or("scim");
    if token_name != "none" {
        r = r.set("Authorization", &format!("Bearer {}", tokens[token_name]));
    }
    if let Some(h) = req.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            r = r.set(k, v.as_str().expect("header value"));
        }
    }
    let has_ct = req
        .get("headers")
        .and_then(|h| h.get("Content-Type"))
        .is_some();
    let result = match (req.get("body"), req.get("raw_body").and_then(Value::as_str)) {
        (_, Some(raw)) => {
            if !has_ct {
                r = r.set("Content-Type", content_type);
            }
            r.send_string(raw)
        }
        (Some(b), None) => {
            if !has_ct {
                r = r.set("Content-Type", content_type);
            }
            r.send_string(&b.to_string())
        }
        (None, None) => r.call(),
    };
    crate::harness::client::finish(result)
}

fn replay(file: &Path) {
    let text = fs::read_to_string(file).expect("read fixture");
    let fixture: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let tokens: HashMap<&str, String> = HashMap::from([
        ("scim", seed_token(&db, &["admin:scim"])),
        ("read", seed_token(&db, &["admin:read"])),
        ("connect", seed_token(&db, &["connect:write"])),
        ("admin", seed_token(&db, &["all"])),
    ]);
    let mut run = Run {
        vars: HashMap::new(),
    };
    run.vars
        .insert("base".into(), format!("{}/scim/v2", app.base));
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    for (i, step) in fixture["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let req = run.subst(&step["request"]);
        let resp = send(&app, &tokens, &req);
        let want = run.subst(&step["response"]);
        let ctx = format!("{name} step {i} ({} {})", req["method"], req["path"]);
        assert_eq!(
            resp.status as u64,
            want["status"].as_u64().expect("status"),
            "{ctx}: {}",
            resp.body
        );
        if let Some(h) = want.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                let got = resp.header(k).map(|s| Value::String(s.to_string()));
                contains(v, got.as_ref(), &format!("header {k}"))
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            }
        }
        let body: Option<Value> = if resp.body.is_empty() {
            None
        } else {
            Some(resp.json())
        };
        if let Some(expected) = want.get("body") {
            contains(expected, body.as_ref(), "body")
                .unwrap_or_else(|e| panic!("{ctx}: {e}\n{}", resp.body));
        }
        if let Some(caps) = step.get("capture").and_then(Value::as_object) {
            for (var, ptr) in caps {
                let ptr = ptr.as_str().expect("pointer");
                let value = if let Some(h) = ptr.strip_prefix("header:") {
                    resp.header(h).map(str::to_string)
                } else {
                    body.as_ref().and_then(|b| pointer(b, ptr))
                };
                run.vars.insert(
                    var.clone(),
                    value.unwrap_or_else(|| panic!("{ctx}: nothing at {ptr}")),
                );
            }
        }
    }
}

#[test]
fn every_recorded_exchange_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scim-fixtures");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("scim-fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixtures missing");
    // Every file runs, each against its own server and database; a broken
    // one is reported with the others, not in place of them.
    let failed: Vec<String> = files
        .iter()
        .filter_map(|f| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay(f)))
                .err()
                .map(|cause| {
                    let why = cause
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| cause.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}: {why}", f.display())
                })
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}
