//! Lexing of `compValue` literals (RFC 7644 §3.4.2.2, which defers to the JSON
//! grammar of RFC 8259 §6–7): strings with every JSON escape, numbers, and the
//! keywords `true`, `false`, `null`.
//!
//! Everything works on bytes and only slices the text at ASCII bytes, so no
//! input can make it slice inside a UTF-8 sequence.

use serde_json::Number;

use super::CompValue;

/// A syntax error at a byte offset. The caller decides whether it becomes
/// `invalidFilter` or `invalidPath` and how the offset is worded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub pos: usize,
    pub msg: String,
    /// Said after the position: why a profile refused what is there.
    pub note: Option<String>,
}

impl SyntaxError {
    pub fn new(pos: usize, msg: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            msg: msg.into(),
            note: None,
        }
    }

    #[must_use]
    pub fn noted(mut self, note: String) -> Self {
        self.note = Some(note);
        self
    }

    pub fn expected(pos: usize, what: &str) -> Self {
        Self::new(pos, format!("expected {what}"))
    }
}

pub(super) type Lexed<T> = Result<(T, usize), SyntaxError>;

/// Lexes the literal starting at `pos`; returns it and the offset just past it.
pub(super) fn comp_value(text: &str, pos: usize) -> Lexed<CompValue> {
    let bytes = text.as_bytes();
    match bytes.get(pos) {
        Some(b'"') => string(text, pos).map(|(s, end)| (CompValue::Str(s), end)),
        Some(b'-' | b'0'..=b'9') => number(text, pos).map(|(n, end)| (CompValue::Number(n), end)),
        _ => {
            let end = pos + word_len(bytes, pos);
            let word = text.get(pos..end).unwrap_or_default();
            let value = if word.eq_ignore_ascii_case("true") {
                CompValue::Bool(true)
            } else if word.eq_ignore_ascii_case("false") {
                CompValue::Bool(false)
            } else if word.eq_ignore_ascii_case("null") {
                CompValue::Null
            } else {
                return Err(SyntaxError::expected(
                    pos,
                    "a value (a quoted string, a number, true, false or null)",
                ));
            };
            Ok((value, end))
        }
    }
}

/// Length of the run of ASCII letters and digits at `pos` (a keyword, or
/// something that is not one and must be reported as a whole).
pub(super) fn word_len(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(pos..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()
}

/// A JSON string starting at the opening quote at `start`.
pub(super) fn string(text: &str, start: usize) -> Lexed<String> {
    let bytes = text.as_bytes();
    // Bytes, not chars: unescaped runs are copied verbatim (they are valid
    // UTF-8 because the input is), escapes are appended as encoded chars.
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(SyntaxError::new(start, "unterminated string")),
            Some(b'"') => {
                let s = String::from_utf8(out)
                    .map_err(|_| SyntaxError::new(start, "string is not valid UTF-8"))?;
                return Ok((s, i + 1));
            }
            Some(b'\\') => {
                let (c, next) = escape(bytes, i)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i = next;
            }
            Some(&b) if b < 0x20 => {
                return Err(SyntaxError::new(
                    i,
                    "control characters must be escaped in a string",
                ));
            }
            Some(&b) => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// Decodes the escape whose backslash is at `at`.
fn escape(bytes: &[u8], at: usize) -> Lexed<char> {
    let c = match bytes.get(at + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unicode_escape(bytes, at),
        _ => {
            return Err(SyntaxError::expected(
                at,
                r#"a JSON escape (\" \\ \/ \b \f \n \r \t or \uXXXX)"#,
            ));
        }
    };
    Ok((c, at + 2))
}

/// `\uXXXX`, combining a UTF-16 surrogate pair into one char. A lone
/// surrogate has no char to become, so it is an error rather than U+FFFD:
/// silently changing a value the client sent could match the wrong resource.
fn unicode_escape(bytes: &[u8], at: usize) -> Lexed<char> {
    let high = hex4(bytes, at + 2)
        .ok_or_else(|| SyntaxError::expected(at, r"four hex digits after \u"))?;
    let (code, end) = match high {
        0xD800..=0xDBFF => {
            let low = match (bytes.get(at + 6), bytes.get(at + 7)) {
                (Some(b'\\'), Some(b'u')) => hex4(bytes, at + 8),
                _ => None,
            };
            match low {
                Some(low @ 0xDC00..=0xDFFF) => {
                    let code =
                        0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    (code, at + 12)
                }
                _ => {
                    return Err(SyntaxError::new(
                        at,
                        format!(r"lone surrogate \u{high:04X} in string"),
                    ));
                }
            }
        }
        0xDC00..=0xDFFF => {
            return Err(SyntaxError::new(
                at,
                format!(r"lone surrogate \u{high:04X} in string"),
            ));
        }
        // PostgreSQL text cannot hold U+0000, and no SCIM value contains it:
        // refused here, so no NUL reaches a query as a bound value.
        0 => {
            return Err(SyntaxError::new(
                at,
                r"\u0000 (NUL) is not allowed in a string",
            ));
        }
        _ => (u32::from(high), at + 6),
    };
    char::from_u32(code)
        .map(|c| (c, end))
        .ok_or_else(|| SyntaxError::new(at, "invalid unicode escape"))
}

fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at + 4)?;
    digits.iter().try_fold(0u16, |acc, &b| {
        let d = char::from(b).to_digit(16)?;
        // Four hex digits never exceed u16, so the shift cannot overflow.
        Some((acc << 4) | d as u16)
    })
}

/// A JSON number (RFC 8259 §6) starting at `start`. Integers stay exact when
/// they fit 64 bits; anything else becomes an f64, and one that overflows to
/// infinity is rejected, since JSON has no infinity to compare against.
pub(super) fn number(text: &str, start: usize) -> Lexed<Number> {
    let bytes = text.as_bytes();
    let digits_from = |i: usize| {
        i + bytes
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits_from(i),
        _ => return Err(SyntaxError::expected(i, "a digit")),
    }
    let mut integral = true;
    if bytes.get(i) == Some(&b'.') {
        integral = false;
        let end = digits_from(i + 1);
        if end == i + 1 {
            return Err(SyntaxError::expected(
                end,
                "a digit after the decimal point",
            ));
        }
        i = end;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        integral = false;
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits_from(i);
        if end == i {
            return Err(SyntaxError::expected(end, "a digit in the exponent"));
        }
        i = end;
    }
    let literal = text.get(start..i).unwrap_or_default();
    if integral {
        let exact = if literal.starts_with('-') {
            literal.parse::<i64>().ok().map(Number::from)
        } else {
            literal.parse::<u64>().ok().map(Number::from)
        };
        if let Some(n) = exact {
            return Ok((n, i));
        }
    }
    literal
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(|n| (n, i))
        .ok_or_else(|| SyntaxError::new(start, format!("number {literal} is out of range")))
}
