//! Attribute paths (RFC 7644 §3.10 `attrPath`): `[URN ":"] attr ["." sub]`.
//!
//! Shared by the filter parser, PATCH paths, `sortBy` and `attributes` /
//! `excludedAttributes`. Names keep the case the client wrote (for error
//! messages); comparisons go through [`AttrPath::matches`] and friends, which
//! are case-insensitive as RFC 7643 §2.1 requires.

use std::fmt;

use super::error::{ScimError, ScimResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon, if one was written.
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

/// RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar); `$ref` is the one reserved
/// name that starts with `$`.
pub fn is_valid_attr_name(name: &str) -> bool {
    if name.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// RFC 8141 §2: unreserved, sub-delims, `:`, `@`, `/`, `?`, `#` and `%`
/// (of percent-encoding).
fn is_urn_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?#%".contains(c)
}

impl AttrPath {
    pub fn new(attr: &str) -> Self {
        AttrPath {
            urn: None,
            attr: attr.to_string(),
            sub: None,
        }
    }

    pub fn with_sub(attr: &str, sub: &str) -> Self {
        AttrPath {
            urn: None,
            attr: attr.to_string(),
            sub: Some(sub.to_string()),
        }
    }

    /// Parses a complete attribute path. Errors are `invalidPath`; callers that
    /// parse filters re-label them as `invalidFilter`.
    pub fn parse(text: &str) -> ScimResult<AttrPath> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ScimError::invalid_path("empty attribute path"));
        }
        let (urn, rest) = split_urn(text);
        if let Some(u) = &urn {
            if u.len() <= 4 {
                return Err(ScimError::invalid_path(format!(
                    "'{text}' has an empty schema URN"
                )));
            }
            // RFC 8141's URN characters only: no control characters (NUL
            // could never be compared with stored text), spaces or escapes.
            if !u.chars().all(is_urn_char) {
                return Err(ScimError::invalid_path(format!(
                    "'{}' has a character no schema URN may contain",
                    text.escape_debug()
                )));
            }
        }
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        if !is_valid_attr_name(attr) {
            return Err(ScimError::invalid_path(format!(
                "'{text}' is not a valid attribute path"
            )));
        }
        if let Some(s) = sub {
            if !is_valid_attr_name(s) {
                return Err(ScimError::invalid_path(format!(
                    "'{text}' is not a valid attribute path"
                )));
            }
        }
        Ok(AttrPath {
            urn,
            attr: attr.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// True when `urn` is absent or equal (case-insensitively) to `schema`.
    pub fn urn_is(&self, schema: &str) -> bool {
        self.urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(schema))
    }

    pub fn attr_is(&self, name: &str) -> bool {
        self.attr.eq_ignore_ascii_case(name)
    }

    pub fn sub_is(&self, name: &str) -> bool {
        self.sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(name))
    }
}

/// Splits `urn:...:attr.sub` into the URN and the rest. A schema URN contains
/// dots (`2.0`), so the split is at the last colon, and only text that starts
/// with `urn:` has a URN at all.
pub fn split_urn(text: &str) -> (Option<String>, &str) {
    // `get` rather than slicing: client text may put a multi-byte character
    // across byte 4, and a slice there would panic.
    if text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        if let Some(idx) = text.rfind(':') {
            return (Some(text[..idx].to_string()), &text[idx + 1..]);
        }
    }
    (None, text)
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        write!(f, "{}", self.attr)?;
        if let Some(s) = &self.sub {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_sub_and_urn_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::new("userName")
        );
        assert_eq!(
            AttrPath::parse("name.familyName").unwrap(),
            AttrPath::with_sub("name", "familyName")
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.attr, "manager");
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
    }

    #[test]
    fn ref_is_a_name() {
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap().sub.as_deref(),
            Some("$ref")
        );
    }

    #[test]
    fn rejects_bad_paths() {
        for bad in [
            "", "1abc", "a.b.c", "a..b", "a b", "urn::x", "name.", ".x", "a[b]",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn multibyte_text_near_the_urn_prefix_does_not_panic() {
        for text in ["andé", "ur\u{e9}x", "é", "urn\u{e9}:x"] {
            assert!(AttrPath::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn comparisons_ignore_case() {
        let p = AttrPath::parse("URN:ietf:params:scim:schemas:core:2.0:User:UserName").unwrap();
        assert!(p.attr_is("username"));
        assert!(p.urn_is("urn:ietf:params:scim:schemas:core:2.0:User"));
    }
}
