//! Rendering a stored resource as its SCIM representation: the stored
//! document plus `id`, `meta` (RFC 7643 §3.1) and the attributes kept outside
//! the document (`groups` of a User, `members` of a Group).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::etag::etag;

use super::path::AttrPath;

/// The resource types scimd serves. Everything that differs between them
/// and is not code (names, endpoints, the attribute kept outside the
/// document) is read from here, so one write path serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The resource type's name (`meta.resourceType`, the audit's type).
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint under the SCIM base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    /// The attribute derived from membership rows rather than stored in the
    /// document: a user's `groups`, a group's `members`.
    pub fn related_attr(self) -> &'static str {
        match self {
            Kind::User => "groups",
            Kind::Group => "members",
        }
    }

    /// The audit action for `verb` (`create`, `replace`, `patch`, `delete`).
    pub fn action(self, verb: Verb) -> &'static str {
        match (self, verb) {
            (Kind::User, Verb::Create) => "user.create",
            (Kind::User, Verb::Replace) => "user.replace",
            (Kind::User, Verb::Patch) => "user.patch",
            (Kind::User, Verb::Delete) => "user.delete",
            (Kind::Group, Verb::Create) => "group.create",
            (Kind::Group, Verb::Replace) => "group.replace",
            (Kind::Group, Verb::Patch) => "group.patch",
            (Kind::Group, Verb::Delete) => "group.delete",
        }
    }

    /// The kind an endpoint segment names (`Users`, case-insensitively).
    pub fn from_endpoint(segment: &str) -> Option<Kind> {
        [Kind::User, Kind::Group]
            .into_iter()
            .find(|k| k.endpoint().eq_ignore_ascii_case(segment))
    }
}

/// What a write does to a resource, for its audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Replace,
    Patch,
    Delete,
}

/// Resource metadata kept in columns, not in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
    pub origin: Origin,
}

/// Which connectors a resource came from (issue 17); `None` everywhere for
/// a credential with no connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// The connector that created it; never changes.
    pub created_by: Option<uuid::Uuid>,
    /// The connector that may change it under the `owned` policy; an
    /// administrator can transfer it.
    pub owner: Option<uuid::Uuid>,
    /// The connector whose `externalId` the resource holds (RFC 7643 §3.1:
    /// the identifier is "issued by the provisioning client").
    pub external_id_by: Option<uuid::Uuid>,
}

impl Origin {
    /// A resource `connector` creates.
    pub fn created_by(connector: Option<uuid::Uuid>) -> Origin {
        Origin {
            created_by: connector,
            owner: connector,
            external_id_by: connector,
        }
    }
}

impl Meta {
    /// A resource created at `now`: version 1.
    pub fn created_at(now: DateTime<Utc>) -> Meta {
        Meta {
            created: now,
            last_modified: now,
            version: 1,
            origin: Origin::default(),
        }
    }

    /// This resource changed at `now`: the next version.
    pub fn changed_at(&self, now: DateTime<Utc>) -> Meta {
        Meta {
            created: self.created,
            last_modified: now,
            version: self.version + 1,
            origin: self.origin,
        }
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9).
#[derive(Debug, Default, Clone)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// What the server knows about a resource beyond its document.
#[derive(Debug, Clone)]
pub struct ResourceInfo<'a> {
    pub id: &'a str,
    pub resource_type: &'a str,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
    /// Absolute URL of this resource.
    pub location: String,
}

/// A reference to another resource (a member, or a group of a user).
#[derive(Debug, Clone)]
pub struct Reference {
    pub value: String,
    pub reference: String,
    pub display: Option<String>,
    pub kind: &'static str,
}

impl Reference {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("value".into(), json!(self.value));
        m.insert("$ref".into(), json!(self.reference));
        if let Some(d) = &self.display {
            m.insert("display".into(), json!(d));
        }
        m.insert("type".into(), json!(self.kind));
        Value::Object(m)
    }
}

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The full representation; `refs` goes under `refs_attr` (`groups` or
/// `members`) when given. Projection is applied afterwards by the caller.
pub fn render(
    doc: &Value,
    info: &ResourceInfo<'_>,
    refs_attr: &str,
    refs: Option<&[Reference]>,
) -> Value {
    Value::Object(render_owned(doc.clone(), info, refs_attr, refs))
}

/// [`render`], moving the stored document's members rather than copying
/// them.
pub fn render_owned(
    doc: Value,
    info: &ResourceInfo<'_>,
    refs_attr: &str,
    refs: Option<&[Reference]>,
) -> Map<String, Value> {
    let mut out = match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    out.insert("id".into(), json!(info.id));
    if let Some(refs) = refs {
        if !refs.is_empty() {
            out.insert(
                refs_attr.into(),
                Value::Array(refs.iter().map(Reference::to_json).collect()),
            );
        }
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": info.resource_type,
            "created": timestamp(info.created),
            "lastModified": timestamp(info.last_modified),
            "location": info.location,
            "version": etag(info.version),
        }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_id_meta_and_references() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let info = ResourceInfo {
            id: "abc",
            resource_type: "Group",
            created: t,
            last_modified: t,
            version: 4,
            location: "https://x/scim/v2/Groups/abc".into(),
        };
        let refs = [Reference {
            value: "u1".into(),
            reference: "https://x/scim/v2/Users/u1".into(),
            display: Some("Babs".into()),
            kind: "User",
        }];
        let out = render(&json!({"displayName": "G"}), &info, "members", Some(&refs));
        assert_eq!(out["id"], "abc");
        assert_eq!(out["meta"]["version"], "W/\"4\"");
        assert_eq!(out["meta"]["created"], "2026-01-02T03:04:05.000Z");
        assert_eq!(out["members"][0]["$ref"], "https://x/scim/v2/Users/u1");
        let none = render(&json!({"displayName": "G"}), &info, "members", Some(&[]));
        assert!(none.get("members").is_none());
    }
}
