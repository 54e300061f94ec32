//! What a connector may change, and whose `externalId` a resource holds
//! (issue 17). Every write path (Users, Groups, declared types; single
//! requests and Bulk alike) runs these inside its transaction, on the row
//! it locked or read, so the check and the write see the same owner.
//!
//! `externalId` is the identifier "issued by the provisioning client"
//! (RFC 7643 §3.1): each resource holds one, labelled with the connector
//! that set it. A connector is shown only its own (reads, filters and
//! writes alike); a write by a connector that does not name `externalId`
//! keeps another connector's value instead of clearing a value it was
//! never shown; one that names it takes it over.

use std::borrow::Cow;

use serde_json::Value;
use uuid::Uuid;

use crate::scim::error::ScimError;
use crate::scim::resource::Origin;
use crate::scim::schema::Registry;

/// The key `externalId` has in a validated document.
const EXTERNAL_ID: &str = "externalId";

/// 403 unless `caller` may change the resource (`what`, e.g. `User 0190…`)
/// whose origin is `origin`, under the organization's policy.
pub fn check(
    reg: &Registry,
    caller: Option<Uuid>,
    what: &str,
    origin: &Origin,
) -> Result<(), ScimError> {
    reg.policy().may_change(caller, origin.owner, what)
}

/// Whether `caller` is shown the `externalId` of a resource with `origin`.
pub fn sees_external_id(caller: Option<Uuid>, origin: &Origin) -> bool {
    caller.is_none() || origin.external_id_by == caller
}

/// `doc` as `caller` sees it: without an `externalId` it may not see.
pub fn visible<'d>(caller: Option<Uuid>, origin: &Origin, doc: &'d Value) -> Cow<'d, Value> {
    if sees_external_id(caller, origin) || doc.get(EXTERNAL_ID).is_none() {
        return Cow::Borrowed(doc);
    }
    let mut d = doc.clone();
    if let Some(m) = d.as_object_mut() {
        m.remove(EXTERNAL_ID);
    }
    Cow::Owned(d)
}

/// Removes an `externalId` `caller` may not see from a document about to be
/// rendered.
pub fn hide(caller: Option<Uuid>, origin: &Origin, doc: &mut Value) {
    if !sees_external_id(caller, origin) {
        if let Some(m) = doc.as_object_mut() {
            m.remove(EXTERNAL_ID);
        }
    }
}

/// The origin of a resource `caller` creates as `doc`.
pub fn created(caller: Option<Uuid>, doc: &Value) -> Origin {
    Origin {
        external_id_by: doc.get(EXTERNAL_ID).and(caller),
        ..Origin::created_by(caller)
    }
}

/// After `caller` computed `next` from `current` (as [`visible`] showed
/// it): puts back an `externalId` it was not shown and did not replace,
/// and says whose `externalId` the resource now holds.
pub fn carry(caller: Option<Uuid>, origin: &Origin, current: &Value, next: &mut Value) -> Origin {
    let mut out = *origin;
    let stored = current.get(EXTERNAL_ID);
    let written = next.get(EXTERNAL_ID).cloned();
    out.external_id_by = match (written, stored) {
        // Not shown to the caller, and not named by it: kept as it was.
        (None, Some(v)) if !sees_external_id(caller, origin) => {
            if let Some(m) = next.as_object_mut() {
                m.insert(EXTERNAL_ID.into(), v.clone());
            }
            origin.external_id_by
        }
        (None, _) => None,
        // The same value from a caller that sees it: its label stays.
        (Some(w), Some(s)) if &w == s && sees_external_id(caller, origin) => origin.external_id_by,
        (Some(_), _) => caller,
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    fn by(c: Option<Uuid>) -> Origin {
        Origin::created_by(c)
    }

    #[test]
    fn a_connector_sees_only_its_own_external_id() {
        let doc = json!({"userName": "u", "externalId": "a-1"});
        assert_eq!(visible(Some(A), &by(Some(A)), &doc)["externalId"], "a-1");
        assert!(visible(Some(B), &by(Some(A)), &doc)
            .get("externalId")
            .is_none());
        // Credentials without a connector see every value.
        assert_eq!(visible(None, &by(Some(A)), &doc)["externalId"], "a-1");
        // A value no connector set is not a connector's to see.
        assert!(visible(Some(A), &by(None), &doc)
            .get("externalId")
            .is_none());
    }

    #[test]
    fn a_write_that_leaves_out_a_hidden_external_id_keeps_it() {
        let current = json!({"userName": "u", "externalId": "a-1"});
        let mut next = json!({"userName": "v"});
        let o = carry(Some(B), &by(Some(A)), &current, &mut next);
        assert_eq!(next["externalId"], "a-1");
        assert_eq!(o.external_id_by, Some(A));
    }

    #[test]
    fn a_write_that_names_external_id_takes_it_over() {
        let current = json!({"userName": "u", "externalId": "a-1"});
        let mut next = json!({"userName": "u", "externalId": "b-1"});
        let o = carry(Some(B), &by(Some(A)), &current, &mut next);
        assert_eq!(o.external_id_by, Some(B));
        // Even with the same value: it is B's identifier now.
        let mut same = json!({"userName": "u", "externalId": "a-1"});
        assert_eq!(
            carry(Some(B), &by(Some(A)), &current, &mut same).external_id_by,
            Some(B)
        );
    }

    #[test]
    fn the_owner_can_clear_its_external_id() {
        let current = json!({"userName": "u", "externalId": "a-1"});
        let mut next = json!({"userName": "u"});
        let o = carry(Some(A), &by(Some(A)), &current, &mut next);
        assert!(next.get("externalId").is_none());
        assert_eq!(o.external_id_by, None);
    }

    #[test]
    fn an_administrator_keeps_the_label_of_a_value_it_leaves_alone() {
        let current = json!({"userName": "u", "externalId": "a-1"});
        let mut next = json!({"userName": "v", "externalId": "a-1"});
        assert_eq!(
            carry(None, &by(Some(A)), &current, &mut next).external_id_by,
            Some(A)
        );
        let mut changed = json!({"userName": "v", "externalId": "x"});
        assert_eq!(
            carry(None, &by(Some(A)), &current, &mut changed).external_id_by,
            None
        );
    }

    #[test]
    fn created_labels_external_id_only_when_there_is_one() {
        assert_eq!(
            created(Some(A), &json!({"externalId": "x"})).external_id_by,
            Some(A)
        );
        assert_eq!(created(Some(A), &json!({})).external_id_by, None);
        assert_eq!(created(Some(A), &json!({})).owner, Some(A));
    }
}
