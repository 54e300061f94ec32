//! SCIM PATCH (RFC 7644 §3.5.2) as a pure engine: a request body becomes a
//! list of [`PatchOp`]s ([`parse_request`]), and [`apply`] runs them against a
//! stored document. No HTTP, no SQL: the caller loads the resource, applies,
//! passes the result to `schema::validate` (`WriteMode::Replace`) and stores
//! it together with the [`MemberDelta`].
//!
//! Split by concern:
//! - `request`: the message structure (`schemas`, `Operations`, `op`,
//!   `path`, `value`);
//! - `target`: what a path designates, and which elements a filter selects;
//! - `write`: `add` and `replace` (§3.5.2.1, §3.5.2.3);
//! - `remove`: `remove` (§3.5.2.2);
//! - `members`: Group membership, kept apart from the document;
//! - `json`: case-insensitive member access and value normalization.
//!
//! This module owns the choices that span operations:
//! - `apply` is atomic: it works on a copy and returns either the complete
//!   result or the first error, whose detail starts with `Operations[i]`.
//! - Paths resolve through the registry: unknown attributes are
//!   `invalidPath`, attribute names match case-insensitively, and the
//!   document is written with canonical names. A bare extension URN is the
//!   extension object; the core schema URN is the resource itself.
//! - A readOnly attribute named by an explicit `path` is `mutability`; as a
//!   key of a no-path `value` (Okta sends `id` back) it is ignored, as PUT
//!   ignores readOnly input (§3.5.1), under `Rule::ReadOnlyInPatchValue`,
//!   and `mutability` too without it. `schemas` keys are ignored under every
//!   profile: bookkeeping, rebuilt at the end.
//! - Keys of a no-path `value` are attribute names, or extension URNs whose
//!   object holds that schema's attributes. Under
//!   `Rule::PathKeysInPatchValue` they may also be attribute paths (Entra ID
//!   sends `name.givenName` and `urn:...:User:department`) or the core
//!   schema URN; each key is applied as an operation on that path. Unknown
//!   keys, and paths without the rule, are `invalidPath`.
//! - The profile (`Profile`) is an argument of [`parse_request`] and
//!   [`apply`]; each rule is asked where it is applied, and the module that
//!   applies it says so.
//! - A null `value` for `add` / `replace` unassigns the target (RFC 7643
//!   §2.5), as a `remove` would but without `noTarget`; an `add` of null to
//!   a multi-valued attribute adds nothing.
//! - Immutability of written values is left to `validate`, which compares
//!   with the stored document.
//! - `schemas` is rebuilt at the end from the extensions that hold
//!   attributes, and empty extension objects are dropped.

mod json;
mod members;
mod remove;
mod request;
mod target;
mod write;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::{parse_patch_path, PatchPath};
use crate::scim::profile::{Profile, Rule};
use crate::scim::schema::{Mutability, Registry, ResourceTypeDef, SCHEMAS_ATTR};

pub use request::parse_request;

use json::take_ci;
use target::{Location, Target};
use write::Mode;

/// Most operations accepted in one PATCH request. Entra ID batches member
/// changes in tens; the cap bounds the work one request can ask for.
pub const MAX_OPERATIONS: usize = 1000;

/// The `schemas` value of a PATCH request body (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    /// Required for `add` and `replace`; null is kept (it unassigns).
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

impl OpKind {
    /// The RFC 7644 keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
        }
    }
}

/// Membership changes for Groups, kept apart from the document because
/// members are stored as rows. Ids are as the client sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// The complete new member list, when an operation replaced it (later
    /// operations are folded into it).
    pub replace: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// What a PATCH request does to a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub doc: Value,
    pub members: MemberDelta,
    /// Paths of operations (or no-path value keys) that named attributes
    /// nobody declared and so did nothing, when the organization ignores
    /// undeclared attributes.
    pub ignored: Vec<String>,
}

/// Applies ops in order to `doc` (the stored document of resource type `rt`:
/// canonical names, no `id` / `meta`, Group documents without `members`) and
/// returns the new document, ready for `schema::validate` with
/// `WriteMode::Replace { existing: doc }`, plus the membership changes.
/// Atomic: on error nothing is changed (the work is done on a copy). The
/// leniencies applied are those of `profile`.
///
/// # Errors
///
/// Status 400 with `invalidPath` (unknown or unusable path), `invalidFilter`,
/// `noTarget`, `mutability`, `invalidValue` or `invalidSyntax`, as described
/// in the module documentation, including the refusals of the rules
/// `profile` lacks; 500 when `doc` is not a JSON object.
pub fn apply(
    reg: &Registry,
    rt: &ResourceTypeDef,
    doc: &Value,
    ops: &[PatchOp],
    profile: Profile,
) -> ScimResult<Outcome> {
    let mut root = doc
        .as_object()
        .cloned()
        .ok_or_else(|| ScimError::new(500, None, "the stored resource is not a JSON object"))?;
    let mut engine = Engine {
        ctx: Ctx { reg, rt, profile },
        members: MemberDelta::default(),
        ignored: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        engine
            .operation(&mut root, op)
            .map_err(|e| at_operation(e, i))?;
    }
    rebuild_schemas(rt, &mut root);
    Ok(Outcome {
        doc: Value::Object(root),
        members: engine.members,
        ignored: engine.ignored,
    })
}

/// Says which operation failed.
fn at_operation(e: ScimError, index: usize) -> ScimError {
    ScimError {
        detail: format!("Operations[{index}]: {}", e.detail),
        ..e
    }
}

/// The schema context every step needs, and the profile whose rules apply.
struct Ctx<'r> {
    reg: &'r Registry,
    rt: &'r ResourceTypeDef,
    profile: Profile,
}

struct Engine<'r> {
    ctx: Ctx<'r>,
    members: MemberDelta,
    ignored: Vec<String>,
}

impl Engine<'_> {
    fn operation(&mut self, root: &mut Map<String, Value>, op: &PatchOp) -> ScimResult<()> {
        let mode = match op.op {
            OpKind::Add => Mode::Add,
            OpKind::Replace => Mode::Replace,
            OpKind::Remove => {
                let Some(path) = &op.path else {
                    return Err(ScimError::no_target("a 'remove' operation needs a 'path'"));
                };
                return self.remove_path(root, path, op.value.as_ref());
            }
        };
        let value = op.value.as_ref().ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "a '{}' operation requires a 'value'",
                op.op.as_str()
            ))
        })?;
        match &op.path {
            None => self.write_resource(root, value, mode),
            Some(path) => self.write_path(root, path, value, mode, true),
        }
    }

    fn remove_path(
        &mut self,
        root: &mut Map<String, Value>,
        path: &PatchPath,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        match target::resolve(self.ctx.reg, self.ctx.rt, path)? {
            Location::Resource => Err(ScimError::no_target(format!(
                "'{path}' is the whole resource, which 'remove' cannot target"
            ))),
            Location::Extension(urn) => self.remove_extension(root, urn),
            Location::Undeclared => {
                self.ignored.push(path.to_string());
                Ok(())
            }
            Location::Attr(target) => {
                check_writable(&target)?;
                if target.is_group_members() {
                    return members::remove(&mut self.members, &target, value, self.ctx.profile);
                }
                let ctx = &self.ctx;
                in_container(root, &target, |c| {
                    remove::remove(ctx, c, &target, value, true)
                })
            }
        }
    }

    /// `add` / `replace` at `path`. `explicit` is false for the keys of a
    /// no-path value, where readOnly attributes are skipped, not refused.
    fn write_path(
        &mut self,
        root: &mut Map<String, Value>,
        path: &PatchPath,
        value: &Value,
        mode: Mode,
        explicit: bool,
    ) -> ScimResult<()> {
        let target = match target::resolve(self.ctx.reg, self.ctx.rt, path)? {
            Location::Resource => return self.write_resource(root, value, mode),
            Location::Extension(urn) => return self.write_extension(root, urn, value, mode),
            Location::Undeclared => {
                self.ignored.push(path.to_string());
                return Ok(());
            }
            Location::Attr(target) => target,
        };
        if let Err(e) = check_writable(&target) {
            if explicit {
                return Err(e);
            }
            return self.ctx.profile.permit(Rule::ReadOnlyInPatchValue, || e);
        }
        if target.is_group_members() {
            return members::write(&mut self.members, &target, value, mode, self.ctx.profile);
        }
        let ctx = &self.ctx;
        in_container(root, &target, |c| {
            let whole_multi = target.attr.multi_valued && target.sub.is_none();
            match value {
                Value::Null if mode == Mode::Add && whole_multi && target.filter.is_none() => {
                    Ok(())
                }
                Value::Null => remove::remove(ctx, c, &target, None, false),
                _ => write::write(ctx, c, &target, value, mode),
            }
        })
    }

    /// No path (§3.5.2.1, §3.5.2.3): each member of the value object is
    /// applied at the path its key names.
    fn write_resource(
        &mut self,
        root: &mut Map<String, Value>,
        value: &Value,
        mode: Mode,
    ) -> ScimResult<()> {
        let members = value.as_object().ok_or_else(|| {
            ScimError::invalid_value(
                "without a 'path', the 'value' must be a JSON object of attributes",
            )
        })?;
        let rt = self.ctx.rt;
        for (key, v) in members {
            if key.eq_ignore_ascii_case(SCHEMAS_ATTR) {
                continue;
            }
            if key.eq_ignore_ascii_case(rt.schema) {
                self.permit_path_key(key)?;
                self.write_schema_object(root, rt.schema, v, mode)?;
                continue;
            }
            if let Some(ext) = rt.extension(key) {
                self.write_extension(root, ext.schema, v, mode)?;
                continue;
            }
            let path = parse_patch_path(key)?;
            if !is_attribute_name(&path) {
                self.permit_path_key(key)?;
            }
            self.write_path(root, &path, v, mode, false)?;
        }
        Ok(())
    }

    /// A key of a no-path value that is more than an attribute name (RFC
    /// 7644 §3.5.2.1: the value "contains a set of attributes").
    fn permit_path_key(&self, key: &str) -> ScimResult<()> {
        self.ctx.profile.permit(Rule::PathKeysInPatchValue, || {
            ScimError::invalid_path(format!(
                "'{key}' in a 'value' without 'path' is an attribute path, not an attribute name"
            ))
        })
    }

    /// The whole extension object: null unassigns it, an object is applied
    /// member by member (so `replace` keeps the members it does not name,
    /// as for any complex value).
    fn write_extension(
        &mut self,
        root: &mut Map<String, Value>,
        urn: &str,
        value: &Value,
        mode: Mode,
    ) -> ScimResult<()> {
        if value.is_null() {
            return self.remove_extension(root, urn);
        }
        self.write_schema_object(root, urn, value, mode)
    }

    /// An object of `urn`'s attributes, keyed by name (or sub-path).
    fn write_schema_object(
        &mut self,
        root: &mut Map<String, Value>,
        urn: &str,
        value: &Value,
        mode: Mode,
    ) -> ScimResult<()> {
        let members = match value {
            Value::Null => return Ok(()),
            Value::Object(members) => members,
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "'{urn}' must be a JSON object of that schema's attributes"
                )))
            }
        };
        for (key, v) in members {
            // A client may send the extension object as it appears in a
            // resource; `schemas` there is bookkeeping, rebuilt at the end.
            if key.eq_ignore_ascii_case(SCHEMAS_ATTR) {
                continue;
            }
            let path = parse_patch_path(&format!("{urn}:{key}"))?;
            let plain = match &path {
                PatchPath::Attr(p) => p.sub.is_none(),
                PatchPath::Filtered { .. } => false,
            };
            if !plain {
                self.permit_path_key(key)?;
            }
            self.write_path(root, &path, v, mode, false)?;
        }
        Ok(())
    }

    fn remove_extension(&mut self, root: &mut Map<String, Value>, urn: &str) -> ScimResult<()> {
        if self.ctx.rt.extension(urn).is_some_and(|e| e.required) {
            return Err(ScimError::mutability(format!(
                "schema extension {urn} is required and cannot be removed"
            )));
        }
        take_ci(root, urn);
        Ok(())
    }
}

/// Whether a no-path value's key, parsed, is a plain attribute name.
fn is_attribute_name(path: &PatchPath) -> bool {
    match path {
        PatchPath::Attr(p) => p.urn.is_none() && p.sub.is_none(),
        PatchPath::Filtered { .. } => false,
    }
}

/// readOnly attributes and sub-attributes cannot be written (§3.5.2).
fn check_writable(target: &Target<'_, '_>) -> ScimResult<()> {
    let read_only = [Some(target.attr), target.sub]
        .into_iter()
        .flatten()
        .any(|def| def.mutability == Mutability::ReadOnly);
    if read_only {
        return Err(ScimError::mutability(format!(
            "'{}' is readOnly and cannot be modified",
            target.shown
        )));
    }
    Ok(())
}

/// Runs `f` on the object that holds the target's attribute: the root, or
/// the extension object (created if absent, dropped again if left empty).
fn in_container<R>(
    root: &mut Map<String, Value>,
    target: &Target<'_, '_>,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    if !target.in_extension {
        return f(root);
    }
    let mut ext = match take_ci(root, target.schema) {
        Some(Value::Object(members)) => members,
        _ => Map::new(),
    };
    let result = f(&mut ext);
    if !ext.is_empty() {
        root.insert(target.schema.to_string(), Value::Object(ext));
    }
    result
}

/// RFC 7643 §3: `schemas` lists the core schema and every extension the
/// resource carries. Rebuilt from the content, with canonical URNs, so that
/// an extension gained or emptied by the operations is reflected.
fn rebuild_schemas(rt: &ResourceTypeDef, root: &mut Map<String, Value>) {
    take_ci(root, SCHEMAS_ATTR);
    let mut schemas = vec![Value::String(rt.schema.to_string())];
    for ext in &rt.extensions {
        match take_ci(root, ext.schema) {
            None | Some(Value::Null) => {}
            Some(Value::Object(members)) if members.is_empty() => {}
            // Anything else (even a malformed value) stays, for `validate`
            // to judge.
            Some(value) => {
                root.insert(ext.schema.to_string(), value);
                schemas.push(Value::String(ext.schema.to_string()));
            }
        }
    }
    root.insert(SCHEMAS_ATTR.to_string(), Value::Array(schemas));
}
