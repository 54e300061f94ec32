//! Paths and schemas of `/api/v1/subscriptions` (change events, issue 18).

use serde_json::{json, Map, Value};

use super::builder::{path_param, schema, Paths};
use super::connectors::{json_body, op, VALIDATION};

const MISSING: &str = "No such subscription.";

pub fn paths(p: &mut Paths) {
    let id = || path_param("id", "The subscription's id (a UUID).");
    p.add(
        "/api/v1/subscriptions",
        "post",
        json_body(
            op("createSubscription", "Subscribe a URL to change events")
                .about(
                    "Every committed change to a User, Group or declared-type resource is an \
                     event; a subscription receives them, in order, at least once, as signed \
                     webhook batches (Standard Webhooks: `webhook-id`, `webhook-timestamp`, \
                     `webhook-signature`). It starts with the events after its creation (older \
                     ones by a replay). The answer carries the signing secret, shown only now. \
                     The URL must be public HTTPS unless `SCIMD_WEBHOOK_ALLOWED_HOSTS` allows it.",
                )
                .body("CreateSubscriptionRequest", true),
        )
        .ok(
            201,
            "The subscription, with its secret.",
            schema("CreatedSubscription"),
        )
        .err(400, VALIDATION),
    );
    p.add(
        "/api/v1/subscriptions",
        "get",
        op("listSubscriptions", "List the organization's subscriptions").ok(
            200,
            "Every subscription, oldest first, with its delivery state.",
            json!({"type": "array", "items": schema("Subscription")}),
        ),
    );
    p.add(
        "/api/v1/subscriptions/{id}",
        "get",
        op(
            "getSubscription",
            "Read a subscription and its delivery state",
        )
        .params([id()])
        .ok(200, "The subscription.", schema("Subscription"))
        .err(404, MISSING),
    );
    p.add(
        "/api/v1/subscriptions/{id}",
        "patch",
        json_body(
            op("updateSubscription", "Pause, resume or change a subscription")
                .about("Only the fields given change; `null` clears a filter (everything). A paused subscription keeps its position; resumed, it delivers what accumulated.")
                .params([id()])
                .body("UpdateSubscriptionRequest", true),
        )
        .ok(200, "The subscription now.", schema("Subscription"))
        .err(400, VALIDATION)
        .err(404, MISSING),
    );
    p.add(
        "/api/v1/subscriptions/{id}",
        "delete",
        op("deleteSubscription", "Delete a subscription")
            .params([id()])
            .empty(204, "Deleted; nothing more is delivered to it.")
            .err(404, MISSING),
    );
    p.add(
        "/api/v1/subscriptions/{id}/replay",
        "post",
        json_body(
            op("replaySubscription", "Deliver again from a sequence number or a time")
                .about("Moves the subscription's position to just before the event numbered `from_sequence` (or the first at or after `from_time`) and clears its dead letters: what follows is delivered again, with the same event ids.")
                .params([id()])
                .body("ReplayRequest", true),
        )
        .ok(200, "The subscription now.", schema("Subscription"))
        .err(400, VALIDATION)
        .err(404, MISSING),
    );
    p.add(
        "/api/v1/subscriptions/{id}/rotate-secret",
        "post",
        op("rotateSubscriptionSecret", "Give a subscription a new signing secret")
            .about("The new secret is shown only now; for 24 hours deliveries carry a signature by each, so the receiver can switch without a gap.")
            .params([id()])
            .ok(200, "The subscription, with its new secret.", schema("CreatedSubscription"))
            .err(404, MISSING),
    );
    p.add(
        "/api/v1/subscriptions/{id}/dead-letters",
        "get",
        op("listDeadLetters", "List the events a subscription gave up on")
            .about("Events whose delivery failed for the whole retry window (`SCIMD_DELIVERY_RETRY_HOURS`, default 72). A replay from one delivers it again.")
            .params([id()])
            .ok(200, "The parked events, by sequence number.", json!({"type": "array", "items": schema("DeadLetter")}))
            .err(404, MISSING),
    );
}

pub fn schemas(out: &mut Map<String, Value>) {
    let kinds = json!({"type": ["array", "null"], "minItems": 1, "items": {"type": "string",
        "enum": ["create", "replace", "patch", "delete", "restore", "activate", "deactivate", "membership"]},
        "description": "Only these kinds of event; `null` or absent: every kind."});
    let types = json!({"type": ["array", "null"], "minItems": 1, "items": {"type": "string"},
        "description": "Only these resource types (`User`, `Group`, declared ones); `null` or absent: every type."});
    out.insert("CreateSubscriptionRequest".into(), json!({
        "type": "object", "additionalProperties": false, "required": ["format", "url"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "format": {"type": "string", "enum": ["webhook"], "description": "`set-push` and `set-poll` (RFC 9967 SETs) are not built yet."},
            "url": {"type": "string", "format": "uri", "maxLength": 2048},
            "events": kinds, "resource_types": types,
            "payload": {"type": "string", "enum": ["notice"]},
        },
    }));
    out.insert(
        "UpdateSubscriptionRequest".into(),
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "url": {"type": "string", "format": "uri", "maxLength": 2048},
                "paused": {"type": "boolean"},
                "events": kinds, "resource_types": types,
                "payload": {"type": "string", "enum": ["notice"]},
            },
        }),
    );
    out.insert(
        "ReplayRequest".into(),
        json!({
            "type": "object", "additionalProperties": false,
            "description": "Exactly one of the two.",
            "properties": {
                "from_sequence": {"type": "integer", "minimum": 1},
                "from_time": {"type": "string", "format": "date-time"},
            },
        }),
    );
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let subscription = json!({
        "type": "object",
        "required": ["id", "name", "format", "url", "events", "resource_types", "payload", "paused", "position", "created_at", "updated_at", "delivery"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"}, "format": {"type": "string"},
            "url": {"type": ["string", "null"]},
            "events": kinds, "resource_types": types,
            "payload": {"type": "string"},
            "paused": {"type": "boolean"},
            "position": {"type": "integer", "description": "The last event number it has finished with."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "delivery": {"type": "object", "properties": {
                "lag": {"type": "integer", "description": "Events not yet delivered."},
                "delivered": {"type": "integer"},
                "attempts": {"type": "integer", "description": "Failed attempts at the current batch."},
                "failing_since": time, "next_attempt_at": time, "last_attempt_at": time,
                "last_success_at": time,
                "last_status": {"type": ["integer", "null"]},
                "last_error": {"type": ["string", "null"]},
                "dead_letters": {"type": "integer"},
            }},
        },
    });
    out.insert("Subscription".into(), subscription);
    out.insert("CreatedSubscription".into(), json!({
        "allOf": [schema("Subscription"), {"type": "object", "required": ["secret"], "properties": {
            "secret": {"type": "string", "description": "`whsec_…`: the Standard Webhooks signing secret, shown only now."}}}],
    }));
    out.insert(
        "DeadLetter".into(),
        json!({
            "type": "object", "required": ["seq", "parked_at", "attempts"],
            "properties": {
                "seq": {"type": "integer"}, "parked_at": {"type": "string", "format": "date-time"},
                "attempts": {"type": "integer"},
                "last_status": {"type": ["integer", "null"]},
                "last_error": {"type": ["string", "null"]},
            },
        }),
    );
}
