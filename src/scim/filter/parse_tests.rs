//! Tests of the filter parser (RFC 7644 §3.4.2.2): the RFC's examples,
//! precedence, literals, and every error class with its position. Limits and
//! robustness are in `limit_tests`.

use super::{CompValue, CompareOp, Filter};
use crate::scim::error::ScimType;
use crate::scim::path::AttrPath;
use crate::scim::profile::Profile;

fn parse(text: &str) -> Filter {
    Filter::parse(text, Profile::Lenient).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

pub(super) fn error(text: &str) -> String {
    let e = Filter::parse(text, Profile::Lenient).expect_err(text);
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
    assert_eq!(e.status, 400);
    e.detail
}

fn path(text: &str) -> AttrPath {
    AttrPath::parse(text).unwrap()
}

fn cmp(p: &str, op: CompareOp, v: CompValue) -> Filter {
    Filter::Compare(path(p), op, v)
}

fn s(v: &str) -> CompValue {
    CompValue::Str(v.to_string())
}

fn n(v: i64) -> CompValue {
    CompValue::Number(v.into())
}

fn pr(p: &str) -> Filter {
    Filter::Present(path(p))
}

#[test]
fn rfc_7644_examples_parse() {
    let examples = [
        "userName eq \"bjensen\"",
        "name.familyName co \"O'Malley\"",
        "userName sw \"J\"",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
        "title pr",
        "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
        "meta.lastModified ge \"2011-05-13T04:42:34Z\"",
        "meta.lastModified lt \"2011-05-13T04:42:34Z\"",
        "meta.lastModified le \"2011-05-13T04:42:34Z\"",
        "title pr and userType eq \"Employee\"",
        "title pr or userType eq \"Intern\"",
        "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
        "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
        "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
        "userType eq \"Employee\" and (emails.type eq \"work\")",
        "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
        "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
    ];
    for text in examples {
        let filter = parse(text);
        // Every RFC example but one is already in canonical form; that one
        // has parentheses that change nothing.
        let canonical = text.replace("(emails.type eq \"work\")", "emails.type eq \"work\"");
        assert_eq!(filter.to_string(), canonical);
    }
}

#[test]
fn rfc_examples_have_the_expected_shape() {
    assert_eq!(
        parse("userName eq \"bjensen\""),
        cmp("userName", CompareOp::Eq, s("bjensen"))
    );
    let qualified = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"");
    let Filter::Compare(p, CompareOp::Sw, _) = qualified else {
        panic!("{qualified:?}")
    };
    assert_eq!(
        p.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_eq!(p.attr, "userName");
    assert_eq!(
        parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"),
        pr("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
    );
    assert_eq!(
        parse(
            "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")"
        ),
        cmp("userType", CompareOp::Ne, s("Employee")).and(
            !cmp("emails", CompareOp::Co, s("example.com")).or(cmp(
                "emails.value",
                CompareOp::Co,
                s("example.org")
            ))
        )
    );
    let inner =
        cmp("type", CompareOp::Eq, s("work")).and(cmp("value", CompareOp::Co, s("@example.com")));
    assert_eq!(
        parse(
            "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]"
        ),
        cmp("userType", CompareOp::Eq, s("Employee"))
            .and(Filter::ValuePath(path("emails"), Box::new(inner)))
    );
}

#[test]
fn precedence_and_associativity() {
    let (a, b, c, d) = (
        || cmp("a", CompareOp::Eq, n(1)),
        || cmp("b", CompareOp::Eq, n(2)),
        || cmp("c", CompareOp::Eq, n(3)),
        || cmp("d", CompareOp::Eq, n(4)),
    );
    assert_eq!(parse("a eq 1 or b eq 2 and c eq 3"), a().or(b().and(c())));
    assert_eq!(parse("a eq 1 and b eq 2 or c eq 3"), a().and(b()).or(c()));
    assert_eq!(parse("a eq 1 or b eq 2 or c eq 3"), a().or(b()).or(c()));
    assert_eq!(parse("a eq 1 and b eq 2 and c eq 3"), a().and(b()).and(c()));
    assert_eq!(parse("(a eq 1 or b eq 2) and c eq 3"), a().or(b()).and(c()));
    assert_eq!(
        parse("a eq 1 and not (b eq 2) or c eq 3 and d eq 4"),
        a().and(!b()).or(c().and(d()))
    );
    assert_eq!(parse("not (a eq 1) and b eq 2"), (!a()).and(b()));
    assert_eq!(parse("((a eq 1))"), a());
}

#[test]
fn keywords_are_case_insensitive_and_names_keep_their_case() {
    assert_eq!(
        parse("UserName EQ \"x\" And NOT (Title PR) OR emails[Type Eq \"w\"]"),
        cmp("UserName", CompareOp::Eq, s("x"))
            .and(!pr("Title"))
            .or(Filter::ValuePath(
                path("emails"),
                Box::new(cmp("Type", CompareOp::Eq, s("w")))
            ))
    );
    for op in CompareOp::ALL {
        let upper = format!("a {} 1", op.as_str().to_uppercase());
        assert_eq!(parse(&upper), cmp("a", op, n(1)));
    }
    assert_eq!(
        parse("a eq TRUE"),
        cmp("a", CompareOp::Eq, CompValue::Bool(true))
    );
    assert_eq!(
        parse("a eq False"),
        cmp("a", CompareOp::Eq, CompValue::Bool(false))
    );
    assert_eq!(parse("a eq NULL"), cmp("a", CompareOp::Eq, CompValue::Null));
}

#[test]
fn whitespace_is_tolerated_between_tokens() {
    let expected = parse("a eq 1 and not (b pr) or c[d pr]");
    assert_eq!(
        parse("  a   eq\t1 \n and  not(  b pr ) or   c[ d pr ]  "),
        expected
    );
    assert_eq!(parse("a eq 1 and not(b pr) or c[d pr]"), expected);
}

#[test]
fn keyword_lookalikes_are_attribute_names() {
    assert_eq!(parse("not pr"), pr("not"));
    assert_eq!(parse("not eq 1"), cmp("not", CompareOp::Eq, n(1)));
    assert_eq!(parse("and pr and or pr"), pr("and").and(pr("or")));
    assert_eq!(parse("notes pr or order pr"), pr("notes").or(pr("order")));
    assert_eq!(parse("pr pr"), pr("pr"));
    assert_eq!(
        parse("members.$ref eq \"x\""),
        cmp("members.$ref", CompareOp::Eq, s("x"))
    );
}

#[test]
fn string_literals_decode_every_json_escape() {
    assert_eq!(
        parse(r#"a eq "q\" b\\ s\/ \b\f\n\r\t \u00e9 \uD83D\uDE00 é😀""#),
        cmp(
            "a",
            CompareOp::Eq,
            s("q\" b\\ s/ \u{8}\u{c}\n\r\t é 😀 é😀")
        )
    );
    assert_eq!(parse(r#"a eq """#), cmp("a", CompareOp::Eq, s("")));
    assert_eq!(
        parse(r#"a eq "and or not )(][""#),
        cmp("a", CompareOp::Eq, s("and or not )(]["))
    );
}

/// Entra ID's matching filter on a work email: a sub-attribute comparison
/// after a value filter, read as one more condition inside it.
#[test]
fn a_comparison_after_a_value_filter_joins_it() {
    assert_eq!(
        parse(r#"emails[type eq "work"].value eq "user@contoso.com""#),
        parse(r#"emails[type eq "work" and value eq "user@contoso.com"]"#)
    );
    assert_eq!(
        parse(r#"EMAILS[TYPE EQ "work" or type eq "home"].Value CO "@x" and active eq true"#),
        parse(r#"EMAILS[(TYPE EQ "work" or type eq "home") and Value CO "@x"] and active eq true"#)
    );
    assert_eq!(
        parse(r#"addresses[type eq "work"].postalCode pr"#),
        parse(r#"addresses[type eq "work" and postalCode pr]"#)
    );
    let f = parse(r#"not (emails[type eq "work"].value ew "@contoso.com")"#);
    assert_eq!(
        f.to_string(),
        r#"not (emails[type eq "work" and value ew "@contoso.com"])"#
    );
    assert_eq!(parse(&f.to_string()), f);
}

#[test]
fn number_literals_follow_json() {
    let num = |text: &str| match parse(&format!("a eq {text}")) {
        Filter::Compare(_, _, CompValue::Number(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(num("0").as_u64(), Some(0));
    assert_eq!(num("-42").as_i64(), Some(-42));
    assert_eq!(num("18446744073709551615").as_u64(), Some(u64::MAX));
    assert_eq!(num("-9223372036854775808").as_i64(), Some(i64::MIN));
    assert_eq!(num("1.25").as_f64(), Some(1.25));
    assert_eq!(num("-1.5E+2").as_f64(), Some(-150.0));
    assert_eq!(num("2e-3").as_f64(), Some(0.002));
    // Too big for 64 bits: kept as the nearest f64, as JSON parsers do.
    assert_eq!(
        num("123456789012345678901234567890").as_f64(),
        Some(1.2345678901234568e29)
    );
}

#[test]
fn syntax_errors_name_what_was_expected_and_where() {
    let cases = [
        (
            "userName xx \"a\"",
            "expected a comparison operator at position 9 in filter",
        ),
        ("", "expected an attribute path, 'not' or '(' at position 0"),
        (
            "   ",
            "expected an attribute path, 'not' or '(' at position 3",
        ),
        (
            "userName",
            "expected whitespace and an operator after the attribute path at position 8",
        ),
        (
            "userName eq",
            "expected whitespace after 'eq' at position 11",
        ),
        (
            "userName eq ",
            "expected a value (a quoted string, a number, true, false or null) at position 12",
        ),
        (
            "userName eq bjensen",
            "expected a value (a quoted string, a number, true, false or null) at position 12",
        ),
        (
            "userName eq \"x\"y",
            "expected whitespace after the expression at position 15",
        ),
        (
            "userName eq \"x\" y",
            "expected 'and', 'or' or the end of the filter at position 16",
        ),
        ("a pr and", "expected a filter after 'and' at position 8"),
        (
            "a pr or(b pr)",
            "expected whitespace after 'or' at position 7",
        ),
        (
            "a pr and ",
            "expected an attribute path, 'not' or '(' at position 9",
        ),
        ("(a pr", "expected 'and', 'or' or ')' at position 5"),
        (
            "a pr)",
            "expected 'and', 'or' or the end of the filter at position 4",
        ),
        ("not a pr", "expected '(' after 'not' at position 4"),
        ("not", "expected '(' after 'not' at position 3"),
        (
            "emails[type eq \"w\"",
            "expected 'and', 'or' or ']' at position 18",
        ),
        (
            "emails[]",
            "expected an attribute path, 'not' or '(' at position 7",
        ),
        (
            "andé pr",
            "'andé' is not a valid attribute path at position 0",
        ),
        (
            "1abc pr",
            "'1abc' is not a valid attribute path at position 0",
        ),
        (
            "a.b.c pr",
            "'a.b.c' is not a valid attribute path at position 0",
        ),
        (
            "a eq 1 and é pr",
            "'é' is not a valid attribute path at position 11",
        ),
        ("a eq \"x", "unterminated string at position 5"),
        ("a eq \"\\x\"", "expected a JSON escape"),
        (
            "a eq \"\\u12\"",
            "expected four hex digits after \\u at position 6",
        ),
        (
            "a eq \"\\uD800\"",
            "lone surrogate \\uD800 in string at position 6",
        ),
        ("a eq \"\\uDC00\\uD800\"", "lone surrogate \\uDC00"),
        ("a eq \"\\uD800\\u0041\"", "lone surrogate \\uD800"),
        (
            "a eq \"tab\there\"",
            "control characters must be escaped in a string at position 9",
        ),
        ("a eq 1e400", "number 1e400 is out of range at position 5"),
        ("a eq -1e400", "out of range"),
        (
            "a eq 01",
            "expected whitespace after the expression at position 6",
        ),
        (
            "a eq 1.",
            "expected a digit after the decimal point at position 7",
        ),
        ("a eq 1e", "expected a digit in the exponent at position 7"),
        ("a eq -", "expected a digit at position 6"),
        ("a eq +1", "expected a value"),
        (
            "emails[type eq \"work\"].value",
            "expected whitespace and an operator after the sub-attribute at position 28",
        ),
        (
            "emails[type eq \"work\"]. eq \"x\"",
            "expected a sub-attribute name after '].' at position 23",
        ),
        (
            "emails[type eq \"work\"].value.display eq \"x\"",
            "expected a sub-attribute name after '].' at position 23",
        ),
        (
            "emails[type eq \"work\"].value eq",
            "expected whitespace after 'eq'",
        ),
        (
            "emails[ims[type pr]]",
            "value filters cannot be nested at position 10",
        ),
        (
            "emails[not (ims[type pr])]",
            "value filters cannot be nested at position 15",
        ),
        (
            "name.givenName[x pr]",
            "must follow an attribute name, not the sub-attribute path 'name.givenName' at position 0",
        ),
        (
            "emails[emails.type pr]",
            "'emails.type' must be a plain sub-attribute name inside a value filter at position 7",
        ),
        ("emails[urn:x:y:type pr]", "plain sub-attribute name"),
    ];
    for (text, message) in cases {
        let detail = error(text);
        assert!(
            detail.contains(message),
            "{text:?}: got {detail:?}, want {message:?}"
        );
    }
}
