//! A blocking HTTP client for scimd: one keep-alive connection per
//! `Client`, every request authenticated with the benchmark's token. A
//! non-2xx status is an answer (`Reply`), not an error; only transport
//! failures are errors.

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Res;

/// No request may hang the benchmark: the slowest expected one (a PUT of
/// 100,000 members) takes seconds, not minutes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    /// Path and query below the server root, already encoded (see [`query`]).
    pub path: String,
    pub body: Option<String>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: "GET",
            path: path.into(),
            body: None,
        }
    }

    pub fn delete(path: impl Into<String>) -> Request {
        Request {
            method: "DELETE",
            path: path.into(),
            body: None,
        }
    }

    pub fn with_body(method: &'static str, path: impl Into<String>, body: &Value) -> Request {
        Request {
            method,
            path: path.into(),
            body: Some(body.to_string()),
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Res<Value> {
        Ok(serde_json::from_str(&self.body)?)
    }

    /// The `id` of the resource in the body, if it is one.
    pub fn id(&self) -> Option<uuid::Uuid> {
        let v: Value = serde_json::from_str(&self.body).ok()?;
        v.get("id")?.as_str()?.parse().ok()
    }

    /// `HTTP 400: <detail>`, for reports; the detail is cut short.
    pub fn describe(&self) -> String {
        let detail = serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| self.body.clone());
        let short: String = detail.chars().take(160).collect();
        format!("HTTP {}: {}", self.status, short.replace('|', "/"))
    }
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    bearer: String,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            agent: ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build(),
            base: base.to_string(),
            bearer: format!("Bearer {token}"),
        }
    }

    /// Another client for the same server with its own connection.
    /// The same credentials, against another server.
    pub fn at(&self, base: &str) -> Client {
        Client {
            agent: ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build(),
            base: base.to_string(),
            bearer: self.bearer.clone(),
        }
    }

    pub fn fresh(&self) -> Client {
        Client {
            agent: ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build(),
            base: self.base.clone(),
            bearer: self.bearer.clone(),
        }
    }

    pub fn send(&self, req: &Request) -> Res<Reply> {
        let r = self
            .agent
            .request(req.method, &format!("{}{}", self.base, req.path))
            .set("Authorization", &self.bearer);
        let result = match &req.body {
            Some(b) => r
                .set("Content-Type", "application/scim+json")
                .send_string(b),
            None => r.call(),
        };
        let resp = match result {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(e) => return Err(format!("{} {}: {e}", req.method, req.path).into()),
        };
        let status = resp.status();
        let mut body = String::new();
        resp.into_reader().read_to_string(&mut body)?;
        Ok(Reply { status, body })
    }

    /// Sends `req` and measures it, up to the last byte of the body.
    pub fn timed(&self, req: &Request) -> Res<(Duration, Reply)> {
        let start = Instant::now();
        let reply = self.send(req)?;
        Ok((start.elapsed(), reply))
    }

    /// Sends `req` and insists on a 2xx answer.
    pub fn expect_ok(&self, req: &Request) -> Res<Reply> {
        let reply = self.send(req)?;
        if !reply.ok() {
            return Err(format!("{} {}: {}", req.method, req.path, reply.describe()).into());
        }
        Ok(reply)
    }
}

/// `path?k=v&...` with keys and values percent-encoded (RFC 3986
/// unreserved characters kept).
pub fn query(path: &str, pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if encoded.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", encoded.join("&"))
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
