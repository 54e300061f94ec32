//! The profiles' names and membership. What each rule accepts and how a
//! profile without it refuses is in `rules.rs`; the recorded client
//! exchanges are replayed under their client's profile in `recorded.rs`.

mod recorded;
mod rules;

use super::*;

#[test]
fn names_round_trip_through_parse_display_and_serde() {
    for p in Profile::ALL {
        assert_eq!(Profile::parse(p.as_str()), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
        assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json, serde_json::json!(p.as_str()));
        assert_eq!(serde_json::from_value::<Profile>(json).unwrap(), p);
    }
    assert_eq!(Profile::parse(" Entra "), Ok(Profile::Entra));
    assert_eq!(Profile::parse("STRICT"), Ok(Profile::Strict));
    let e = Profile::parse("azure").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown profile 'azure'; expected lenient, okta, entra or strict"
    );
    assert!(serde_json::from_value::<Profile>(serde_json::json!("azure")).is_err());
    assert_eq!(Profile::default(), Profile::Lenient);
}

#[test]
fn lenient_has_every_rule_and_strict_none() {
    assert_eq!(Profile::Lenient.rules().count(), Rule::ALL.len());
    assert_eq!(Profile::Strict.rules().count(), 0);
}

#[test]
fn okta_and_entra_get_the_rules_their_clients_need() {
    use Rule::*;
    assert_eq!(
        Profile::Okta.rules().collect::<Vec<_>>(),
        [SingleValueForMultiValued, ReadOnlyInPatchValue]
    );
    assert_eq!(
        Profile::Entra.rules().collect::<Vec<_>>(),
        [
            ScalarForComplex,
            StringBooleans,
            CaseInsensitiveOps,
            PathKeysInPatchValue,
            CreateOnValueFilter,
            BlankClearsReference,
            RemoveByValue,
            LegacyAdscimSchema,
            SubAttributeAfterValueFilter,
        ]
    );
}

#[test]
fn rule_names_are_distinct() {
    let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Rule::ALL.len());
}

#[test]
fn a_refusal_keeps_status_and_type_and_names_profile_and_rule() {
    let e = Profile::Okta
        .permit(Rule::StringBooleans, || {
            ScimError::invalid_value("attribute 'active' must be a boolean, not a string")
        })
        .unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(
        e.scim_type,
        Some(crate::scim::error::ScimType::InvalidValue)
    );
    assert_eq!(
        e.detail,
        "attribute 'active' must be a boolean, not a string; the okta profile does not \
         accept \"True\" or \"False\" strings for booleans (rule string-booleans)"
    );
    assert_eq!(
        Profile::Entra.permit(Rule::StringBooleans, || unreachable!()),
        Ok(())
    );
}

/// The README's table says which profiles apply each rule; it must say what
/// `Profile::allows` decides, for every rule.
#[test]
fn the_readme_table_matches_the_profiles() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Compatibility profiles")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Compatibility profiles section");
    let mut seen = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let rule = Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .unwrap_or_else(|| panic!("README names unknown rule {name}"));
        for (i, profile) in Profile::ALL.into_iter().enumerate() {
            let ticked = cells[3 + i] == "✓";
            assert_eq!(
                ticked,
                profile.allows(rule),
                "README: {rule} under {profile}"
            );
        }
        seen.push(rule);
    }
    assert_eq!(seen, Rule::ALL, "README lists every rule once, in order");
}
