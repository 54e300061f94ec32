//! Compatibility profiles: which departures from RFC 7643/7644 scimd
//! accepts from a client. Every leniency the engines apply is a [`Rule`],
//! and [`Profile::allows`] is the one place that decides whether a profile
//! applies it. The engines take the profile as an argument (`validate`,
//! `patch::parse_request`, `patch::apply`, `Filter::parse`, `ListQuery`) and
//! ask it once, at the place that applies the rule; a profile without the
//! rule answers the input with a 400 whose `scimType` is the one RFC 7644
//! §3.12 names for it there, and whose detail names the rule.
//!
//! What is RFC behaviour, not a rule, and so applies under every profile:
//! readOnly attributes in a POST or PUT body are ignored (RFC 7644 §3.5.1
//! "SHALL be ignored"), and so are readOnly sub-attributes inside any
//! complex value; `canonicalValues` are not enforced (RFC 7643 §7 calls them
//! suggestions a server "MAY" ignore); attribute names, schema URNs, member
//! names of the PatchOp and SearchRequest messages and filter operators match
//! case-insensitively (RFC 7643 §2.1, RFC 7644 §3.4.2.2); null means
//! unassigned (RFC 7643 §2.5), so a null `path` is no path and a null value
//! clears; a PATCH value's `schemas` key is bookkeeping, rebuilt from the
//! result.
//!
//! Membership follows what each client's own documentation shows it
//! sending (the README's "Compatibility profiles" table cites it, and a test
//! keeps the table's ticks equal to [`Profile::allows`]), and the recorded
//! exchanges in `scim-fixtures/` are checked against it: `okta` and `entra`
//! read every request recorded from their client exactly as `lenient` does.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scim::error::{ScimError, ScimResult};

/// One leniency: an input RFC 7643/7644 does not allow, which scimd reads in
/// the one way it can be meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// One value where a multi-valued attribute's array belongs is read as
    /// an array of one: `"emails": {"value": "a@x"}` in a body or a PATCH
    /// value, one member object in a `members` value, `"schemas": "urn:…"`
    /// (resource or PatchOp). Okta (its provisioning agent, as recorded by
    /// scimd's author; Okta's documentation does not show it).
    SingleValueForMultiValued,
    /// A bare value for a complex attribute with a `value` sub-attribute is
    /// read as `{"value": …}`: `"manager": "26118915"`, or `"members":
    /// ["id"]`. Entra ID (Microsoft's SCIM tutorial writes `manager` so).
    ScalarForComplex,
    /// `"True"` / `"False"` (any case) for a boolean attribute are read as
    /// `true` / `false`: `{"op": "Replace", "path": "active", "value":
    /// "False"}`. Entra ID without the `aadOptscim062020` flag.
    StringBooleans,
    /// PATCH `op` names in any case, with blanks around them: `"Add"`,
    /// `"Replace"`, `"Remove"`. Entra ID without the `aadOptscim062020`
    /// flag. RFC 7644 §3.5.2 spells them `add`, `remove`, `replace`.
    CaseInsensitiveOps,
    /// An empty (or blank) `path` means the operation has none:
    /// `{"op": "add", "path": "", "value": {"title": "x"}}`. No client is
    /// known to send it; scimd accepted it before profiles existed.
    BlankPath,
    /// The keys of a PATCH `value` without `path` may be attribute paths,
    /// each applied at the path it names: `{"op": "replace", "value":
    /// {"name.givenName": "Kkom", "urn:…:enterprise:2.0:User:employeeNumber":
    /// "Aklq"}}`; the core schema URN may key an object of core attributes
    /// as an extension's does. Entra ID with the `aadOptscim062020` flag.
    /// RFC 7644 §3.5.2.1 makes the keys attribute names.
    PathKeysInPatchValue,
    /// A POST or PUT body may key an attribute by its URN-qualified name
    /// (`"urn:…:enterprise:2.0:User:department": "Sales"`) and may wrap
    /// core attributes in an object keyed by the core schema URN. No client
    /// is known to send it; scimd accepted it before profiles existed. RFC
    /// 7643 §3 puts core attributes at the top level and an extension's
    /// under its URN.
    QualifiedKeysInResource,
    /// readOnly attributes named as keys of a PATCH `value` without `path`
    /// are skipped instead of refused with `mutability`: `{"op": "replace",
    /// "value": {"id": "abf4dd94-…", "displayName": "Test SCIMv2"}}`. Okta
    /// (its documented Group rename). With an explicit `path` a readOnly
    /// attribute is `mutability` under every profile.
    ReadOnlyInPatchValue,
    /// `attr[filter].sub` whose filter matches nothing, when the filter
    /// describes one value (`type eq "work"`, or `eq`s joined by `and`),
    /// creates that value instead of failing with `noTarget`:
    /// `{"op": "Replace", "path": "emails[type eq \"work\"].value", "value":
    /// "a@x"}` on a user without a work email. Entra ID (its attribute
    /// mappings write emails, phone numbers and addresses that way).
    CreateOnValueFilter,
    /// An empty `value` clears a reference (a complex attribute with a
    /// `value` sub-attribute, such as the enterprise `manager`): `"value":
    /// ""` or `{"value": ""}` for `manager`, or `""` for `manager.value`.
    /// Entra ID (as recorded in `scim-fixtures/patch-entra-user.json`; no
    /// Microsoft page shows it). A null value clears under every profile.
    BlankClearsReference,
    /// A `remove` operation may carry a `value`: for a multi-valued
    /// attribute only the values it describes are removed (`{"op":
    /// "Remove", "path": "members", "value": [{"value": "u1091"}]}` removes
    /// one member, not all), elsewhere it is ignored. Entra ID without the
    /// `aadOptscim062020` flag. RFC 7644 §3.5.2.2 gives `remove` no value.
    RemoveByValue,
    /// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`
    /// (or `…/User`) in `schemas` is accepted and dropped. Entra ID
    /// (Microsoft's SCIM tutorial, Create Group).
    LegacyAdscimSchema,
    /// A comparison after a value filter in a `filter`, which RFC 7644's
    /// filter grammar lacks, is read as one more condition inside it:
    /// `emails[type eq "work"].value eq "a@x"` means `emails[type eq "work"
    /// and value eq "a@x"]`. Entra ID (its matching query on a work email).
    SubAttributeAfterValueFilter,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::SingleValueForMultiValued,
        Rule::ScalarForComplex,
        Rule::StringBooleans,
        Rule::CaseInsensitiveOps,
        Rule::BlankPath,
        Rule::PathKeysInPatchValue,
        Rule::QualifiedKeysInResource,
        Rule::ReadOnlyInPatchValue,
        Rule::CreateOnValueFilter,
        Rule::BlankClearsReference,
        Rule::RemoveByValue,
        Rule::LegacyAdscimSchema,
        Rule::SubAttributeAfterValueFilter,
    ];

    /// The rule's name in error details and the README.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::SingleValueForMultiValued => "single-value-for-multi-valued",
            Rule::ScalarForComplex => "scalar-for-complex",
            Rule::StringBooleans => "string-booleans",
            Rule::CaseInsensitiveOps => "case-insensitive-ops",
            Rule::BlankPath => "blank-path",
            Rule::PathKeysInPatchValue => "path-keys-in-patch-value",
            Rule::QualifiedKeysInResource => "qualified-keys-in-resource",
            Rule::ReadOnlyInPatchValue => "read-only-in-patch-value",
            Rule::CreateOnValueFilter => "create-on-value-filter",
            Rule::BlankClearsReference => "blank-clears-reference",
            Rule::RemoveByValue => "remove-by-value",
            Rule::LegacyAdscimSchema => "legacy-adscim-schema",
            Rule::SubAttributeAfterValueFilter => "sub-attribute-after-value-filter",
        }
    }

    /// What the rule accepts, completing "the P profile does not accept …".
    fn accepts(self) -> &'static str {
        match self {
            Rule::SingleValueForMultiValued => "a single value for a multi-valued attribute",
            Rule::ScalarForComplex => "a bare value for a complex attribute",
            Rule::StringBooleans => "\"True\" or \"False\" strings for booleans",
            Rule::CaseInsensitiveOps => "PATCH 'op' names other than 'add', 'remove' and 'replace'",
            Rule::BlankPath => "an empty 'path' for an operation without one",
            Rule::PathKeysInPatchValue => {
                "attribute paths as keys of a PATCH 'value' without 'path'"
            }
            Rule::QualifiedKeysInResource => {
                "URN-qualified attribute names or the core schema URN as keys of a resource"
            }
            Rule::ReadOnlyInPatchValue => "readOnly attributes in a PATCH 'value', skipped",
            Rule::CreateOnValueFilter => {
                "a value filter matching nothing as the description of a value to create"
            }
            Rule::BlankClearsReference => "an empty value as clearing a reference",
            Rule::RemoveByValue => "a 'value' on a 'remove' operation",
            Rule::LegacyAdscimSchema => "Microsoft's legacy ADSCIM schema URN",
            Rule::SubAttributeAfterValueFilter => "a comparison after a value filter",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which rules a client gets. A token without a connector is served with
/// [`Profile::Lenient`], which is what scimd did for everyone before
/// profiles existed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Every rule.
    #[default]
    Lenient,
    /// The rules Okta needs.
    Okta,
    /// The rules Microsoft Entra ID needs, with or without its
    /// `aadOptscim062020` flag.
    Entra,
    /// No rule: RFC 7643/7644 as written.
    Strict,
}

/// A profile name that is none of [`Profile::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProfile(pub String);

impl fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown profile '{}'; expected lenient, okta, entra or strict",
            self.0.chars().take(32).collect::<String>()
        )
    }
}

impl std::error::Error for UnknownProfile {}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Lenient,
        Profile::Okta,
        Profile::Entra,
        Profile::Strict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Lenient => "lenient",
            Profile::Okta => "okta",
            Profile::Entra => "entra",
            Profile::Strict => "strict",
        }
    }

    /// `lenient`, `okta`, `entra` or `strict`, in any case.
    ///
    /// # Errors
    ///
    /// [`UnknownProfile`] for any other text.
    pub fn parse(text: &str) -> Result<Profile, UnknownProfile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownProfile(text.to_string()))
    }

    /// Whether this profile applies `rule`. The only place that decides:
    /// the match is over the rules, so a new rule cannot be added without
    /// saying which client profiles get it.
    pub fn allows(self, rule: Rule) -> bool {
        // (okta, entra); lenient has every rule and strict none.
        let (okta, entra) = match rule {
            Rule::SingleValueForMultiValued => (true, false),
            Rule::ScalarForComplex => (false, true),
            Rule::StringBooleans => (false, true),
            Rule::CaseInsensitiveOps => (false, true),
            Rule::BlankPath => (false, false),
            Rule::PathKeysInPatchValue => (false, true),
            Rule::QualifiedKeysInResource => (false, false),
            Rule::ReadOnlyInPatchValue => (true, false),
            Rule::CreateOnValueFilter => (false, true),
            Rule::BlankClearsReference => (false, true),
            Rule::RemoveByValue => (false, true),
            Rule::LegacyAdscimSchema => (false, true),
            Rule::SubAttributeAfterValueFilter => (false, true),
        };
        match self {
            Profile::Lenient => true,
            Profile::Okta => okta,
            Profile::Entra => entra,
            Profile::Strict => false,
        }
    }

    /// The rules this profile applies.
    pub fn rules(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.into_iter().filter(move |r| self.allows(*r))
    }

    /// `Ok` when this profile applies `rule`; otherwise the error `refusal`
    /// builds (the one the input would get if the rule did not exist), its
    /// detail saying which profile refused it and by which rule.
    ///
    /// # Errors
    ///
    /// `refusal()`, with its detail extended, when the profile lacks `rule`.
    pub fn permit(self, rule: Rule, refusal: impl FnOnce() -> ScimError) -> ScimResult<()> {
        if self.allows(rule) {
            return Ok(());
        }
        let e = refusal();
        Err(ScimError {
            detail: format!("{}; {}", e.detail, self.refusal(rule)),
            ..e
        })
    }

    /// "the strict profile does not accept … (rule …)", for callers that
    /// build their own error text (the filter parser).
    pub fn refusal(self, rule: Rule) -> String {
        format!(
            "the {self} profile does not accept {} (rule {rule})",
            rule.accepts()
        )
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Profile, UnknownProfile> {
        Profile::parse(text)
    }
}

#[cfg(test)]
mod tests;
