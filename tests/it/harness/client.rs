//! A small blocking HTTP client for tests: every answer, 2xx or not, comes
//! back as a `Resp` to assert on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

pub fn finish(r: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let body = resp.into_string().unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

pub fn request(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    let mut req = agent().request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    finish(match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    })
}

pub fn get(url: &str, token: Option<&str>) -> Resp {
    request("GET", url, token, None)
}
pub fn post(url: &str, token: Option<&str>, body: &Value) -> Resp {
    request("POST", url, token, Some(body))
}
pub fn delete(url: &str, token: Option<&str>) -> Resp {
    request("DELETE", url, token, None)
}

/// Sends a request with a raw Authorization header value (any bytes).
pub fn get_with_raw_auth(base: &str, path: &str, auth: &[u8]) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: ")
            .into_bytes();
    req.extend_from_slice(auth);
    req.extend_from_slice(b"\r\n\r\n");
    s.write_all(&req).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}
