//! The order a Bulk request runs in (RFC 7644 §3.7): an operation whose
//! data or path names `bulkId:X` runs after the operation that creates X,
//! whatever their order in the request. A circular reference is broken at a
//! group whose only open references are members (§3.7.1): it is created
//! without them and they are added once both sides exist. Pure: the caller
//! runs each step and reports back.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{defer_member_refs, only_member_refs, references, substitute, substitute_path};
use super::{BulkOp, BulkRequest};
use crate::scim::error::{ScimError, ScimType};

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Run operation `index` with its references substituted; report the
    /// outcome with [`Planner::succeeded`] or [`Planner::failed`].
    Run {
        index: usize,
        data: Option<Value>,
        path: String,
    },
    /// Operation `index` cannot run: a reference it makes cannot be
    /// resolved. Already counted as failed.
    Unresolved { index: usize, error: ScimError },
}

/// Members taken out of a new group to break a cycle, to be added to it
/// (`group`, its new id) now that they exist (`members`, their ids).
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredAdd {
    pub index: usize,
    pub group: String,
    pub members: Vec<String>,
}

pub struct Planner<'a> {
    ops: &'a [BulkOp],
    fail_on_errors: Option<usize>,
    pending: Vec<usize>,
    /// bulkId → id of the resource its POST created.
    ids: HashMap<String, String>,
    failed: HashSet<String>,
    deferred: Vec<(usize, Vec<String>)>,
    errors: usize,
}

impl<'a> Planner<'a> {
    pub fn new(request: &'a BulkRequest) -> Self {
        Planner {
            ops: &request.ops,
            fail_on_errors: request.fail_on_errors,
            pending: (0..request.ops.len()).collect(),
            ids: HashMap::new(),
            failed: HashSet::new(),
            deferred: Vec::new(),
            errors: 0,
        }
    }

    fn waiting(&self) -> HashSet<String> {
        self.pending
            .iter()
            .filter_map(|&i| self.ops[i].bulk_id.clone())
            .collect()
    }

    /// The next step; `None` when every operation ran or `failOnErrors`
    /// was reached.
    pub fn next_step(&mut self) -> Option<Step> {
        if self.pending.is_empty() || self.fail_on_errors.is_some_and(|f| self.errors >= f) {
            return None;
        }
        let waiting = self.waiting();
        let ready = self.pending.iter().position(|&i| {
            references(&self.ops[i])
                .iter()
                .all(|r| !waiting.contains(r))
        });
        // A cycle: break it at a group whose only open references are
        // members, or let the first operation fail.
        let (pos, defer) = match ready {
            Some(p) => (p, false),
            None => match self
                .pending
                .iter()
                .position(|&i| only_member_refs(&self.ops[i], &waiting))
            {
                Some(p) => (p, true),
                None => (0, false),
            },
        };
        let index = self.pending.remove(pos);
        let op = &self.ops[index];
        let mut data = op.data.clone();
        if defer {
            if let Some(d) = &op.data {
                let (rest, later) = defer_member_refs(d, &waiting);
                data = Some(rest);
                self.deferred.push((index, later));
            }
        }
        let open = data
            .iter()
            .flat_map(|d| {
                references(&BulkOp {
                    data: Some(d.clone()),
                    ..op.clone()
                })
            })
            .find(|r| !self.ids.contains_key(r));
        if let Some(r) = open {
            let waiting_now = self.waiting();
            let error = self.unresolved(&r, &waiting_now);
            self.failed(index);
            return Some(Step::Unresolved { index, error });
        }
        Some(Step::Run {
            index,
            data: data.map(|d| substitute(&d, &self.ids)),
            path: substitute_path(&op.path, &self.ids),
        })
    }

    /// Operation `index` succeeded; `created` is the id of the resource a
    /// POST created, for later `bulkId:` references.
    pub fn succeeded(&mut self, index: usize, created: Option<String>) {
        if let (Some(b), Some(id)) = (&self.ops[index].bulk_id, created) {
            self.ids.insert(b.clone(), id);
        }
    }

    /// Operation `index` failed: it counts towards `failOnErrors`, and what
    /// refers to its bulkId cannot run.
    pub fn failed(&mut self, index: usize) {
        self.errors += 1;
        if let Some(b) = &self.ops[index].bulk_id {
            self.failed.insert(b.clone());
        }
    }

    /// The member adds deferred to break cycles, for the groups that were
    /// created, with the members that were.
    pub fn deferred(&self) -> Vec<DeferredAdd> {
        self.deferred
            .iter()
            .filter_map(|(index, refs)| {
                let group = self.ops[*index]
                    .bulk_id
                    .as_ref()
                    .and_then(|b| self.ids.get(b))?;
                let members: Vec<String> = refs
                    .iter()
                    .filter_map(|r| self.ids.get(r))
                    .cloned()
                    .collect();
                (!members.is_empty()).then(|| DeferredAdd {
                    index: *index,
                    group: group.clone(),
                    members,
                })
            })
            .collect()
    }

    /// Why a reference cannot be used, worded for the client.
    fn unresolved(&self, r: &str, pending: &HashSet<String>) -> ScimError {
        let why = if self.failed.contains(r) {
            "the operation that creates it failed"
        } else if pending.contains(r) {
            "it is part of a circular reference that cannot be broken"
        } else {
            "no POST operation in this request has that bulkId"
        };
        ScimError::new(
            409,
            Some(ScimType::InvalidValue),
            format!("bulkId:{r} cannot be resolved: {why}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::bulk::{parse, BULK_REQUEST};

    fn request(ops: Value) -> BulkRequest {
        parse(&json!({"schemas": [BULK_REQUEST], "Operations": ops})).expect("bulk request")
    }

    /// Runs the plan, every operation succeeding (a POST creating
    /// `id-<bulkId>`) unless its index is in `failing`; returns the steps.
    fn run(req: &BulkRequest, failing: &[usize]) -> (Vec<Step>, Vec<DeferredAdd>) {
        let mut plan = Planner::new(req);
        let mut steps = Vec::new();
        while let Some(step) = plan.next_step() {
            if let Step::Run { index, .. } = &step {
                let index = *index;
                if failing.contains(&index) {
                    plan.failed(index);
                } else {
                    let created = req.ops[index].bulk_id.as_ref().map(|b| format!("id-{b}"));
                    plan.succeeded(index, created);
                }
            }
            steps.push(step);
        }
        let deferred = plan.deferred();
        (steps, deferred)
    }

    fn order(steps: &[Step]) -> Vec<usize> {
        steps
            .iter()
            .map(|s| match s {
                Step::Run { index, .. } | Step::Unresolved { index, .. } => *index,
            })
            .collect()
    }

    #[test]
    fn a_reference_runs_after_what_it_refers_to() {
        let req = request(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"displayName": "G", "members": [{"value": "bulkId:u"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u"}},
            {"method": "PATCH", "path": "/Groups/bulkId:g", "data": {"Operations": []}}
        ]));
        let (steps, deferred) = run(&req, &[]);
        assert_eq!(order(&steps), vec![1, 0, 2]);
        let Step::Run { data, .. } = &steps[1] else {
            panic!("runs");
        };
        assert_eq!(data.as_ref().unwrap()["members"][0]["value"], "id-u");
        let Step::Run { path, .. } = &steps[2] else {
            panic!("runs");
        };
        assert_eq!(path, "/Groups/id-g");
        assert!(deferred.is_empty());
    }

    #[test]
    fn a_cycle_of_groups_is_broken_at_members_and_added_later() {
        let req = request(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "a",
             "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "b",
             "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}}
        ]));
        let (steps, deferred) = run(&req, &[]);
        assert_eq!(order(&steps), vec![0, 1]);
        let Step::Run { data, .. } = &steps[0] else {
            panic!("runs");
        };
        assert_eq!(data.as_ref().unwrap()["members"], json!([]));
        assert_eq!(
            deferred,
            vec![DeferredAdd {
                index: 0,
                group: "id-a".into(),
                members: vec!["id-b".into()]
            }]
        );
    }

    #[test]
    fn unresolvable_references_fail_with_the_reason() {
        let req = request(json!([
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u"}},
            {"method": "PATCH", "path": "/Users/bulkId:u", "data": {"Operations": []}},
            {"method": "PATCH", "path": "/Users/bulkId:nobody", "data": {"Operations": []}},
            {"method": "PUT", "path": "/Users/bulkId:p", "bulkId": "q", "data": {"userName": "bulkId:q"}},
            {"method": "POST", "path": "/Users", "bulkId": "p", "data": {"userName": "bulkId:q"}}
        ]));
        let (steps, _) = run(&req, &[0]);
        let reasons: Vec<(usize, String)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Unresolved { index, error } => Some((*index, error.detail.clone())),
                Step::Run { .. } => None,
            })
            .collect();
        assert!(
            reasons
                .iter()
                .any(|(i, d)| *i == 1 && d.contains("the operation that creates it failed")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(i, d)| *i == 2 && d.contains("no POST operation")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(_, d)| d.contains("circular reference")),
            "{reasons:?}"
        );
        assert!(steps.iter().all(|s| match s {
            Step::Unresolved { error, .. } => error.status == 409,
            Step::Run { .. } => true,
        }));
    }

    #[test]
    fn fail_on_errors_stops_the_plan() {
        let req = {
            let mut r = request(json!([
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a"}},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "b"}},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "c"}}
            ]));
            r.fail_on_errors = Some(1);
            r
        };
        let (steps, _) = run(&req, &[0]);
        assert_eq!(order(&steps), vec![0]);
    }
}
