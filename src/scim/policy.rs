//! An organization's provisioning policies (issue 17), as data the engines
//! consult: who may change a resource (`Ownership`), what DELETE means
//! (`DeleteMode`), and what each of its connectors is allowed. Read from
//! the database with the organization's schemas and cached with them
//! (`service::schemas::Registries`), so a change made on one instance is
//! served by every instance from its next request.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ScimError;

/// Who may change a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Ownership {
    /// Any credential of the organization may change anything (the
    /// behaviour before connectors existed).
    #[default]
    Shared,
    /// A connector changes or deletes only the resources it owns; it still
    /// reads everything in its organization.
    Owned,
}

impl Ownership {
    pub fn parse(s: &str) -> Option<Ownership> {
        match s {
            "shared" => Some(Ownership::Shared),
            "owned" => Some(Ownership::Owned),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Shared => "shared",
            Ownership::Owned => "owned",
        }
    }
}

/// What a SCIM DELETE does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeleteMode {
    /// The resource and its memberships are removed.
    #[default]
    Hard,
    /// The resource disappears from SCIM but is kept, with its id and
    /// memberships, for the retention period.
    Soft,
}

impl DeleteMode {
    pub fn parse(s: &str) -> Option<DeleteMode> {
        match s {
            "hard" => Some(DeleteMode::Hard),
            "soft" => Some(DeleteMode::Soft),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeleteMode::Hard => "hard",
            DeleteMode::Soft => "soft",
        }
    }
}

/// A connector's request rate: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    /// A limit as stored (two nullable columns, set together), if any.
    pub fn from_columns(per_second: Option<f64>, burst: Option<i32>) -> Option<RateLimit> {
        Some(RateLimit {
            per_second: per_second?,
            burst: u32::try_from(burst?).unwrap_or(u32::MAX),
        })
    }
}

/// What the engines need to know about one connector.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorPolicy {
    pub name: String,
    /// The connector's own policy; `None`: the organization's.
    pub ownership: Option<Ownership>,
    /// The leniencies its requests get (`scim::profile`).
    pub profile: super::profile::Profile,
    pub rate_limit: Option<RateLimit>,
}

/// An organization's policies and connectors.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgPolicy {
    pub ownership: Ownership,
    pub delete: DeleteMode,
    /// How long a soft-deleted resource is kept.
    pub retention_days: i32,
    pub connectors: HashMap<Uuid, ConnectorPolicy>,
}

/// The days a soft-deleted resource is kept unless the organization says
/// otherwise (the column's default).
pub const DEFAULT_RETENTION_DAYS: i32 = 30;

impl Default for OrgPolicy {
    /// What an organization that never configured anything has: the
    /// behaviour from before connectors.
    fn default() -> Self {
        OrgPolicy {
            ownership: Ownership::Shared,
            delete: DeleteMode::Hard,
            retention_days: DEFAULT_RETENTION_DAYS,
            connectors: HashMap::new(),
        }
    }
}

/// A connector as an error names it: its name and id, or what stands for
/// "no connector".
struct Named<'a>(&'a OrgPolicy, Option<Uuid>);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            None => f.write_str("no connector (an administrator's or a plain token's)"),
            Some(id) => match self.0.connectors.get(&id) {
                Some(c) => write!(f, "connector '{}' ({id})", c.name),
                None => write!(f, "deleted connector {id}"),
            },
        }
    }
}

impl OrgPolicy {
    /// The ownership policy `connector`'s writes are held to. A credential
    /// with no connector (an administrator's token, `AUTH_SECRET`) is never
    /// restricted: it is how an administrator repairs what a connector did.
    pub fn ownership_of(&self, connector: Option<Uuid>) -> Ownership {
        match connector {
            None => Ownership::Shared,
            Some(id) => self
                .connectors
                .get(&id)
                .and_then(|c| c.ownership)
                .unwrap_or(self.ownership),
        }
    }

    /// Whether `caller` may change or delete a resource owned by `owner`:
    /// the 403 names the owning connector, so the administrator reading the
    /// IdP's error knows which connector to talk to (or to transfer from).
    pub fn may_change(
        &self,
        caller: Option<Uuid>,
        owner: Option<Uuid>,
        what: &str,
    ) -> Result<(), ScimError> {
        if self.ownership_of(caller) == Ownership::Shared || caller == owner {
            return Ok(());
        }
        Err(ScimError::new(
            403,
            None,
            format!(
                "{what} is owned by {}; {} may change only the resources it owns (ownership policy 'owned')",
                Named(self, owner),
                Named(self, caller),
            ),
        ))
    }

    /// The compatibility profile `connector`'s requests are read with: its
    /// own, or `lenient` (what scimd always did) without a connector.
    pub fn profile_of(&self, connector: Option<Uuid>) -> super::profile::Profile {
        connector
            .and_then(|id| self.connectors.get(&id))
            .map(|c| c.profile)
            .unwrap_or_default()
    }

    /// `id`'s name, for messages.
    pub fn connector_name(&self, id: Uuid) -> Option<&str> {
        self.connectors.get(&id).map(|c| c.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(org: Ownership, a: Option<Ownership>) -> (OrgPolicy, Uuid, Uuid) {
        let (ca, cb) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let mut p = OrgPolicy {
            ownership: org,
            ..OrgPolicy::default()
        };
        for (id, name, own) in [(ca, "entra", a), (cb, "okta", None)] {
            p.connectors.insert(
                id,
                ConnectorPolicy {
                    name: name.into(),
                    ownership: own,
                    profile: super::super::profile::Profile::Lenient,
                    rate_limit: None,
                },
            );
        }
        (p, ca, cb)
    }

    #[test]
    fn owned_lets_a_connector_change_only_its_own() {
        let (p, a, b) = policy(Ownership::Owned, None);
        assert!(p.may_change(Some(a), Some(a), "User 1").is_ok());
        let e = p.may_change(Some(b), Some(a), "User 1").unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.contains("connector 'entra'"), "{}", e.detail);
        assert!(e.detail.contains("connector 'okta'"), "{}", e.detail);
        // Resources no connector owns are out of a connector's reach too.
        assert!(p.may_change(Some(a), None, "User 1").is_err());
        // A credential with no connector is never restricted.
        assert!(p.may_change(None, Some(a), "User 1").is_ok());
    }

    #[test]
    fn shared_lets_anyone_change_anything() {
        let (p, a, b) = policy(Ownership::Shared, None);
        assert!(p.may_change(Some(b), Some(a), "x").is_ok());
        assert!(p.may_change(Some(b), None, "x").is_ok());
    }

    #[test]
    fn a_connector_overrides_its_organization() {
        let (p, a, b) = policy(Ownership::Shared, Some(Ownership::Owned));
        assert!(p.may_change(Some(a), Some(b), "x").is_err());
        assert!(p.may_change(Some(b), Some(a), "x").is_ok());
        let (p, a, b) = policy(Ownership::Owned, Some(Ownership::Shared));
        assert!(p.may_change(Some(a), Some(b), "x").is_ok());
        assert!(p.may_change(Some(b), Some(a), "x").is_err());
    }

    #[test]
    fn a_deleted_owner_is_named_by_id() {
        let (p, a, _) = policy(Ownership::Owned, None);
        let gone = Uuid::from_u128(99);
        let e = p.may_change(Some(a), Some(gone), "x").unwrap_err();
        assert!(e.detail.contains("deleted connector"), "{}", e.detail);
    }
}
