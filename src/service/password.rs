//! A user's password: hashed with argon2id before the write's transaction
//! and stored only as that hash, never in the document.

use serde_json::Value;

use super::{blocking, Result};
use crate::auth::hash;
use crate::scim::error::ScimError;
use crate::scim::patch::PatchOp;

/// A password a write carries, with its argon2id hash.
#[derive(Clone)]
pub struct Prehashed {
    plain: String,
    hash: String,
}

/// The password a PUT or POST body carries.
pub fn in_body(body: &Value) -> Option<String> {
    let m = body.as_object()?;
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("password"))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// The last password a PATCH writes, by path (`"path": "password"`) or in
/// a path-less operation's value.
pub fn in_patch(ops: &[PatchOp]) -> Option<String> {
    ops.iter().rev().find_map(|op| match &op.path {
        Some(p) if p.attr().attr_is("password") && p.attr().sub.is_none() => {
            op.value.as_ref()?.as_str().map(str::to_string)
        }
        Some(_) => None,
        None => in_body(op.value.as_ref()?),
    })
}

/// Hashes `plain` on the blocking pool, before the transaction: argon2
/// (~40 ms, 19 MiB) then holds neither the user's row lock nor an async
/// worker.
pub async fn prehash(plain: Option<String>) -> Result<Option<Prehashed>> {
    let Some(plain) = plain else {
        return Ok(None);
    };
    blocking(move || {
        let hash = hash::hash(&plain).map_err(|e| ScimError::new(500, None, e.to_string()))?;
        Ok(Some(Prehashed { plain, hash }))
    })
    .await
}

/// Removes the password from a validated document and returns its hash.
/// `pre` is the password this write was seen to carry, hashed before the
/// transaction ([`prehash`]); a different one (a PATCH can compute one that
/// no operation spelled out) is hashed here.
pub fn take(
    doc: &mut Value,
    pre: Option<&Prehashed>,
) -> std::result::Result<Option<String>, ScimError> {
    let Some(pw) = doc.as_object_mut().and_then(|m| m.remove("password")) else {
        return Ok(None);
    };
    let pw = pw.as_str().unwrap_or_default();
    if let Some(p) = pre.filter(|p| p.plain == pw) {
        return Ok(Some(p.hash.clone()));
    }
    hash::hash(pw)
        .map(Some)
        .map_err(|e| ScimError::new(500, None, e.to_string()))
}
