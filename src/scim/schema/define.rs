//! Extension schemas declared at runtime (issue 16): an operator's schema
//! document, in the representation `/Schemas` serves (RFC 7643 §7), checked
//! and turned into the same [`SchemaDef`] the built-in tables are, so that
//! validation, projection, filters, sorting and PATCH treat a declared
//! attribute exactly as a built-in one.
//!
//! The definitions borrow `'static` strings like the built-in tables do;
//! declared names are interned (see [`intern`]) so that re-reading the same
//! definitions — every instance does after every change — costs no memory.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

use super::common::common_attributes;
use super::discovery::SCHEMA_SCHEMA;
use super::registry::Registry;
use super::types::{
    AttrType, AttributeDef, Mutability, Returned, SchemaDef, SchemaExtension, Uniqueness,
};

/// Most top-level attributes one declared schema may have.
pub const MAX_ATTRIBUTES: usize = 200;
/// Most sub-attributes of one complex attribute.
pub const MAX_SUB_ATTRIBUTES: usize = 50;
/// Longest URN, name, description or canonical value, in bytes.
const MAX_URN: usize = 300;
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2_000;
const MAX_CANONICAL: usize = 100;

/// One problem with a definition: where (`schema.attributes[costCenter].type`)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub path: String,
    pub message: String,
}

impl DefinitionError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An extension schema as an organization declared it: the resource type it
/// extends (`User`, `Group`), whether every resource must carry it, and the
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub extends: &'static str,
    pub required: bool,
    pub schema: SchemaDef,
}

/// Interns `s` for the lifetime of the process. Definitions are read again
/// after every change, on every instance; interning makes that free after
/// the first time, so memory grows only with the distinct text operators
/// ever declared (bounded by the limits above), never with requests.
pub fn intern(s: &str) -> &'static str {
    static SET: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let set = SET.get_or_init(|| Mutex::new(HashSet::new()));
    let mut guard = match set.lock() {
        Ok(g) => g,
        // The set is only ever inserted into; a panic elsewhere leaves it
        // consistent.
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(found) = guard.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    guard.insert(leaked);
    leaked
}

fn intern_list(items: &[String]) -> &'static [&'static str] {
    static SET: OnceLock<Mutex<HashSet<&'static [&'static str]>>> = OnceLock::new();
    if items.is_empty() {
        return &[];
    }
    let interned: Vec<&'static str> = items.iter().map(|s| intern(s)).collect();
    let set = SET.get_or_init(|| Mutex::new(HashSet::new()));
    let mut guard = match set.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(found) = guard.get(interned.as_slice()) {
        return found;
    }
    let leaked: &'static [&'static str] = Box::leak(interned.into_boxed_slice());
    guard.insert(leaked);
    leaked
}

/// RFC 7643 §2.1 ATTRNAME: `ALPHA *(nameChar)`, nameChar `-` `_` DIGIT ALPHA.
/// (`$ref` is the one name outside it, and only the RFC's own schemas use it.)
fn valid_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An RFC 8141 URN, as SCIM uses them: `urn:NID:NSS`, printable ASCII, no
/// spaces, and nothing a path or query would split on (`/`, `?`, `#`, `[`,
/// `]`, `"`), so `attributes=` and filters can name it.
pub fn valid_urn(urn: &str) -> bool {
    let lower = urn.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("urn:") else {
        return false;
    };
    let Some((nid, nss)) = rest.split_once(':') else {
        return false;
    };
    let nid_ok = (2..=32).contains(&nid.len())
        && nid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !nid.starts_with('-');
    let nss_ok = !nss.is_empty()
        && !nss.ends_with(':')
        && nss.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, '/' | '?' | '#' | '[' | ']' | '"' | '\\')
        });
    urn.len() <= MAX_URN && nid_ok && nss_ok
}

/// The URNs no declaration may take: the RFC's own.
fn reserved_urn(urn: &str) -> bool {
    let lower = urn.to_ascii_lowercase();
    // Drafts define other `core:2.0` schemas (the SCIM agent extension's
    // `…:core:2.0:Agent`), which an operator may load; the RFC's own stay
    // reserved.
    const RFC: [&str; 6] = [
        super::USER_SCHEMA,
        super::GROUP_SCHEMA,
        super::ENTERPRISE_USER_SCHEMA,
        "urn:ietf:params:scim:schemas:core:2.0:Schema",
        "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
    ];
    lower.starts_with("urn:ietf:params:scim:api:")
        || RFC.iter().any(|r| r.eq_ignore_ascii_case(&lower))
}

/// Reads a schema document (RFC 7643 §7 representation; `schemas` and
/// `meta` as `/Schemas` serves them are accepted and ignored) into a
/// [`SchemaDef`], or every problem found.
pub fn parse_schema(doc: &Value, at: &str) -> Result<SchemaDef, Vec<DefinitionError>> {
    let mut errors = Vec::new();
    let Some(obj) = doc.as_object() else {
        return Err(vec![DefinitionError::new(at, "must be a JSON object")]);
    };
    for key in obj.keys() {
        let known = ["schemas", "id", "name", "description", "attributes", "meta"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                "not a characteristic of a schema (RFC 7643 §7)",
            ));
        }
    }
    if let Some(schemas) = get_ci(obj, "schemas") {
        let ok = schemas.as_array().is_some_and(|a| {
            a.iter().all(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(SCHEMA_SCHEMA))
            })
        });
        if !ok {
            errors.push(DefinitionError::new(
                format!("{at}.schemas"),
                format!("when present, must be [\"{SCHEMA_SCHEMA}\"]"),
            ));
        }
    }
    let id = match get_ci(obj, "id").and_then(Value::as_str) {
        Some(id) if !valid_urn(id) => {
            errors.push(DefinitionError::new(
                format!("{at}.id"),
                format!("{id:?} is not a URN (urn:<namespace>:<name>, at most {MAX_URN} characters, no spaces, '/', '?', '#', '[', ']' or quotes)"),
            ));
            None
        }
        Some(id) if reserved_urn(id) => {
            errors.push(DefinitionError::new(
                format!("{at}.id"),
                format!("{id} is reserved for the schemas RFC 7643 defines"),
            ));
            None
        }
        Some(id) => Some(id),
        None => {
            errors.push(DefinitionError::new(
                format!("{at}.id"),
                "required: the schema's URN",
            ));
            None
        }
    };
    let name = text_field(obj, "name", at, MAX_NAME, &mut errors);
    let description = text_field(obj, "description", at, MAX_DESCRIPTION, &mut errors);
    let mut attributes = Vec::new();
    match get_ci(obj, "attributes") {
        Some(Value::Array(items)) if items.is_empty() => errors.push(DefinitionError::new(
            format!("{at}.attributes"),
            "must declare at least one attribute",
        )),
        Some(Value::Array(items)) if items.len() > MAX_ATTRIBUTES => {
            errors.push(DefinitionError::new(
                format!("{at}.attributes"),
                format!("at most {MAX_ATTRIBUTES} attributes per schema"),
            ))
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let label = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string);
                if let Some(a) = parse_attribute(
                    item,
                    &format!("{at}.attributes[{label}]"),
                    false,
                    &mut errors,
                ) {
                    attributes.push(a);
                }
            }
            duplicates(&attributes, &format!("{at}.attributes"), &mut errors);
        }
        _ => errors.push(DefinitionError::new(
            format!("{at}.attributes"),
            "required: an array of attribute definitions",
        )),
    }
    match (id, errors.is_empty()) {
        (Some(id), true) => Ok(SchemaDef {
            id: intern(id),
            name: intern(name.unwrap_or("")),
            description: intern(description.unwrap_or("")),
            attributes,
        }),
        _ => Err(errors),
    }
}

fn get_ci<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

pub(super) fn text_field<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    at: &str,
    max: usize,
    errors: &mut Vec<DefinitionError>,
) -> Option<&'v str> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= max => Some(s),
        Some(Value::String(_)) => {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                format!("at most {max} bytes"),
            ));
            None
        }
        Some(_) => {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                "must be a string",
            ));
            None
        }
    }
}

fn flag(obj: &Map<String, Value>, key: &str, at: &str, errors: &mut Vec<DefinitionError>) -> bool {
    match get_ci(obj, key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                "must be true or false",
            ));
            false
        }
    }
}

fn choice<T: Copy>(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    options: &[(&str, T)],
    default: T,
    errors: &mut Vec<DefinitionError>,
) -> T {
    let Some(v) = get_ci(obj, key).filter(|v| !v.is_null()) else {
        return default;
    };
    let found = v
        .as_str()
        .and_then(|s| options.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)));
    match found {
        Some((_, t)) => *t,
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                format!("must be one of {}", names.join(", ")),
            ));
            default
        }
    }
}

fn string_list(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<String> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items))
            if items.len() <= MAX_CANONICAL
                && items.iter().all(|v| {
                    v.as_str()
                        .is_some_and(|s| !s.is_empty() && s.len() <= MAX_NAME)
                }) =>
        {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        }
        Some(_) => {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                format!("must be an array of at most {MAX_CANONICAL} non-empty strings of at most {MAX_NAME} bytes"),
            ));
            Vec::new()
        }
    }
}

const TYPES: &[(&str, AttrType)] = &[
    ("string", AttrType::String),
    ("boolean", AttrType::Boolean),
    ("decimal", AttrType::Decimal),
    ("integer", AttrType::Integer),
    ("dateTime", AttrType::DateTime),
    ("reference", AttrType::Reference),
    ("binary", AttrType::Binary),
    ("complex", AttrType::Complex),
];

fn parse_attribute(
    doc: &Value,
    at: &str,
    is_sub: bool,
    errors: &mut Vec<DefinitionError>,
) -> Option<AttributeDef> {
    let Some(obj) = doc.as_object() else {
        errors.push(DefinitionError::new(at, "must be a JSON object"));
        return None;
    };
    let before = errors.len();
    let known = [
        "name",
        "type",
        "multiValued",
        "description",
        "required",
        "caseExact",
        "mutability",
        "returned",
        "uniqueness",
        "canonicalValues",
        "referenceTypes",
        "subAttributes",
        // scimd's own: personal data, kept hashed in the request log.
        "sensitive",
    ];
    for key in obj.keys() {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            errors.push(DefinitionError::new(
                format!("{at}.{key}"),
                "not a characteristic of an attribute (RFC 7643 §7)",
            ));
        }
    }
    let name = match get_ci(obj, "name") {
        Some(Value::String(n)) if n.len() <= MAX_NAME && valid_attr_name(n) => Some(n.as_str()),
        Some(Value::String(n)) => {
            errors.push(DefinitionError::new(
                format!("{at}.name"),
                format!("{n:?} is not an attribute name (RFC 7643 §2.1: a letter, then letters, digits, '-' or '_'; at most {MAX_NAME})"),
            ));
            None
        }
        _ => {
            errors.push(DefinitionError::new(
                format!("{at}.name"),
                "required: the attribute's name",
            ));
            None
        }
    };
    let attr_type = match get_ci(obj, "type") {
        None | Some(Value::Null) => {
            errors.push(DefinitionError::new(
                format!("{at}.type"),
                "required: one of string, boolean, decimal, integer, dateTime, reference, binary, complex",
            ));
            AttrType::String
        }
        Some(_) => choice(obj, "type", at, TYPES, AttrType::String, errors),
    };
    let multi_valued = flag(obj, "multiValued", at, errors);
    let required = flag(obj, "required", at, errors);
    let case_exact = flag(obj, "caseExact", at, errors);
    let sensitive = flag(obj, "sensitive", at, errors);
    let description = text_field(obj, "description", at, MAX_DESCRIPTION, errors).unwrap_or("");
    let mutability = choice(
        obj,
        "mutability",
        at,
        &[
            ("readOnly", Mutability::ReadOnly),
            ("readWrite", Mutability::ReadWrite),
            ("immutable", Mutability::Immutable),
            ("writeOnly", Mutability::WriteOnly),
        ],
        Mutability::ReadWrite,
        errors,
    );
    let returned = choice(
        obj,
        "returned",
        at,
        &[
            ("always", Returned::Always),
            ("never", Returned::Never),
            ("default", Returned::Default),
            ("request", Returned::Request),
        ],
        Returned::Default,
        errors,
    );
    let uniqueness = choice(
        obj,
        "uniqueness",
        at,
        &[
            ("none", Uniqueness::None),
            ("server", Uniqueness::Server),
            ("global", Uniqueness::Global),
        ],
        Uniqueness::None,
        errors,
    );
    match uniqueness {
        Uniqueness::None => {}
        // Enforced per organization by a unique index over the values
        // (`scim_attr_values`), which holds these types' values.
        Uniqueness::Server if indexable(attr_type) => {}
        Uniqueness::Server => errors.push(DefinitionError::new(
            format!("{at}.uniqueness"),
            "\"server\" uniqueness is enforced for string, reference, integer and boolean attributes",
        )),
        // Across organizations a 409 would tell one tenant what another
        // stores.
        Uniqueness::Global => errors.push(DefinitionError::new(
            format!("{at}.uniqueness"),
            "\"global\" is not offered: it would reveal other organizations' values; use \"server\" (unique within the organization)",
        )),
    }
    let canonical = string_list(obj, "canonicalValues", at, errors);
    let reference_types = string_list(obj, "referenceTypes", at, errors);
    if !reference_types.is_empty() && attr_type != AttrType::Reference {
        errors.push(DefinitionError::new(
            format!("{at}.referenceTypes"),
            "only a reference attribute has referenceTypes",
        ));
    }
    let mut sub_attributes = Vec::new();
    let subs = get_ci(obj, "subAttributes").filter(|v| !v.is_null());
    match (attr_type, subs) {
        (AttrType::Complex, _) if is_sub => errors.push(DefinitionError::new(
            format!("{at}.type"),
            "a sub-attribute cannot be complex (RFC 7643 §2.3.8)",
        )),
        (AttrType::Complex, Some(Value::Array(items)))
            if !items.is_empty() && items.len() <= MAX_SUB_ATTRIBUTES =>
        {
            for (i, item) in items.iter().enumerate() {
                let label = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string);
                if let Some(a) =
                    parse_attribute(item, &format!("{at}.subAttributes[{label}]"), true, errors)
                {
                    sub_attributes.push(a);
                }
            }
            duplicates(&sub_attributes, &format!("{at}.subAttributes"), errors);
        }
        (AttrType::Complex, _) => errors.push(DefinitionError::new(
            format!("{at}.subAttributes"),
            format!("a complex attribute needs 1 to {MAX_SUB_ATTRIBUTES} sub-attributes"),
        )),
        (_, Some(Value::Array(items))) if items.is_empty() => {}
        (_, Some(_)) => errors.push(DefinitionError::new(
            format!("{at}.subAttributes"),
            "only a complex attribute has sub-attributes",
        )),
        (_, None) => {}
    }
    if errors.len() > before {
        return None;
    }
    let mut def = AttributeDef::new(intern(name?), attr_type, intern(description));
    def.multi_valued = multi_valued;
    def.required = required;
    def.case_exact = case_exact;
    def.mutability = mutability;
    def.returned = returned;
    def.uniqueness = uniqueness;
    def.canonical_values = intern_list(&canonical);
    def.reference_types = intern_list(&reference_types);
    def.sub_attributes = sub_attributes;
    def.sensitive = sensitive;
    Some(def)
}

fn duplicates(attrs: &[AttributeDef], at: &str, errors: &mut Vec<DefinitionError>) {
    let mut seen = HashSet::new();
    for a in attrs {
        if !seen.insert(a.name.to_ascii_lowercase()) {
            errors.push(DefinitionError::new(
                format!("{at}[{}]", a.name),
                "declared twice (names compare case-insensitively)",
            ));
        }
    }
}

/// Whether values of `ty` are kept one per row for lookups and uniqueness
/// (`scim_attr_values`): the types whose equality is equality of their
/// JSON text once strings are folded. Decimals (`1.50` is `1.5`) and
/// dateTimes (offsets) compare by value and are filtered on the document.
pub fn indexable(ty: AttrType) -> bool {
    matches!(
        ty,
        AttrType::String | AttrType::Reference | AttrType::Integer | AttrType::Boolean
    )
}

/// A declared attribute, or a sub-attribute of a declared complex one,
/// whose values are kept one per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedPath {
    pub attr: &'static str,
    /// `""` for a top-level attribute.
    pub sub: &'static str,
    pub case_exact: bool,
    pub unique: bool,
}

impl IndexedPath {
    /// What the value rows are looked up by: `urn:attr[.sub]`, folded.
    pub fn key(urn: &str, attr: &str, sub: Option<&str>) -> String {
        let mut k = format!("{urn}:{attr}");
        if let Some(sub) = sub {
            k.push('.');
            k.push_str(sub);
        }
        k.to_ascii_lowercase()
    }
}

/// The paths of `schema` whose values are kept one per row.
pub fn indexed_paths(schema: &SchemaDef) -> Vec<IndexedPath> {
    let mut out = Vec::new();
    for a in &schema.attributes {
        if a.attr_type == AttrType::Complex {
            for s in a.sub_attributes.iter().filter(|s| indexable(s.attr_type)) {
                out.push(IndexedPath {
                    attr: a.name,
                    sub: s.name,
                    case_exact: s.case_exact,
                    unique: s.uniqueness == Uniqueness::Server,
                });
            }
        } else if indexable(a.attr_type) {
            out.push(IndexedPath {
                attr: a.name,
                sub: "",
                case_exact: a.case_exact,
                unique: a.uniqueness == Uniqueness::Server,
            });
        }
    }
    out
}

/// Checks `decl` against the registry it would join (`base`, holding the
/// organization's other declarations but not an older version of this
/// one): the resource type exists, the URN is new, and no attribute is
/// named like a common attribute or `schemas` (RFC 7643 §3.1), which a
/// resource carries once, at the top. A name the core schema or another
/// extension also uses is allowed, as RFC 7643 §3.3 namespaces extension
/// attributes by URN (IdP profiles reuse `division`, `costCenter`, `title`
/// freely): values sit under their URN, a qualified path names exactly one,
/// and an unqualified path means the core attribute, then the extensions in
/// the order `/ResourceTypes` lists them (`Registry::resolve`).
pub fn check_against(base: &Registry, decl: &Declared) -> Result<(), Vec<DefinitionError>> {
    let Some(_) = base.resource_type(decl.extends) else {
        let names: Vec<&str> = base.resource_types().iter().map(|r| r.name).collect();
        return Err(vec![DefinitionError::new(
            "extends",
            format!(
                "{:?} is not a resource type here (one of {})",
                decl.extends,
                names.join(", ")
            ),
        )]);
    };
    if base.schema(decl.schema.id).is_some() {
        return Err(vec![DefinitionError::new(
            "schema.id",
            format!("{} is already declared", decl.schema.id),
        )]);
    }
    let mut errors = Vec::new();
    let common = common_attributes();
    for a in &decl.schema.attributes {
        let clash_common = common.iter().any(|c| c.name.eq_ignore_ascii_case(a.name))
            || a.name.eq_ignore_ascii_case(super::SCHEMAS_ATTR);
        if clash_common {
            errors.push(DefinitionError::new(
                format!("schema.attributes[{}]", a.name),
                "clashes with a common attribute (RFC 7643 §3.1)",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl Registry {
    /// This registry with `decls` added: each schema listed, and each one an
    /// extension of the resource type it names (types it does not name are
    /// skipped: definitions are checked with [`check_against`] before they
    /// are stored).
    pub fn with_declared(&self, decls: &[Declared]) -> Registry {
        let mut schemas = self.schemas().to_vec();
        let mut resource_types = self.resource_types().to_vec();
        let mut declared = self.declared_ids().to_vec();
        for d in decls {
            let Some(rt) = resource_types
                .iter_mut()
                .find(|rt| rt.name.eq_ignore_ascii_case(d.extends))
            else {
                continue;
            };
            rt.extensions.push(SchemaExtension {
                schema: d.schema.id,
                required: d.required,
            });
            schemas.push(d.schema.clone());
            declared.push(d.schema.id);
        }
        Registry::with_definitions(schemas, resource_types)
            .with_max_values(self.max_values())
            .with_undeclared_ignored(self.ignores_undeclared())
            .with_declared_ids(declared)
            .with_policy(self.policy_arc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entra() -> Value {
        json!({
            "id": "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User",
            "name": "ContosoUser",
            "attributes": [
                {"name": "badgeNumber", "type": "string"},
                {"name": "hireDate", "type": "dateTime"},
                {"name": "clearance", "type": "integer", "returned": "request"},
                {"name": "roles", "type": "complex", "multiValued": true,
                 "subAttributes": [{"name": "value", "type": "string"}, {"name": "primary", "type": "boolean"}]}
            ]
        })
    }

    #[test]
    fn parses_a_schema_document_with_rfc_defaults() {
        let s = parse_schema(&entra(), "schema").expect("valid");
        assert_eq!(
            s.id,
            "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
        );
        let badge = s.attribute("BADGENUMBER").expect("badge");
        assert_eq!(badge.attr_type, AttrType::String);
        assert_eq!(badge.mutability, Mutability::ReadWrite);
        assert_eq!(badge.returned, Returned::Default);
        assert!(!badge.multi_valued && !badge.required && !badge.case_exact);
        assert_eq!(
            s.attribute("clearance").map(|a| a.returned),
            Some(Returned::Request)
        );
        let roles = s.attribute("roles").expect("roles");
        assert!(roles.multi_valued && roles.sub_attribute("primary").is_some());
    }

    #[test]
    fn every_problem_names_its_attribute() {
        let bad = json!({
            "id": "not a urn",
            "attributes": [
                {"name": "9lives", "type": "string"},
                {"name": "x", "type": "text"},
                {"name": "c", "type": "complex"},
                {"name": "d", "type": "complex", "subAttributes": [
                    {"name": "inner", "type": "complex", "subAttributes": [{"name": "v", "type": "string"}]}]},
                {"name": "s", "type": "string", "subAttributes": [{"name": "v", "type": "string"}]},
                {"name": "dup", "type": "string"},
                {"name": "DUP", "type": "string"},
                {"name": "u", "type": "string", "uniqueness": "global"},
                {"name": "w", "type": "decimal", "uniqueness": "server"},
                {"name": "m", "type": "string", "multivalued": "yes"},
                {"name": "r", "type": "string", "referenceTypes": ["User"]},
                {"name": "t", "type": "string", "typo": 1}
            ]
        });
        let errors = parse_schema(&bad, "schema").expect_err("invalid");
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        for want in [
            "schema.id",
            "schema.attributes[9lives].name",
            "schema.attributes[x].type",
            "schema.attributes[c].subAttributes",
            "schema.attributes[d].subAttributes[inner].type",
            "schema.attributes[s].subAttributes",
            "schema.attributes[DUP]",
            "schema.attributes[u].uniqueness",
            "schema.attributes[w].uniqueness",
            "schema.attributes[m].multiValued",
            "schema.attributes[r].referenceTypes",
            "schema.attributes[t].typo",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
    }

    #[test]
    fn reserved_and_malformed_urns_are_refused() {
        for urn in [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER",
            "urn:x",
            "urn:okta:a b",
            "urn:okta:a/b",
            "http://example.com",
        ] {
            let doc = json!({"id": urn, "attributes": [{"name": "a", "type": "string"}]});
            assert!(parse_schema(&doc, "schema").is_err(), "{urn}");
        }
        assert!(valid_urn("urn:okta:scimd:1.0:user:custom"));
    }

    #[test]
    fn only_common_attribute_names_clash() {
        let base = Registry::new();
        let mk = |name: &str| {
            Declared {
            extends: "User",
            required: false,
            schema: parse_schema(
                &json!({"id": "urn:okta:x:1.0:user", "attributes": [{"name": name, "type": "string"}]}),
                "schema",
            )
            .expect("valid"),
        }
        };
        for clash in ["externalId", "ID", "meta", "schemas"] {
            let e = check_against(&base, &mk(clash)).expect_err(clash);
            assert_eq!(e[0].path, format!("schema.attributes[{clash}]"));
        }
        // Names the core schema or the enterprise extension use are the
        // extension's own under its URN; unqualified, they keep meaning
        // the core (then the earlier extension's) attribute.
        for shared in ["badge", "userName", "department"] {
            assert!(check_against(&base, &mk(shared)).is_ok(), "{shared}");
        }
        let reg = base.with_declared(&[mk("department")]);
        let user = reg.resource_type("User").expect("user");
        let resolve = |p: &str| {
            let path = crate::scim::path::AttrPath::parse(p).expect("path");
            reg.resolve(user, &path).expect(p).schema
        };
        assert_eq!(
            resolve("department"),
            crate::scim::schema::ENTERPRISE_USER_SCHEMA
        );
        assert_eq!(
            resolve("urn:okta:x:1.0:user:department"),
            "urn:okta:x:1.0:user"
        );
        let mut other = mk("badge");
        other.extends = "Device";
        assert_eq!(
            check_against(&base, &other).expect_err("type")[0].path,
            "extends"
        );
        // Two declarations may share an attribute name; not a URN.
        let reg = base.with_declared(&[mk("badge")]);
        let mut second = mk("badge");
        second.schema.id = "urn:okta:y:1.0:user";
        assert!(check_against(&reg, &second).is_ok());
        assert!(check_against(&reg, &mk("other")).is_err(), "same URN twice");
    }

    #[test]
    fn declared_extensions_join_the_registry() {
        let decl = Declared {
            extends: "user",
            required: false,
            schema: parse_schema(&entra(), "schema").expect("valid"),
        };
        let reg = Registry::new().with_declared(&[decl]);
        let user = reg.resource_type("User").expect("user");
        assert!(user.has_schema("urn:ietf:params:scim:schemas:extension:contoso:2.0:user"));
        let path = crate::scim::path::AttrPath::parse("badgeNumber").expect("path");
        let r = reg.resolve(user, &path).expect("resolves unqualified");
        assert!(r.is_extension);
        assert_eq!(reg.schemas().len(), 4);
        assert!(!reg
            .resource_type("Group")
            .expect("g")
            .has_schema(decl_urn()));
    }

    fn decl_urn() -> &'static str {
        "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    }

    #[test]
    fn interning_reuses_the_same_text() {
        let a = intern("costCentreX");
        let b = intern(&String::from("costCentreX"));
        assert!(std::ptr::eq(a, b));
    }
}
