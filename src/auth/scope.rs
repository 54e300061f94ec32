//! Token scopes and their hierarchy:
//! `all` ⊇ every scope; `admin:write` ⊇ `admin:read`, `admin:scim`;
//! `connect:write` ⊇ `connect:read`. A token stored with no scopes is a
//! legacy token and counts as `all`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    All,
    AdminRead,
    AdminWrite,
    AdminScim,
    ConnectRead,
    ConnectWrite,
}

impl Scope {
    pub const EVERY: [Scope; 6] = [
        Scope::All,
        Scope::AdminRead,
        Scope::AdminWrite,
        Scope::AdminScim,
        Scope::ConnectRead,
        Scope::ConnectWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::AdminRead => "admin:read",
            Scope::AdminWrite => "admin:write",
            Scope::AdminScim => "admin:scim",
            Scope::ConnectRead => "connect:read",
            Scope::ConnectWrite => "connect:write",
        }
    }

    /// The scopes this one directly includes (itself excluded).
    fn children(self) -> &'static [Scope] {
        match self {
            Scope::All => &[
                Scope::AdminRead,
                Scope::AdminWrite,
                Scope::AdminScim,
                Scope::ConnectRead,
                Scope::ConnectWrite,
            ],
            Scope::AdminWrite => &[Scope::AdminRead, Scope::AdminScim],
            Scope::ConnectWrite => &[Scope::ConnectRead],
            _ => &[],
        }
    }

    /// Whether holding `self` grants `other`.
    pub fn includes(self, other: Scope) -> bool {
        self == other || self.children().iter().any(|c| c.includes(other))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}; valid scopes: all, admin:read, admin:write, admin:scim, connect:read, connect:write")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::EVERY
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
    }
}

/// The scopes a credential holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn all() -> Self {
        ScopeSet(vec![Scope::All])
    }

    /// From the stored column. Empty means `all` (legacy tokens); a name this
    /// version does not know grants nothing rather than failing the request.
    pub fn from_stored(stored: &[String]) -> Self {
        if stored.is_empty() {
            return Self::all();
        }
        ScopeSet(stored.iter().filter_map(|s| s.parse().ok()).collect())
    }

    pub fn grants(&self, needed: Scope) -> bool {
        self.0.iter().any(|s| s.includes(needed))
    }

    pub fn grants_any(&self, needed: &[Scope]) -> bool {
        needed.iter().any(|n| self.grants(*n))
    }
}

/// What a route needs. Each protected route names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// GET/search under /scim/v2.
    ScimRead,
    /// POST/PUT/PATCH/DELETE/Bulk under /scim/v2.
    ScimWrite,
    /// The token admin API.
    Admin,
    /// Reading the audit log and other admin reports.
    AdminRead,
    /// `GET /Me`: acting for one person.
    ConnectRead,
    /// `PUT`/`PATCH /Me`.
    ConnectWrite,
}

impl Access {
    /// Any one of these scopes is enough.
    pub fn accepted(self) -> &'static [Scope] {
        match self {
            Access::ScimRead => &[Scope::AdminRead, Scope::AdminScim],
            Access::ScimWrite => &[Scope::AdminScim],
            Access::Admin => &[Scope::All],
            Access::AdminRead => &[Scope::AdminRead],
            Access::ConnectRead => &[Scope::ConnectRead],
            Access::ConnectWrite => &[Scope::ConnectWrite],
        }
    }

    pub fn describe(self) -> String {
        let names: Vec<&str> = self.accepted().iter().map(|s| s.as_str()).collect();
        names.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> ScopeSet {
        ScopeSet::from_stored(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn hierarchy() {
        assert!(Scope::All.includes(Scope::ConnectRead));
        assert!(Scope::AdminWrite.includes(Scope::AdminScim));
        assert!(Scope::AdminWrite.includes(Scope::AdminRead));
        assert!(!Scope::AdminWrite.includes(Scope::All));
        assert!(!Scope::AdminWrite.includes(Scope::ConnectRead));
        assert!(Scope::ConnectWrite.includes(Scope::ConnectRead));
        assert!(!Scope::ConnectRead.includes(Scope::ConnectWrite));
        assert!(!Scope::AdminScim.includes(Scope::AdminRead));
    }

    #[test]
    fn route_classes() {
        let cases: &[(&[&str], Access, bool)] = &[
            (&["admin:read"], Access::ScimRead, true),
            (&["admin:read"], Access::ScimWrite, false),
            (&["admin:scim"], Access::ScimRead, true),
            (&["admin:scim"], Access::ScimWrite, true),
            (&["admin:write"], Access::ScimWrite, true),
            (&["admin:write"], Access::Admin, false),
            (&["connect:write"], Access::ScimRead, false),
            (&["all"], Access::Admin, true),
            (&[], Access::Admin, true),
            (&["bogus"], Access::ScimRead, false),
        ];
        for (names, access, expected) in cases {
            assert_eq!(
                set(names).grants_any(access.accepted()),
                *expected,
                "{names:?} {access:?}"
            );
        }
    }

    #[test]
    fn parse_round_trips() {
        for s in Scope::EVERY {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        assert!("ALL".parse::<Scope>().is_err());
    }
}
