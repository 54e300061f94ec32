//! What the request log stores of a body: personal data replaced by a
//! keyed hash (or kept, with `SCIMD_REQUEST_LOG_PII=keep`), passwords
//! always removed, and at most 64 KiB.
//!
//! The hash is HMAC-SHA256 with the organization's key, cut to 16 hex
//! digits: the same value gives the same `h:…` in every request of the
//! organization (an admin sees that two requests were about one person)
//! and says nothing without the key.

use hmac::{Hmac, Mac};
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

    /// A body as stored: masked JSON text, cut at [`MAX_BODY`]; and whether
    /// it was cut. A body that is not JSON is kept only with personal data
    /// kept (it may hold anything).
    pub fn body(&self, bytes: &[u8]) -> Body {
        if bytes.is_empty() {
            return Body::default();
        }
        let mut scan = Scan::new(self, bytes);
        let (text, id) = match std::str::from_utf8(bytes)
            .ok()
            .and_then(|_| scan.document())
        {
            Some(()) => (scan.out, scan.id),
            None if self.keeps() => (String::from_utf8_lossy(bytes).into_owned(), None),
            None => (format!("[{} bytes, not JSON; not kept]", bytes.len()), None),
        };
        let (text, cut) = cut(text);
        Body { text, cut, id }
    }
}

/// A body as the log keeps it.
#[derive(Debug, Default, PartialEq)]
pub struct Body {
    pub text: Option<String>,
    /// Whether `text` was cut at [`MAX_BODY`].
    pub cut: bool,
    /// The top-level `id`, if the body is an object with one (a create's
    /// answer names its resource only there).
    pub id: Option<String>,
}

/// How a value is written out.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The rules by attribute name, applied at every level.
    Rules,
    /// A personal attribute's value: every string hashed, but `type`
    /// sub-attributes kept (they say which email, not whose).
    HashAll,
    /// A members list or a manager: `display` (a person's name) and a
    /// manager's `displayName` hashed, the rest (ids) kept.
    Displays,
    /// As it came.
    Copy,
}

/// Deeper than this is not JSON to the log (serde_json's own limit), so a
/// hostile body cannot exhaust the writer's stack.
const MAX_DEPTH: usize = 128;

/// The masking pass: one walk over the body's bytes that validates it as
/// JSON and writes the masked text as it goes, without building a tree.
/// Building `serde_json::Value` trees and serialising them back was ~40 %
/// of the log writer's CPU, and the writer's CPU is taken from serving.
/// Whitespace between tokens is dropped; strings are copied as sent,
/// escapes included, unless they are hashed.
struct Scan<'a> {
    m: &'a Masker,
    s: &'a [u8],
    i: usize,
    depth: usize,
    out: String,
    id: Option<String>,
}

/// A string token: where its quotes are and whether it holds escapes.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

impl<'a> Scan<'a> {
    fn new(m: &'a Masker, s: &'a [u8]) -> Scan<'a> {
        Scan {
            m,
            s,
            i: 0,
            depth: 0,
            out: String::with_capacity(s.len() + 64),
            id: None,
        }
    }

    fn document(&mut self) -> Option<()> {
        self.value(Mode::Rules)?;
        self.ws();
        (self.i == self.s.len()).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    /// The input from `a` to `b`: on a token boundary of text already
    /// checked to be UTF-8, so never empty by mistake.
    fn text(&self, a: usize, b: usize) -> &'a str {
        std::str::from_utf8(&self.s[a..b]).unwrap_or_default()
    }

    fn value(&mut self, mode: Mode) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(mode, None),
            b'[' => self.array(mode),
            b'"' => {
                let t = self.string()?;
                if mode == Mode::HashAll {
                    self.hashed(t)
                } else {
                    self.copy(t);
                    Some(())
                }
            }
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, w: &str) -> Option<()> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            self.out.push_str(w);
            Some(())
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.s.get(s.i).is_some_and(u8::is_ascii_digit) {
                s.i += 1;
            }
            s.i > from
        };
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return None;
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            digits(self).then_some(())?;
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            digits(self).then_some(())?;
        }
        let t = self.text(start, self.i);
        self.out.push_str(t);
        Some(())
    }

    /// A string token at the cursor, checked: no raw control characters,
    /// only JSON's escapes, surrogates in pairs.
    fn string(&mut self) -> Option<Str> {
        let start = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            match *self.s.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Str {
                        start,
                        end: self.i,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match *self.s.get(self.i)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
    }

    /// After `\u`: four hex digits, and a high surrogate followed by a low.
    fn unicode_escape(&mut self) -> Option<()> {
        let hex = |s: &mut Self| {
            let h = s.s.get(s.i + 1..s.i + 5)?;
            // Digits only: `from_str_radix` would take a sign.
            if !h.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let v = u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
            s.i += 5;
            Some(v)
        };
        match hex(self)? {
            0xd800..=0xdbff => {
                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                    return None;
                }
                self.i += 1;
                matches!(hex(self)?, 0xdc00..=0xdfff).then_some(())
            }
            0xdc00..=0xdfff => None,
            _ => Some(()),
        }
    }

    /// What a string token says, escapes resolved.
    fn decoded(&self, t: Str) -> Option<std::borrow::Cow<'a, str>> {
        if t.escaped {
            serde_json::from_str::<String>(self.text(t.start, t.end))
                .ok()
                .map(std::borrow::Cow::Owned)
        } else {
            Some(std::borrow::Cow::Borrowed(
                self.text(t.start + 1, t.end - 1),
            ))
        }
    }

    fn copy(&mut self, t: Str) {
        let raw = self.text(t.start, t.end);
        self.out.push_str(raw);
    }

    fn hashed(&mut self, t: Str) -> Option<()> {
        let s = self.decoded(t)?;
        self.out.push('"');
        self.out.push_str(&self.m.hash(&s));
        self.out.push('"');
        Some(())
    }

    fn quoted(&mut self, s: &str) {
        // Serialising a `str` cannot fail.
        self.out
            .push_str(&serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\"")));
    }

    /// A string whose quoted literals are hashed (a filter, an error's
    /// detail, a PATCH path); any other value by the rules.
    fn literals(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return self.value(Mode::Rules);
        }
        let t = self.string()?;
        let s = self.decoded(t)?;
        let masked = self.m.literals(&s);
        self.quoted(&masked);
        Some(())
    }

    /// A value validated and replaced by [`REDACTED`].
    fn redacted(&mut self) -> Option<()> {
        let mark = self.out.len();
        self.value(Mode::Copy)?;
        self.out.truncate(mark);
        self.quoted(REDACTED);
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn array(&mut self, mode: Mode) -> Option<()> {
        self.enter()?;
        self.i += 1;
        self.out.push('[');
        if self.peek()? == b']' {
            self.i += 1;
        } else {
            loop {
                self.value(mode)?;
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.out.push(',');
                    }
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.out.push(']');
        self.depth -= 1;
        Some(())
    }

    /// An object. Under [`Mode::Rules`], one that has an `op` and a string
    /// `path` is a PATCH operation, whose `path` decides how its `value`
    /// is masked; members are written as they come, so when `op` or
    /// `path` turns out to come after what it governs, the object is
    /// written again knowing them (`patch`). Clients send `op`, `path`,
    /// `value` in that order, so this is rare.
    fn object(&mut self, mode: Mode, patch: Option<&str>) -> Option<()> {
        let (from, mark, depth) = (self.i, self.out.len(), self.depth);
        self.enter()?;
        self.i += 1;
        self.out.push('{');
        let mut op = patch.is_some();
        let mut path: Option<String> = patch.map(str::to_string);
        let mut stale = false;
        let top = depth == 0;
        if self.peek()? == b'}' {
            self.i += 1;
        } else {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let k = self.string()?;
                self.copy(k);
                self.eat(b':')?;
                self.out.push(':');
                let key = self.decoded(k)?;
                match mode {
                    Mode::Copy => self.value(Mode::Copy)?,
                    Mode::HashAll if key.eq_ignore_ascii_case("type") => self.value(Mode::Copy)?,
                    Mode::HashAll => self.value(Mode::HashAll)?,
                    Mode::Displays
                        if key.eq_ignore_ascii_case("display")
                            || key.eq_ignore_ascii_case("displayName") =>
                    {
                        self.value(Mode::HashAll)?
                    }
                    Mode::Displays => self.value(Mode::Copy)?,
                    Mode::Rules => match &*key {
                        "op" => {
                            op = true;
                            self.value(Mode::Rules)?;
                        }
                        "path" if self.peek()? == b'"' => {
                            let t = self.string()?;
                            let p = self.decoded(t)?.into_owned();
                            if op {
                                let masked = self.m.literals(&p);
                                self.quoted(&masked);
                            } else {
                                self.copy(t);
                                stale = true;
                            }
                            path.get_or_insert(p);
                        }
                        "value" if op && path.is_some() => {
                            let attr = top_attr(path.as_deref().unwrap_or_default()).to_string();
                            self.member(&attr, false)?;
                        }
                        "value" => {
                            stale = true;
                            self.member("value", false)?;
                        }
                        "id" if top && self.peek()? == b'"' => {
                            let t = self.string()?;
                            self.id = self.decoded(t).map(|s| s.into_owned());
                            self.copy(t);
                        }
                        _ => {
                            let attr = top_attr(&key).to_string();
                            self.member(&attr, true)?;
                        }
                    },
                }
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.out.push(',');
                    }
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.out.push('}');
        self.depth -= 1;
        if let (true, Some(p), true, None) = (op, &path, stale, patch) {
            let p = p.clone();
            self.i = from;
            self.out.truncate(mark);
            self.depth = depth;
            return self.object(mode, Some(&p));
        }
        Some(())
    }

    /// The value of attribute `attr` under the rules; `named` when `attr`
    /// is the member's own name (not a PATCH path's), which is when
    /// `filter` and `detail` mean what they do in a query or an error.
    fn member(&mut self, attr: &str, named: bool) -> Option<()> {
        let m = self.m;
        if attr.eq_ignore_ascii_case("password") {
            self.redacted()
        } else if m.keeps() {
            self.value(Mode::Rules)
        } else if m.personal(attr) {
            self.value(Mode::HashAll)
        } else if is(attr, DISPLAYS_PEOPLE) {
            self.value(Mode::Displays)
        } else if named
            && (attr.eq_ignore_ascii_case("filter") || attr.eq_ignore_ascii_case("detail"))
        {
            self.literals()
        } else {
            self.value(Mode::Rules)
        }
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
    use serde_json::{json, Value};

    fn masked(v: Value) -> Value {
        let m = Masker::new(Some(b"k".to_vec()));
        let text = m.body(v.to_string().as_bytes()).text;
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
        let t = m.body(br#"{"urn:x:2.0:User":{"badgeNumber":"B-17","floor":"3"},"Operations":[{"op":"replace","path":"urn:x:2.0:User:badgeNumber","value":"B-18"}]}"#).text;
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
        let t = m
            .body(br#"{"userName":"ann","password":"x","filter":"userName eq \"ann\""}"#)
            .text;
        let v: Value = serde_json::from_str(&t.unwrap()).unwrap();
        assert_eq!(v["userName"], "ann");
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["filter"], "userName eq \"ann\"");
    }

    #[test]
    fn long_bodies_are_cut_and_others_not_kept_unless_asked() {
        let m = Masker::new(Some(b"k".to_vec()));
        let big = json!({"title": "x".repeat(MAX_BODY * 2)}).to_string();
        let b = m.body(big.as_bytes());
        assert!(b.cut);
        assert_eq!(b.text.unwrap().len(), MAX_BODY);
        let t = m.body(b"not json ann@example.com").text;
        assert!(!t.unwrap().contains("ann"));
        assert_eq!(m.body(b""), Body::default());
    }

    #[test]
    fn a_patch_operation_is_masked_whatever_its_members_order() {
        let m = Masker::new(Some(b"k".to_vec()));
        for body in [
            r#"{"Operations":[{"value":"ann@x","path":"emails","op":"add"}]}"#,
            r#"{"Operations":[{"path":"emails","value":"ann@x","op":"add"}]}"#,
            r#"{"Operations":[{"path":"password","op":"replace","value":"s3cret"}]}"#,
            r#"{"Operations":[{"op":"add","value":[{"display":"Ann","value":"u1"}],"path":"members"}]}"#,
        ] {
            let t = m.body(body.as_bytes()).text.unwrap();
            assert!(
                !t.contains("ann@x") && !t.contains("s3cret") && !t.contains("Ann"),
                "{t}"
            );
            let v: Value = serde_json::from_str(&t).unwrap();
            assert!(v["Operations"][0]["op"].is_string(), "{t}");
        }
        // A path's literals are hashed even when `op` comes last.
        let t = m
            .body(br#"{"path":"emails[value eq \"ann@x\"]","value":"w","op":"remove"}"#)
            .text
            .unwrap();
        assert!(!t.contains("ann@x"), "{t}");
    }

    #[test]
    fn escaped_strings_hash_as_what_they_say() {
        let m = Masker::new(Some(b"k".to_vec()));
        let plain: Value =
            serde_json::from_str(&m.body(br#"{"userName":"ann\u00e9"}"#).text.unwrap()).unwrap();
        let raw: Value = serde_json::from_str(
            &m.body("{\"userName\":\"ann\u{e9}\"}".as_bytes())
                .text
                .unwrap(),
        )
        .unwrap();
        assert_eq!(plain["userName"], raw["userName"]);
        // Kept strings keep their escapes, and stay one JSON string.
        let t = m
            .body(br#"{"title":"a\"b\\c\u0041\ud83d\ude00"}"#)
            .text
            .unwrap();
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["title"], "a\"b\\cA\u{1f600}");
    }

    #[test]
    fn members_keep_their_order_and_lose_their_whitespace() {
        let m = Masker::new(Some(b"k".to_vec()));
        let b = m.body(b"{ \"zeta\" : 1 ,\n \"alpha\": [ true, null, -1.5e3 ], \"id\": \"x1\" }");
        assert_eq!(
            b.text.unwrap(),
            r#"{"zeta":1,"alpha":[true,null,-1.5e3],"id":"x1"}"#
        );
        assert_eq!(b.id.as_deref(), Some("x1"));
        // Only the top level's `id` names the resource.
        assert_eq!(m.body(br#"{"a":{"id":"x"}}"#).id, None);
    }

    #[test]
    fn keep_mode_gives_back_any_json_but_passwords() {
        let m = Masker::new(None);
        let v = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
            "Resources": [
                {"id": "1", "userName": "ann", "active": true, "x": null,
                 "name": {"formatted": "Ann \"A\" \u{e9}\u{1f600}\n"}, "n": [0, -0.5, 1e-9, 12345678901234567890u64]},
                {"id": "2", "members": [], "meta": {}, "emails": [{"value": "b@x", "type": "work"}]},
            ],
        });
        let back: Value =
            serde_json::from_str(&m.body(v.to_string().as_bytes()).text.unwrap()).unwrap();
        assert_eq!(back, v);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert_eq!(m.body(pretty.as_bytes()).text.unwrap(), v.to_string());
    }

    #[test]
    fn what_is_not_json_is_not_kept() {
        let m = Masker::new(Some(b"k".to_vec()));
        for bad in [
            &br#"{"userName":"ann"} x"#[..],
            b"{\"userName\":\"ann\",}",
            br#"{"userName":"ann\u12"}"#,
            br#"{"userName":"ann\u+123"}"#,
            br#"{"userName":"ann\ud800"}"#,
            br#"{"userName":"ann\x"}"#,
            b"{\"userName\":\"a\nn\"}",
            b"{\"n\":01}",
            b"{\"n\":1.}",
            b"{\"n\":-}",
            b"{\"n\":tru}",
            b"{\"userName\":\"ann\xff\"}",
            b"[\"ann\"",
            b"{\"userName\" \"ann\"}",
        ] {
            let t = m.body(bad).text.unwrap();
            assert!(
                t.ends_with("not JSON; not kept]"),
                "{t} from {:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(m.body(deep.as_bytes()).text.unwrap().ends_with("not kept]"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(m.body(ok.as_bytes()).text.unwrap(), ok);
    }
}
