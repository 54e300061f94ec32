//! The parser's limits (RFC 7644 leaves them to the server; see
//! `MAX_FILTER_LEN` and `MAX_FILTER_DEPTH`) and its robustness: no input may
//! panic, overflow the stack, or take more than linear time.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::parse_tests::error;
use super::{parse_patch_path, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN};
use crate::scim::profile::Profile;

#[test]
fn length_limit() {
    let padding = MAX_FILTER_LEN - "a eq \"\"".len();
    let longest = format!("a eq \"{}\"", "x".repeat(padding));
    assert_eq!(longest.len(), MAX_FILTER_LEN);
    assert!(Filter::parse(&longest, Profile::Lenient).is_ok());
    let too_long = format!("a eq \"{}\"", "x".repeat(padding + 1));
    assert!(error(&too_long).contains("the limit is 4096"));
}

#[test]
fn depth_limit_counts_parens_not_and_value_paths() {
    let nest = |open: &str, close: &str, levels: usize| {
        format!("{}a pr{}", open.repeat(levels), close.repeat(levels))
    };
    assert!(Filter::parse(&nest("(", ")", MAX_FILTER_DEPTH), Profile::Lenient).is_ok());
    assert!(Filter::parse(&nest("not (", ")", MAX_FILTER_DEPTH), Profile::Lenient).is_ok());
    let detail = error(&nest("(", ")", MAX_FILTER_DEPTH + 1));
    assert!(
        detail.contains("nests deeper than 32 levels at position 32"),
        "{detail}"
    );
    assert!(error(&nest("not (", ")", MAX_FILTER_DEPTH + 1)).contains("deeper"));
    let mixed = format!(
        "{}x[{}a pr{}]{}",
        "(".repeat(16),
        "(".repeat(15),
        ")".repeat(15),
        ")".repeat(16)
    );
    assert!(Filter::parse(&mixed, Profile::Lenient).is_ok());
    let mixed = format!(
        "{}x[{}a pr{}]{}",
        "(".repeat(16),
        "(".repeat(16),
        ")".repeat(16),
        ")".repeat(16)
    );
    assert!(error(&mixed).contains("deeper"));
    // Long flat chains are not nesting.
    let chain = vec!["a pr"; 400].join(" and ");
    assert!(Filter::parse(&chain, Profile::Lenient).is_ok());
}

/// Inputs built to make a careless parser blow its stack or go quadratic.
#[test]
fn hostile_inputs_fail_fast() {
    let hostile = [
        "(".repeat(MAX_FILTER_LEN),
        "not (".repeat(MAX_FILTER_LEN / 5),
        "a[".repeat(MAX_FILTER_LEN / 2),
        format!("a eq \"{}", "\\u".repeat(2000)),
        format!("a eq \"{}", "\\\"".repeat(2000)),
        " ".repeat(MAX_FILTER_LEN),
        "é".repeat(MAX_FILTER_LEN / 2),
        format!("a eq {}", "9".repeat(MAX_FILTER_LEN - 5)),
        vec!["a pr"; 800]
            .join(" or ")
            .chars()
            .take(MAX_FILTER_LEN)
            .collect(),
    ];
    for text in hostile {
        let started = Instant::now();
        let _ = Filter::parse(&text, Profile::Lenient);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{}",
            &text[..20]
        );
    }
}

fn noise() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "(", ")", "[", "]", "\"", "\\", "\\u", "D800", "\\uDC00", " ", "\t", "and", "or",
            "not", "eq", "pr", "gt", "co", "1e400", "-", "0", "1.5", ".", ":", "urn:", "true",
            "null", "é", "😀", "emails", "type", "$ref", "a.b",
        ])
        .prop_map(str::to_string),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..60).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_token_soup_never_panics(text in noise()) {
        if let Ok(filter) = Filter::parse(&text, Profile::Lenient) {
            prop_assert_eq!(Filter::parse(&filter.to_string(), Profile::Lenient), Ok(filter));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let _ = Filter::parse(&text, Profile::Lenient);
        let _ = parse_patch_path(&text);
    }
}

/// Valid filters and PATCH paths, for putting a NUL into.
const WITH_STRINGS: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"emails[type eq "work" and value co "@example.com"]"#,
    r#"title sw "a" or not (displayName ew "b")"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
];

#[test]
fn nul_in_a_string_is_refused_with_its_position() {
    let e = error(r#"userName eq "a\u0000b""#);
    assert!(e.contains("NUL") && e.contains("position 14"), "{e}");
    assert!(parse_patch_path(r#"emails[type eq "w\u0000"].value"#).is_err());
    assert!(Filter::parse("userName eq \"a\0b\"", Profile::Lenient).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// PostgreSQL text cannot hold U+0000: whatever the parsers accept
    /// must hold none, raw or escaped, wherever the client put it.
    #[test]
    fn no_nul_survives_parsing(
        which in 0..WITH_STRINGS.len(),
        at in any::<prop::sample::Index>(),
        escaped in any::<bool>(),
    ) {
        let base = WITH_STRINGS[which];
        let pos = at.index(base.len() + 1);
        let nul = if escaped { "\\u0000" } else { "\0" };
        let text = format!("{}{nul}{}", &base[..pos], &base[pos..]);
        if let Ok(f) = Filter::parse(&text, Profile::Lenient) {
            let shown = f.to_string();
            prop_assert!(!shown.contains('\0') && !shown.contains("\\u0000"), "{:?}", shown);
        }
        if let Ok(p) = parse_patch_path(&text) {
            let shown = p.to_string();
            prop_assert!(!shown.contains('\0') && !shown.contains("\\u0000"), "{:?}", shown);
        }
    }
}
