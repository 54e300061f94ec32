//! Canonical text form of filters (RFC 7644 §3.4.2.2): lower-case keywords,
//! single spaces, JSON-escaped strings, and parentheses exactly where the
//! precedence rules need them, so that `Filter::parse(&f.to_string(), profile) == f`.
//! Used for logging, for re-issuing filters (e.g. in cursors), and in tests.

use std::fmt::{self, Write};

use super::{CompValue, CompareOp, Filter};

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::Str(s) => write_json_string(f, s),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_operand(f, self, Level::Or)
    }
}

/// Binding strength, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Or,
    And,
    Atom,
}

fn level(filter: &Filter) -> Level {
    match filter {
        Filter::Or(..) => Level::Or,
        Filter::And(..) => Level::And,
        _ => Level::Atom,
    }
}

/// Writes `filter` where an operand binding at least `min` tightly is needed,
/// adding parentheses if it binds more loosely.
fn write_operand(f: &mut fmt::Formatter<'_>, filter: &Filter, min: Level) -> fmt::Result {
    if level(filter) < min {
        f.write_char('(')?;
        write_filter(f, filter)?;
        f.write_char(')')
    } else {
        write_filter(f, filter)
    }
}

fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter) -> fmt::Result {
    match filter {
        Filter::Present(path) => write!(f, "{path} pr"),
        Filter::Compare(path, op, value) => write!(f, "{path} {op} {value}"),
        // Both operators associate to the left, so a right operand of the
        // same level needs parentheses and a left one does not.
        Filter::Or(left, right) => {
            write_operand(f, left, Level::Or)?;
            f.write_str(" or ")?;
            write_operand(f, right, Level::And)
        }
        Filter::And(left, right) => {
            write_operand(f, left, Level::And)?;
            f.write_str(" and ")?;
            write_operand(f, right, Level::Atom)
        }
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_filter(f, inner)?;
            f.write_char(')')
        }
        Filter::ValuePath(path, inner) => {
            write!(f, "{path}[")?;
            write_filter(f, inner)?;
            f.write_char(']')
        }
    }
}

/// RFC 8259 §7 string encoding. Only what JSON requires is escaped, so
/// non-ASCII text stays readable in logs.
pub(super) fn write_json_string(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{CompValue, CompareOp, Filter};
    use crate::scim::path::AttrPath;
    use crate::scim::profile::Profile;

    fn f(text: &str) -> Filter {
        Filter::parse(text, Profile::Lenient).unwrap()
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("userName EQ \"bjensen\"", "userName eq \"bjensen\""),
            ("a pr  OR b pr And c pr", "a pr or b pr and c pr"),
            ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
            ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
            ("(a pr or b pr) or c pr", "a pr or b pr or c pr"),
            ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
            ("NOT(a pr)", "not (a pr)"),
            ("x eq \"q\\\"\\\\\\u0001é\"", "x eq \"q\\\"\\\\\\u0001é\""),
            (
                "emails[ type eq \"work\"  and not (value co \"@x\") ]",
                "emails[type eq \"work\" and not (value co \"@x\")]",
            ),
            ("a eq 1.5e3", "a eq 1500.0"),
            ("a eq -0", "a eq 0"),
            ("a ne TRUE", "a ne true"),
            ("a eq Null", "a eq null"),
        ];
        for (input, canonical) in cases {
            assert_eq!(f(input).to_string(), canonical, "{input}");
            assert_eq!(f(canonical), f(input), "{input}");
        }
    }

    fn attr_name() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z][a-zA-Z0-9_-]{0,7}",
            1 => prop::sample::select(vec!["$ref", "not", "and", "or", "pr", "eq", "true", "NOT"])
                .prop_map(str::to_string),
        ]
    }

    fn urn() -> impl Strategy<Value = Option<String>> {
        prop::option::of(
            prop::sample::select(vec![
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ])
            .prop_map(str::to_string),
        )
    }

    fn full_path() -> impl Strategy<Value = AttrPath> {
        (urn(), attr_name(), prop::option::of(attr_name())).prop_map(|(urn, attr, sub)| AttrPath {
            urn,
            attr,
            sub,
        })
    }

    fn value() -> impl Strategy<Value = CompValue> {
        prop_oneof![
            Just(CompValue::Null),
            any::<bool>().prop_map(CompValue::Bool),
            any::<i64>().prop_map(|n| CompValue::Number(n.into())),
            any::<u64>().prop_map(|n| CompValue::Number(n.into())),
            any::<f64>()
                .prop_filter_map("finite", serde_json::Number::from_f64)
                .prop_map(CompValue::Number),
            any::<String>().prop_map(CompValue::Str),
        ]
    }

    fn op() -> impl Strategy<Value = CompareOp> {
        prop::sample::select(CompareOp::ALL.to_vec())
    }

    fn leaf(path: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
        prop_oneof![
            path.clone().prop_map(Filter::Present),
            (path, op(), value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
        ]
    }

    fn combine(inner: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(|a| !a),
        ]
        .boxed()
    }

    /// Filters valid inside `[…]`: plain sub-attribute names, no value paths.
    fn relative_filter() -> impl Strategy<Value = Filter> {
        let path = attr_name().prop_map(|a| AttrPath::new(&a)).boxed();
        leaf(path).prop_recursive(3, 16, 2, combine)
    }

    fn filter() -> impl Strategy<Value = Filter> {
        let value_path = (urn(), attr_name(), relative_filter()).prop_map(|(urn, attr, inner)| {
            Filter::ValuePath(
                AttrPath {
                    urn,
                    attr,
                    sub: None,
                },
                Box::new(inner),
            )
        });
        prop_oneof![3 => leaf(full_path().boxed()), 1 => value_path]
            .prop_recursive(4, 32, 2, combine)
    }

    proptest! {
        #[test]
        fn display_round_trips(filter in filter()) {
            let text = filter.to_string();
            prop_assert_eq!(Filter::parse(&text, Profile::Lenient), Ok(filter), "{}", text);
        }
    }
}
