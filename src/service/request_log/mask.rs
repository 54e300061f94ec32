//! What the request log stores of a body: personal data replaced by a
//! keyed hash (or kept, with `SCIMD_REQUEST_LOG_PII=keep`), passwords
//! always removed, and at most 64 KiB.
//!
//! The hash is HMAC-SHA256 with the organization's key, cut to 16 hex
//! digits: the same value gives the same `h:…` in every request of the
//! organization (an admin sees that two requests were about one person)
//! and says nothing without the key.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Bodies longer than this are cut (after masking).
pub const MAX_BODY: usize = 64 * 1024;

/// What replaces a password, in either mode.
pub const REDACTED: &str = "[redacted]";

/// Attributes whose values are personal data (RFC 7643 §4.1), compared
/// case-insensitively; inside them every string is hashed but `type`.
const PERSONAL: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "nickName",
    "emails",
    "phoneNumbers",
    "addresses",
    "photos",
    "ims",
];

/// Attributes whose `display` names a person (a member's, a manager's).
const DISPLAYS_PEOPLE: &[&str] = &["members", "manager"];

pub struct Masker {
    /// The organization's key, set up once (`None`: keep personal data;
    /// passwords still go). Each hash clones it instead of keying anew.
    mac: Option<Hmac<Sha256>>,
    /// Declared attributes the organization marked `sensitive`, hashed like
    /// [`PERSONAL`] ones.
    declared: Vec<&'static str>,
}

fn is(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The attribute a PATCH path or a URN-qualified key names: `emails` of
/// `emails[type eq "work"].value`, `manager` of `urn:…:User:manager.value`.
fn top_attr(path: &str) -> &str {
    // Up to a value filter (which may hold anything), then after a URN's
    // last colon (the URN itself holds dots: `…:2.0:User:name.givenName`),
    // then up to a sub-attribute.
    let head = path.split('[').next().unwrap_or(path);
    let head = if head
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        head.rsplit(':').next().unwrap_or(head)
    } else {
        head
    };
    head.split('.').next().unwrap_or(head)
}

impl Masker {
    pub fn new(key: Option<Vec<u8>>) -> Masker {
        // HMAC takes a key of any length, so this cannot fail; were it to,
        // hashing nothing would keep data, so it masks with an empty key.
        let mac = key.map(|k| {
            Hmac::<Sha256>::new_from_slice(&k).or_else(|_| Hmac::<Sha256>::new_from_slice(b""))
        });
        Masker {
            mac: mac.and_then(Result::ok),
            declared: Vec::new(),
        }
    }

    /// Hashes the values of `names` too (the organization's `sensitive`
    /// declared attributes, as its registry has them now).
    pub fn with_declared(&mut self, names: Vec<&'static str>) {
        self.declared = names;
    }

    fn personal(&self, attr: &str) -> bool {
        is(attr, PERSONAL) || is(attr, &self.declared)
    }

    fn hash(&self, s: &str) -> String {
        let Some(mac) = &self.mac else {
            return s.to_string();
        };
        let mut mac = mac.clone();
        mac.update(s.as_bytes());
        let out = mac.finalize().into_bytes();
        // By hand: `format!` per byte was a tenth of the writer's time.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut h = String::with_capacity(18);
        h.push_str("h:");
        for b in out.iter().take(8) {
            h.push(char::from(HEX[usize::from(b >> 4)]));
            h.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        h
    }

    fn keeps(&self) -> bool {
        self.mac.is_none()
    }

    /// Every string in `v` hashed (a personal attribute's value), `type`
    /// sub-attributes kept: they say which email, not whose.
    fn hash_all(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.hash(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.hash_all(x)),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if !k.eq_ignore_ascii_case("type") {
                        self.hash_all(x);
                    }
                }
            }
            _ => {}
        }
    }

    /// The quoted literals of a filter (or a message quoting values)
    /// hashed, the rest kept: `userName eq "h:…"`.
    pub fn literals(&self, text: &str) -> String {
        if self.keeps() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                out.push(c);
                continue;
            }
            let mut lit = String::new();
            let mut closed = false;
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        lit.push(d);
                        if let Some(e) = chars.next() {
                            lit.push(e);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => lit.push(d),
                }
            }
            out.push('"');
            out.push_str(&self.hash(&lit));
            if closed {
                out.push('"');
            }
        }
        out
    }

    /// `v` (a request or response body, or part of one) as the log keeps it.
    pub fn value(&self, v: &mut Value) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(|x| self.value(x)),
            Value::Object(m) => self.object(m),
            _ => {}
        }
    }

    fn object(&self, m: &mut Map<String, Value>) {
        // A PATCH operation: what its path names decides about its value.
        if m.contains_key("op") {
            let path = m.get("path").and_then(Value::as_str).map(str::to_string);
            if let Some(p) = &path {
                let attr = top_attr(p).to_string();
                if let Some(Value::String(s)) = m.get_mut("path") {
                    *s = self.literals(s);
                }
                if let Some(value) = m.get_mut("value") {
                    if attr.eq_ignore_ascii_case("password") {
                        *value = Value::String(REDACTED.into());
                    } else if !self.keeps() && self.personal(&attr) {
                        self.hash_all(value);
                    } else if !self.keeps() && is(&attr, DISPLAYS_PEOPLE) {
                        self.displays(value);
                    } else {
                        self.value(value);
                    }
                }
                return;
            }
        }
        for (k, x) in m.iter_mut() {
            let attr = top_attr(k);
            if attr.eq_ignore_ascii_case("password") {
                *x = Value::String(REDACTED.into());
            } else if self.keeps() {
                self.value(x);
            } else if self.personal(attr) {
                self.hash_all(x);
            } else if is(attr, DISPLAYS_PEOPLE) {
                self.displays(x);
            } else if k.eq_ignore_ascii_case("filter") || k.eq_ignore_ascii_case("detail") {
                if let Value::String(s) = x {
                    *s = self.literals(s);
                }
            } else {
                self.value(x);
            }
        }
    }

    /// A members list or a manager: the `display` (a person's name) and a
    /// manager's `displayName` hashed, ids kept.
    fn displays(&self, v: &mut Value) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(|x| self.displays(x)),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.eq_ignore_ascii_case("display") || k.eq_ignore_ascii_case("displayName") {
                        self.hash_all(x);
                    }
                }
            }
            _ => {}
        }
    }

    /// A body as stored: masked JSON text, cut at [`MAX_BODY`]; and whether
    /// it was cut. A body that is not JSON is kept only with personal data
    /// kept (it may hold anything).
    pub fn body(&self, bytes: &[u8]) -> (Option<String>, bool) {
        if bytes.is_empty() {
            return (None, false);
        }
        let text = match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                self.value(&mut v);
                v.to_string()
            }
            Err(_) if self.keeps() => String::from_utf8_lossy(bytes).into_owned(),
            Err(_) => format!("[{} bytes, not JSON; not kept]", bytes.len()),
        };
        cut(text)
    }
}

fn cut(mut text: String) -> (Option<String>, bool) {
    if text.len() <= MAX_BODY {
        return (Some(text), false);
    }
    let mut end = MAX_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (Some(text), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masked(v: Value) -> Value {
        let m = Masker::new(Some(b"k".to_vec()));
        let (text, _) = m.body(v.to_string().as_bytes());
        serde_json::from_str(&text.unwrap()).unwrap()
    }

    #[test]
    fn personal_data_is_hashed_and_passwords_removed() {
        let v = masked(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ann@example.com", "password": "hunter2", "active": true,
            "name": {"givenName": "Ann"}, "title": "Engineer",
            "emails": [{"value": "ann@example.com", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1", "displayName": "Bob"}, "department": "R&D"},
        }));
        let h = v["userName"].as_str().unwrap();
        assert!(h.starts_with("h:") && h.len() == 18, "{h}");
        // Stable: the same value hashes the same in another field.
        assert_eq!(v["emails"][0]["value"], h);
        assert_eq!(v["emails"][0]["type"], "work");
        assert_eq!(v["emails"][0]["primary"], true);
        assert_eq!(v["password"], REDACTED);
        assert_ne!(v["name"]["givenName"], "Ann");
        assert_eq!(v["title"], "Engineer");
        let ent = &v["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["manager"]["value"], "m1");
        assert_ne!(ent["manager"]["displayName"], "Bob");
        assert_eq!(ent["department"], "R&D");
        assert!(!v.to_string().contains("hunter2") && !v.to_string().contains("ann@"));
    }

    #[test]
    fn patch_values_follow_their_path() {
        let v = masked(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ann@x"},
                {"op": "replace", "path": "password", "value": "s3cret"},
                {"op": "add", "path": "members", "value": [{"value": "u1", "display": "Ann"}]},
                {"op": "replace", "value": {"displayName": "Ann", "active": false}},
                {"op": "replace", "path": "active", "value": false},
            ]}),
        );
        let ops = &v["Operations"];
        assert_ne!(ops[0]["value"], "ann@x");
        assert!(
            ops[0]["path"]
                .as_str()
                .unwrap()
                .starts_with("emails[type eq \"h:"),
            "{}",
            ops[0]["path"]
        );
        assert_eq!(ops[1]["value"], REDACTED);
        assert_eq!(ops[2]["value"][0]["value"], "u1");
        assert_ne!(ops[2]["value"][0]["display"], "Ann");
        assert_ne!(ops[3]["value"]["displayName"], "Ann");
        assert_eq!(ops[3]["value"]["active"], false);
        assert_eq!(ops[4]["value"], false);
    }

    #[test]
    fn filters_and_error_details_lose_their_literals() {
        let m = Masker::new(Some(b"k".to_vec()));
        let f = m.literals(r#"userName eq "ann" and active eq true"#);
        assert!(
            f.starts_with("userName eq \"h:") && f.ends_with("\" and active eq true"),
            "{f}"
        );
        assert_eq!(m.literals(r#"x eq "a\"b""#).matches("h:").count(), 1);
        let v = masked(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "userName \"ann\" is already taken", "status": "409"}),
        );
        assert!(!v["detail"].as_str().unwrap().contains("ann"), "{v}");
    }

    #[test]
    fn declared_sensitive_attributes_are_hashed_too() {
        let mut m = Masker::new(Some(b"k".to_vec()));
        m.with_declared(vec!["badgeNumber"]);
        let (t, _) = m.body(br#"{"urn:x:2.0:User":{"badgeNumber":"B-17","floor":"3"},"Operations":[{"op":"replace","path":"urn:x:2.0:User:badgeNumber","value":"B-18"}]}"#);
        let t = t.unwrap();
        assert!(!t.contains("B-17") && !t.contains("B-18"), "{t}");
        assert!(t.contains(r#""floor":"3""#), "{t}");
    }

    #[test]
    fn a_path_names_its_attribute_past_the_urn() {
        assert_eq!(
            top_attr("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
            "name"
        );
        assert_eq!(
            top_attr("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            "manager"
        );
        assert_eq!(top_attr(r#"emails[type eq "a:b.c"].value"#), "emails");
        assert_eq!(top_attr("displayName"), "displayName");
    }

    #[test]
    fn keep_keeps_all_but_passwords() {
        let m = Masker::new(None);
        let (t, _) = m.body(br#"{"userName":"ann","password":"x","filter":"userName eq \"ann\""}"#);
        let v: Value = serde_json::from_str(&t.unwrap()).unwrap();
        assert_eq!(v["userName"], "ann");
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["filter"], "userName eq \"ann\"");
    }

    #[test]
    fn long_bodies_are_cut_and_others_not_kept_unless_asked() {
        let m = Masker::new(Some(b"k".to_vec()));
        let big = json!({"title": "x".repeat(MAX_BODY * 2)}).to_string();
        let (t, cut) = m.body(big.as_bytes());
        assert!(cut);
        assert_eq!(t.unwrap().len(), MAX_BODY);
        let (t, _) = m.body(b"not json ann@example.com");
        assert!(!t.unwrap().contains("ann"));
        assert_eq!(m.body(b""), (None, false));
    }
}
