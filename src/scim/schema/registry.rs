//! The set of schemas and resource types this server offers (RFC 7643 §6 and
//! §7), and resolution of attribute paths (RFC 7644 §3.10) against them.
//!
//! Built once at start-up and shared by reference: lookups borrow from it.

use serde_json::Value;

use super::common::{common_attributes, SCHEMAS_ATTR};
use super::enterprise::{enterprise_user_schema, ENTERPRISE_USER_SCHEMA};
use super::group::{group_schema, GROUP_SCHEMA};
use super::provenance::{provenance_schema, PROVENANCE_SCHEMA};
use super::types::{find_attr, AttributeDef, ResourceTypeDef, SchemaDef, SchemaExtension};
use super::user::{user_schema, USER_SCHEMA};
use crate::scim::path::AttrPath;

#[derive(Debug, Clone)]
pub struct Registry {
    schemas: Vec<SchemaDef>,
    resource_types: Vec<ResourceTypeDef>,
    common: Vec<AttributeDef>,
    /// Most values a multi-valued attribute may hold (Group `members`
    /// excepted); see `scim::limits`.
    max_values: usize,
    /// The schemas an organization declared (`with_declared`), whose
    /// values the store keeps one per row for lookups and uniqueness.
    declared: Vec<&'static str>,
    /// The organization's `undeclared_attributes` setting: leave attributes
    /// nobody declared out of a write (and say so) instead of refusing it.
    ignore_undeclared: bool,
    /// The organization's policies and connectors, read and cached with
    /// its schemas (and so confirmed current the same way).
    policy: std::sync::Arc<crate::scim::policy::OrgPolicy>,
}

/// An attribute path resolved against a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttr<'r> {
    /// URN of the schema the attribute belongs to; common attributes (`id`,
    /// `externalId`, `meta`) report the resource type's core schema.
    pub schema: &'r str,
    /// True when the attribute lives in an extension, i.e. under
    /// `doc[schema]` rather than at the top level of the resource.
    pub is_extension: bool,
    pub attr: &'r AttributeDef,
    /// The sub-attribute, when the path named one.
    pub sub: Option<&'r AttributeDef>,
}

impl<'r> ResolvedAttr<'r> {
    /// The innermost definition the path names: the sub-attribute if there is
    /// one. Filters compare against this one's type and `caseExact`.
    pub fn leaf(&self) -> &'r AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The attribute's value in a normalized document (as `validate` returns
    /// and the store keeps), ignoring `sub`.
    pub fn value_in<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        let container = if self.is_extension {
            doc.get(self.schema)?
        } else {
            doc
        };
        container.get(self.attr.name).filter(|v| !v.is_null())
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The standard registry: User (with the Enterprise User extension) and
    /// Group.
    pub fn new() -> Self {
        let resource_types = vec![
            ResourceTypeDef {
                name: "User",
                endpoint: "/Users",
                description: "User Account",
                schema: USER_SCHEMA,
                extensions: vec![SchemaExtension {
                    schema: ENTERPRISE_USER_SCHEMA,
                    required: false,
                }],
            },
            ResourceTypeDef {
                name: "Group",
                endpoint: "/Groups",
                description: "Group",
                schema: GROUP_SCHEMA,
                extensions: Vec::new(),
            },
        ];
        let schemas = vec![user_schema(), enterprise_user_schema(), group_schema()];
        Self::with_definitions(schemas, resource_types)
    }

    /// A registry over custom definitions. Every URN a resource type names is
    /// expected to be among `schemas`; lookups of missing ones simply fail.
    pub fn with_definitions(schemas: Vec<SchemaDef>, resource_types: Vec<ResourceTypeDef>) -> Self {
        Registry {
            schemas,
            resource_types,
            common: common_attributes(),
            max_values: crate::scim::limits::DEFAULT_MAX_VALUES,
            declared: Vec::new(),
            ignore_undeclared: false,
            policy: std::sync::Arc::default(),
        }
    }

    /// This registry serving an organization with `policy`.
    pub fn with_policy(mut self, policy: std::sync::Arc<crate::scim::policy::OrgPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// This registry with scimd's provenance extension on every resource
    /// type: for an organization with connectors, whose resources record
    /// which connector made and owns them. Without connectors there is
    /// nothing to show, and discovery stays as clients knew it.
    pub fn with_provenance(mut self) -> Self {
        if self.schema(PROVENANCE_SCHEMA).is_none() {
            self.schemas.push(provenance_schema());
        }
        for rt in &mut self.resource_types {
            if !rt.has_schema(PROVENANCE_SCHEMA) {
                rt.extensions.push(SchemaExtension {
                    schema: PROVENANCE_SCHEMA,
                    required: false,
                });
            }
        }
        self
    }

    /// The names of the attributes an organization marked `sensitive` (or
    /// that hold a sensitive sub-attribute), for the request log to hash.
    pub fn sensitive_attributes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .schemas
            .iter()
            .flat_map(|s| s.attributes.iter())
            .filter(|a| a.sensitive || a.sub_attributes.iter().any(|s| s.sensitive))
            .map(|a| a.name)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The organization's policies and connectors.
    pub fn policy(&self) -> &crate::scim::policy::OrgPolicy {
        &self.policy
    }

    pub(super) fn policy_arc(&self) -> std::sync::Arc<crate::scim::policy::OrgPolicy> {
        std::sync::Arc::clone(&self.policy)
    }

    /// This registry leaving undeclared attributes out of writes (`true`)
    /// or refusing them (`false`, the default).
    pub fn with_undeclared_ignored(mut self, ignore: bool) -> Self {
        self.ignore_undeclared = ignore;
        self
    }

    /// Whether writes leave undeclared attributes out instead of refusing
    /// them (see `validate_collecting`).
    pub fn ignores_undeclared(&self) -> bool {
        self.ignore_undeclared
    }

    /// Whether the schema `urn` was declared by the organization (not
    /// built in, nor defined in code).
    pub fn is_declared(&self, urn: &str) -> bool {
        self.declared.iter().any(|d| d.eq_ignore_ascii_case(urn))
    }

    /// The schemas marked declared.
    pub(super) fn declared_ids(&self) -> &[&'static str] {
        &self.declared
    }

    /// This registry with `ids` marked declared (see [`Self::is_declared`]).
    pub(super) fn with_declared_ids(mut self, ids: Vec<&'static str>) -> Self {
        self.declared = ids;
        self
    }

    /// This registry with another limit on values per multi-valued attribute.
    pub fn with_max_values(mut self, max: usize) -> Self {
        self.max_values = max;
        self
    }

    /// Most values a multi-valued attribute other than Group `members` may
    /// hold.
    pub fn max_values(&self) -> usize {
        self.max_values
    }

    pub fn schemas(&self) -> &[SchemaDef] {
        &self.schemas
    }

    pub fn resource_types(&self) -> &[ResourceTypeDef] {
        &self.resource_types
    }

    /// `id`, `externalId` and `meta` (RFC 7643 §3.1).
    pub fn common_attributes(&self) -> &[AttributeDef] {
        &self.common
    }

    /// A resource type by name (`User`), case-insensitively.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceTypeDef> {
        self.resource_types
            .iter()
            .find(|rt| rt.name.eq_ignore_ascii_case(name))
    }

    /// A resource type by endpoint (`/Users`), case-insensitively.
    pub fn resource_type_by_endpoint(&self, endpoint: &str) -> Option<&ResourceTypeDef> {
        self.resource_types
            .iter()
            .find(|rt| rt.endpoint.eq_ignore_ascii_case(endpoint))
    }

    /// A schema by URN; URNs compare case-insensitively (RFC 7643 §2.1).
    pub fn schema(&self, urn: &str) -> Option<&SchemaDef> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves `path` against `rt`. Unqualified names are looked up among
    /// the common attributes and the core schema, then the extensions in
    /// order; a URN prefix restricts the lookup to that schema, and a URN that
    /// is not one of `rt`'s schemas resolves to nothing. A `sub` that the
    /// attribute does not have also resolves to nothing.
    pub fn resolve<'r>(
        &'r self,
        rt: &'r ResourceTypeDef,
        path: &AttrPath,
    ) -> Option<ResolvedAttr<'r>> {
        let (schema, is_extension, attr) = self.resolve_top(rt, path)?;
        let sub = match &path.sub {
            Some(name) => Some(attr.sub_attribute(name)?),
            None => None,
        };
        Some(ResolvedAttr {
            schema,
            is_extension,
            attr,
            sub,
        })
    }

    /// Whether a filter on `rt` may name `path`: it resolves, or it is
    /// `schemas`, which is kept structurally rather than in the tables but
    /// can still be filtered on (`schemas eq "urn:...:enterprise:2.0:User"`).
    pub fn defines(&self, rt: &ResourceTypeDef, path: &AttrPath) -> bool {
        let is_schemas = path.attr_is(SCHEMAS_ATTR) && path.urn.is_none() && path.sub.is_none();
        is_schemas || self.resolve(rt, path).is_some()
    }

    fn resolve_top<'r>(
        &'r self,
        rt: &'r ResourceTypeDef,
        path: &AttrPath,
    ) -> Option<(&'r str, bool, &'r AttributeDef)> {
        let core_wanted = path.urn_is(rt.schema);
        if core_wanted {
            let in_core = find_attr(&self.common, &path.attr)
                .or_else(|| self.schema(rt.schema)?.attribute(&path.attr));
            if let Some(attr) = in_core {
                return Some((rt.schema, false, attr));
            }
        }
        rt.extensions
            .iter()
            .filter(|ext| path.urn_is(ext.schema))
            .find_map(|ext| {
                let attr = self.schema(ext.schema)?.attribute(&path.attr)?;
                Some((ext.schema, true, attr))
            })
    }

    /// When `path` is a bare schema URN (`urn:...:enterprise:2.0:User`, which
    /// [`AttrPath::parse`] splits into URN `...:2.0` and attribute `User`),
    /// the URN of that schema of `rt`. `attributes=<extension URN>` means the
    /// whole extension (RFC 7644 §3.9).
    pub fn whole_schema<'r>(&self, rt: &'r ResourceTypeDef, path: &AttrPath) -> Option<&'r str> {
        let urn = path.urn.as_deref()?;
        if path.sub.is_some() {
            return None;
        }
        let full = format!("{urn}:{}", path.attr);
        std::iter::once(rt.schema)
            .chain(rt.extensions.iter().map(|e| e.schema))
            .find(|s| s.eq_ignore_ascii_case(&full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).expect("valid path")
    }

    #[test]
    fn finds_resource_types_and_schemas_case_insensitively() {
        let reg = Registry::new();
        assert_eq!(
            reg.resource_type("user").map(|r| r.endpoint),
            Some("/Users")
        );
        assert_eq!(
            reg.resource_type_by_endpoint("/groups").map(|r| r.name),
            Some("Group")
        );
        assert!(reg.resource_type("Device").is_none());
        let ent = reg.schema("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER");
        assert_eq!(ent.map(|s| s.id), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(reg.schemas().len(), 3);
        let with = Registry::new().with_provenance();
        assert_eq!(with.schemas().len(), 4);
        assert!(with
            .resource_types()
            .iter()
            .all(|rt| rt.has_schema(PROVENANCE_SCHEMA)));
    }

    #[test]
    fn resolves_core_common_and_extension_attributes() {
        let reg = Registry::new();
        let user = reg.resource_type("User").expect("User");

        let r = reg
            .resolve(user, &path("NAME.givenname"))
            .expect("name.givenName");
        assert_eq!((r.schema, r.is_extension), (USER_SCHEMA, false));
        assert_eq!((r.attr.name, r.leaf().name), ("name", "givenName"));

        let r = reg.resolve(user, &path("meta.lastModified")).expect("meta");
        assert_eq!(r.sub.map(|s| s.name), Some("lastModified"));
        assert!(reg.resolve(user, &path("id")).is_some());
        assert!(reg.resolve(user, &path("externalId")).is_some());

        let r = reg
            .resolve(user, &path("department"))
            .expect("unqualified extension");
        assert_eq!((r.schema, r.is_extension), (ENTERPRISE_USER_SCHEMA, true));
        let r = reg
            .resolve(
                user,
                &path(&format!("{ENTERPRISE_USER_SCHEMA}:manager.value")),
            )
            .expect("qualified");
        assert_eq!(r.leaf().name, "value");
        let r = reg
            .resolve(user, &path(&format!("{USER_SCHEMA}:userName")))
            .expect("core-qualified");
        assert_eq!(r.attr.name, "userName");
    }

    #[test]
    fn rejects_foreign_urns_unknown_names_and_unknown_subs() {
        let reg = Registry::new();
        let user = reg.resource_type("User").expect("User");
        let group = reg.resource_type("Group").expect("Group");
        assert!(reg
            .resolve(user, &path(&format!("{GROUP_SCHEMA}:displayName")))
            .is_none());
        assert!(reg
            .resolve(
                group,
                &path(&format!("{ENTERPRISE_USER_SCHEMA}:department"))
            )
            .is_none());
        assert!(reg.resolve(group, &path("userName")).is_none());
        assert!(reg.resolve(user, &path("name.nope")).is_none());
        assert!(reg.resolve(user, &path("userName.value")).is_none());
        // The core URN does not reach into extensions.
        assert!(reg
            .resolve(user, &path(&format!("{USER_SCHEMA}:department")))
            .is_none());
    }

    #[test]
    fn defines_what_filters_may_name() {
        let reg = Registry::new();
        let user = reg.resource_type("User").expect("User");
        let group = reg.resource_type("Group").expect("Group");
        for rt in [user, group] {
            assert!(reg.defines(rt, &path("SCHEMAS")));
            assert!(reg.defines(rt, &path("meta.lastModified")));
            assert!(!reg.defines(rt, &path("schemas.value")));
        }
        assert!(reg.defines(user, &path("department")));
        assert!(!reg.defines(group, &path("department")));
        assert!(!reg.defines(group, &path("userName")));
        assert!(reg.defines(group, &path("members.value")));
        assert!(!reg.defines(user, &path("members")));
    }

    #[test]
    fn recognises_bare_schema_urns() {
        let reg = Registry::new();
        let user = reg.resource_type("User").expect("User");
        let lower = ENTERPRISE_USER_SCHEMA.to_ascii_lowercase();
        assert_eq!(
            reg.whole_schema(user, &path(&lower)),
            Some(ENTERPRISE_USER_SCHEMA)
        );
        assert_eq!(
            reg.whole_schema(user, &path(USER_SCHEMA)),
            Some(USER_SCHEMA)
        );
        assert_eq!(reg.whole_schema(user, &path("userName")), None);
        assert_eq!(reg.whole_schema(user, &path(GROUP_SCHEMA)), None);
    }

    #[test]
    fn value_in_reads_core_and_extension_values() {
        let reg = Registry::new();
        let user = reg.resource_type("User").expect("User");
        let doc = json!({"userName": "b", ENTERPRISE_USER_SCHEMA: {"department": "Ops"}});
        let r = reg.resolve(user, &path("department")).expect("department");
        assert_eq!(r.value_in(&doc), Some(&json!("Ops")));
        let r = reg.resolve(user, &path("userName")).expect("userName");
        assert_eq!(r.value_in(&doc), Some(&json!("b")));
        let r = reg.resolve(user, &path("title")).expect("title");
        assert_eq!(r.value_in(&doc), None);
    }
}
