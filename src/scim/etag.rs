//! Weak ETags from resource versions (RFC 7644 §3.14), and the `If-Match` /
//! `If-None-Match` checks against them.

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A parsed `If-Match` or `If-None-Match` header: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    Any,
    Tags(Vec<String>),
}

impl EtagCondition {
    /// Parses a header value; entity tags are compared weakly (RFC 7232
    /// §2.3.2), so `W/"3"` and `"3"` both name version 3.
    pub fn parse(header: &str) -> EtagCondition {
        let h = header.trim();
        if h == "*" {
            return EtagCondition::Any;
        }
        EtagCondition::Tags(
            h.split(',')
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    let t = t
                        .strip_prefix("W/")
                        .or_else(|| t.strip_prefix("w/"))
                        .unwrap_or(t);
                    t.trim_matches('"').to_string()
                })
                .collect(),
        )
    }

    pub fn matches(&self, version: i64) -> bool {
        match self {
            EtagCondition::Any => true,
            EtagCondition::Tags(tags) => {
                let v = version.to_string();
                tags.contains(&v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong_forms_match_the_version() {
        assert_eq!(etag(3), "W/\"3\"");
        assert!(EtagCondition::parse("W/\"3\"").matches(3));
        assert!(EtagCondition::parse("\"3\"").matches(3));
        assert!(EtagCondition::parse("W/\"1\", W/\"3\"").matches(3));
        assert!(!EtagCondition::parse("W/\"2\"").matches(3));
        assert!(EtagCondition::parse("*").matches(9));
        assert!(!EtagCondition::parse("").matches(1));
    }
}
