//! The core User schema (RFC 7643 §4.1 and §8.7.1):
//! `urn:ietf:params:scim:schemas:core:2.0:User`.

use super::types::{
    binary, boolean, complex, reference, string, AttributeDef, Column, Mutability, Returned,
    SchemaDef, Uniqueness,
};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The shape RFC 7643 §2.4 gives multi-valued attributes: `value`, `display`,
/// `type` and `primary`. Only `value`'s type and `type`'s canonical values
/// differ between them.
fn multi_valued(
    name: &'static str,
    description: &'static str,
    value: AttributeDef,
    types: &'static [&'static str],
) -> AttributeDef {
    complex(
        name,
        description,
        vec![
            value,
            string("display", "A human-readable name, primarily used for display purposes."),
            string("type", "A label indicating the attribute's function.").canonical(types),
            boolean("primary", "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
        ],
    )
    .multi()
}

fn name_attribute() -> AttributeDef {
    complex(
        "name",
        "The components of the user's real name.",
        vec![
            string(
                "formatted",
                "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display.",
            ),
            string(
                "familyName",
                "The family name of the User, or last name in most Western languages.",
            ),
            string(
                "givenName",
                "The given name of the User, or first name in most Western languages.",
            ),
            string("middleName", "The middle name(s) of the User."),
            string(
                "honorificPrefix",
                "The honorific prefix(es) of the User, or title in most Western languages.",
            ),
            string(
                "honorificSuffix",
                "The honorific suffix(es) of the User, or suffix in most Western languages.",
            ),
        ],
    )
}

fn addresses_attribute() -> AttributeDef {
    complex(
        "addresses",
        "A physical mailing address for this User.",
        vec![
            string("formatted", "The full mailing address, formatted for display or use with a mailing label."),
            string("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information."),
            string("locality", "The city or locality component."),
            string("region", "The state or region component."),
            string("postalCode", "The zip code or postal code component."),
            string("country", "The country name component."),
            string("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.")
                .canonical(&["work", "home", "other"]),
            // Missing from the §8.7.1 table but named by §4.1.2 and sent by clients.
            boolean("primary", "A Boolean value indicating the 'primary' or preferred address."),
        ],
    )
    .multi()
}

fn groups_attribute() -> AttributeDef {
    complex(
        "groups",
        "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
        vec![
            string("value", "The identifier of the User's group.").read_only(),
            reference("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource to which the user belongs.")
                .read_only(),
            string("display", "A human-readable name, primarily used for display purposes.").read_only(),
            string("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.")
                .canonical(&["direct", "indirect"])
                .read_only(),
        ],
    )
    .multi()
    .read_only()
}

pub fn user_schema() -> SchemaDef {
    SchemaDef {
        id: USER_SCHEMA,
        name: "User",
        description: "User Account",
        attributes: vec![
            string("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.")
                .required()
                .uniqueness(Uniqueness::Server)
                .stored_in(Column::UserName),
            name_attribute(),
            string("displayName", "The name of the User, suitable for display to end-users.")
                .stored_in(Column::DisplayName),
            string("nickName", "The casual way to address the user in real life."),
            reference("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
            string("title", "The user's title, such as \"Vice President\"."),
            string("userType", "Used to identify the relationship between the organization and the user."),
            string("preferredLanguage", "Indicates the User's preferred written or spoken language."),
            string("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
            string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            boolean("active", "A Boolean value indicating the User's administrative status.")
                .stored_in(Column::Active),
            string("password", "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            multi_valued(
                "emails",
                "Email addresses for the user.",
                string("value", "Email addresses for the user.").stored_in(Column::EmailValues),
                &["work", "home", "other"],
            ),
            multi_valued(
                "phoneNumbers",
                "Phone numbers for the User.",
                string("value", "Phone number of the User."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_valued(
                "ims",
                "Instant messaging addresses for the User.",
                string("value", "Instant messaging address for the User."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_valued(
                "photos",
                "URLs of photos of the User.",
                reference("value", &["external"], "URL of a photo of the User."),
                &["photo", "thumbnail"],
            ),
            addresses_attribute(),
            groups_attribute(),
            multi_valued(
                "entitlements",
                "A list of entitlements for the User that represent a thing the User has.",
                string("value", "The value of an entitlement."),
                &[],
            ),
            multi_valued(
                "roles",
                "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
                string("value", "The value of a role."),
                &[],
            ),
            multi_valued(
                "x509Certificates",
                "A list of certificates issued to the User.",
                binary("value", "The value of an X.509 certificate."),
                &[],
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::types::AttrType;

    #[test]
    fn user_name_is_required_server_unique_and_case_insensitive() {
        let schema = user_schema();
        let user_name = schema.attribute("username").expect("userName");
        assert!(user_name.required);
        assert!(!user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let schema = user_schema();
        let password = schema.attribute("password").expect("password");
        assert_eq!(password.mutability, Mutability::WriteOnly);
        assert_eq!(password.returned, Returned::Never);
    }

    #[test]
    fn multi_valued_attributes_have_the_rfc_sub_attributes() {
        let schema = user_schema();
        for name in [
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            let attr = schema.attribute(name).expect(name);
            assert!(attr.multi_valued && attr.is_complex(), "{name}");
            for sub in ["value", "display", "type", "primary"] {
                assert!(attr.sub_attribute(sub).is_some(), "{name}.{sub}");
            }
        }
        let cert = schema.attribute("x509Certificates").expect("certs");
        assert_eq!(
            cert.sub_attribute("value").map(|v| v.attr_type),
            Some(AttrType::Binary)
        );
        let groups = schema.attribute("groups").expect("groups");
        assert_eq!(groups.mutability, Mutability::ReadOnly);
        assert!(groups
            .sub_attributes
            .iter()
            .all(|s| s.mutability == Mutability::ReadOnly));
    }
}
