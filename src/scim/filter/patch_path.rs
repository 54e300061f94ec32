//! PATCH operation paths, RFC 7644 §3.5.2:
//!
//! ```text
//! PATH = attrPath / valuePath [subAttr]
//! ```
//!
//! e.g. `name.givenName`, `members[value eq "2819c223"]`,
//! `emails[type eq "work"].value`. Errors are `invalidPath`, which is what
//! §3.5.2 prescribes for an unparsable path.

use std::fmt;

use super::parse::{check_length, parse_attr_path, parse_bracketed, snippet};
use super::Filter;
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::path::{is_valid_attr_name, AttrPath};

#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    Attr(AttrPath),
    /// attr[filter] or attr[filter].sub
    Filtered {
        attr: AttrPath,
        filter: Filter,
        sub: Option<String>,
    },
}

pub fn parse_patch_path(text: &str) -> ScimResult<PatchPath> {
    check_length(text, "path").map_err(ScimError::invalid_path)?;
    let Some((attr_text, _)) = text.split_once('[') else {
        return parse_attr_path(text).map(PatchPath::Attr);
    };
    let open = attr_text.len();
    // `AttrPath::parse` trims, but space before `[` would make the path
    // ambiguous to read and is not in the grammar.
    if attr_text.trim_end() != attr_text {
        return Err(ScimError::invalid_path(format!(
            "unexpected whitespace before '[' at position {} in path",
            attr_text.trim_end().len()
        )));
    }
    let attr = parse_attr_path(attr_text)?;
    if attr.sub.is_some() {
        return Err(ScimError::invalid_path(format!(
            "a value filter must follow an attribute name, not the sub-attribute path '{}'",
            snippet(attr_text)
        )));
    }
    let (filter, end) = parse_bracketed(text, open)?;
    let rest = text.get(end..).unwrap_or_default();
    let sub = match rest.strip_prefix('.') {
        None if rest.is_empty() => None,
        Some(name) if is_valid_attr_name(name) => Some(name.to_string()),
        _ => {
            return Err(ScimError::invalid_path(format!(
                "expected '.' and a sub-attribute name, or the end of the path, at position {end} in path"
            )));
        }
    };
    Ok(PatchPath::Filtered { attr, filter, sub })
}

impl PatchPath {
    /// The attribute the path starts at (`emails` in `emails[…].value`).
    pub fn attr(&self) -> &AttrPath {
        match self {
            PatchPath::Attr(attr) | PatchPath::Filtered { attr, .. } => attr,
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(path) => write!(f, "{path}"),
            PatchPath::Filtered { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(sub) = sub {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::filter::{CompValue, CompareOp};

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn eq(attr: &str, value: &str) -> Filter {
        Filter::Compare(
            AttrPath::new(attr),
            CompareOp::Eq,
            CompValue::Str(value.to_string()),
        )
    }

    fn ok(text: &str) -> PatchPath {
        let parsed = parse_patch_path(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parse_patch_path(&parsed.to_string()).as_ref(), Ok(&parsed));
        parsed
    }

    fn err(text: &str) -> String {
        let e = parse_patch_path(text).expect_err(text);
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{text}");
        e.detail
    }

    #[test]
    fn plain_paths() {
        assert_eq!(
            ok("name.givenName"),
            PatchPath::Attr(AttrPath::with_sub("name", "givenName"))
        );
        assert_eq!(ok("userName"), PatchPath::Attr(AttrPath::new("userName")));
        let manager = ok(&format!("{ENTERPRISE}:manager"));
        assert_eq!(
            manager,
            PatchPath::Attr(AttrPath {
                urn: Some(ENTERPRISE.into()),
                attr: "manager".into(),
                sub: None
            })
        );
        let manager_value = ok(&format!("{ENTERPRISE}:manager.value"));
        assert!(manager_value.attr().sub_is("value"));
        assert_eq!(
            manager_value.to_string(),
            format!("{ENTERPRISE}:manager.value")
        );
    }

    #[test]
    fn filtered_paths() {
        let member = "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]";
        assert_eq!(
            ok(member),
            PatchPath::Filtered {
                attr: AttrPath::new("members"),
                filter: eq("value", "2819c223-7f76-453a-919d-413861904646"),
                sub: None,
            }
        );
        assert_eq!(ok(member).to_string(), member);
        assert_eq!(
            ok("emails[type eq \"work\"].value"),
            PatchPath::Filtered {
                attr: AttrPath::new("emails"),
                filter: eq("type", "work"),
                sub: Some("value".into()),
            }
        );
        let street = ok("addresses[type eq \"work\"].streetAddress");
        assert_eq!(
            street.to_string(),
            "addresses[type eq \"work\"].streetAddress"
        );
        let complex = ok("emails[type eq \"work\" and not (primary eq false)].display");
        assert!(matches!(
            complex,
            PatchPath::Filtered {
                filter: Filter::And(..),
                ..
            }
        ));
        let qualified = ok("urn:ietf:params:scim:schemas:core:2.0:User:emails[value sw \"a\"]");
        assert!(qualified.attr().urn.is_some());
    }

    #[test]
    fn rejects_malformed_paths() {
        assert!(err("").contains("empty"));
        assert!(err("emails[type eq \"work\"")
            .contains("expected 'and', 'or' or ']' at position 21 in path"));
        assert!(err("emails[type eq \"work\"]value").contains("at position 22 in path"));
        assert!(err("emails[type eq \"work\"].").contains("at position 22"));
        assert!(err("emails[type eq \"work\"].a.b").contains("at position 22"));
        assert!(err("emails[type eq \"work\"][value eq 1]").contains("position 22"));
        assert!(err("emails [type eq \"work\"]").contains("whitespace before '[' at position 6"));
        assert!(err("name.givenName[value eq 1]").contains("sub-attribute path"));
        assert!(
            err("emails[type xx \"work\"]").contains("comparison operator at position 12 in path")
        );
        assert!(err("emails[addresses[type eq 1]]").contains("cannot be nested"));
        assert!(err("emails[]").contains("at position 7"));
        assert!(err("1emails").contains("not a valid attribute path"));
        assert!(err("andé").contains("not a valid attribute path"));
        assert!(err("é[value pr]").contains("not a valid attribute path"));
        assert!(err(&format!("a[b eq \"{}\"]", "x".repeat(5000))).contains("limit"));
    }
}
