//! The delivery workers: threads in every `scimd serve` that lease a
//! subscription with events waiting ([`rows::claim`]), read the next batch
//! after its position, POST it, and record the outcome. No database
//! connection is held during the HTTP call, and no call happens inside a
//! request's transaction: events are read after they committed.
//!
//! At least once, in order: the position moves only past what the receiver
//! acknowledged with a 2xx, so a crash between the POST and the record
//! delivers the same batch again, with the same event ids. A batch that
//! keeps failing is retried with exponential backoff and jitter (or after
//! the receiver's `Retry-After`) until the retry window ends, then parked
//! as dead letters and the subscription moves on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::transport::{Outcome, Transport};
use super::webhook;
use super::EventsConfig;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::service::secretbox::Sealer;
use crate::store::events::{self as outbox, EventRow};
use crate::store::subscriptions::{self as rows, Attempt, SubscriptionRow};
use crate::store::{self, PgPool, StoreError};

/// How long a worker holds a subscription: longer than one delivery can
/// take (the HTTP timeout), so a live worker never loses it mid-call.
fn lease(config: &EventsConfig) -> chrono::Duration {
    chrono::Duration::from_std(config.timeout * 3 + Duration::from_secs(30))
        .unwrap_or(chrono::Duration::seconds(60))
}

/// How long an idle worker waits before looking again.
const IDLE: Duration = Duration::from_millis(200);

pub struct Worker {
    pub pool: PgPool,
    pub config: Arc<EventsConfig>,
    pub sealer: Arc<Sealer>,
    pub transport: Arc<Transport>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub stop: Arc<AtomicBool>,
    /// This worker's lease identity.
    pub id: Uuid,
}

impl Worker {
    pub fn run(self) {
        while !self.stop.load(Ordering::Relaxed) {
            match self.once() {
                Ok(true) => {}
                Ok(false) => std::thread::sleep(IDLE),
                Err(e) => {
                    log::warn!("event delivery: {e}");
                    std::thread::sleep(IDLE * 5);
                }
            }
        }
    }

    /// One subscription's next batch, if any is due; whether there was one.
    fn once(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let key_id = self.sealer.key_id();
        let until = now + lease(&self.config);
        let claimed = store::run_here(&self.pool, |conn| {
            rows::claim(conn, self.id, &key_id, now, until)
        })?;
        let Some(sub) = claimed else {
            return Ok(false);
        };
        let batch = self.config.batch;
        let (org, position) = (sub.org_id, sub.position);
        let events = store::run_here(&self.pool, |conn| outbox::after(conn, org, position, batch))?;
        let Some(last) = events.last().and_then(|e| e.seq) else {
            // Numbered events exist past the position but none is left:
            // retention trimmed them while the subscription was paused.
            // Move to the newest number, or it would be claimed again at once.
            let newest = store::run_here(&self.pool, |conn| outbox::last_seq(conn, org))?;
            log::warn!(
                "subscription {}: events {}..={newest} were trimmed before delivery",
                sub.id,
                position + 1
            );
            self.finish(
                &sub,
                &Attempt::Done {
                    position: newest,
                    delivered: 0,
                },
            )?;
            return Ok(true);
        };
        let wanted: Vec<&EventRow> = events.iter().filter(|e| matches(&sub, e)).collect();
        if wanted.is_empty() {
            // Nothing this subscription asked for: move past them.
            self.finish(
                &sub,
                &Attempt::Done {
                    position: last,
                    delivered: 0,
                },
            )?;
            return Ok(true);
        }
        let outcome = self.post(&sub, &wanted, now);
        let now = self.clock.now();
        match outcome {
            Outcome::Delivered { .. } => {
                self.metrics
                    .events_delivered("delivered", wanted.len() as u64);
                self.finish(
                    &sub,
                    &Attempt::Done {
                        position: last,
                        delivered: wanted.len() as i64,
                    },
                )?;
            }
            Outcome::Failed {
                status,
                retry_after,
                error,
                permanent,
            } => {
                self.metrics.events_delivered("failed", wanted.len() as u64);
                let since = sub.failing_since.unwrap_or(now);
                let window = chrono::Duration::from_std(self.config.retry_window)
                    .unwrap_or(chrono::Duration::days(3));
                if permanent || now - since >= window {
                    let seqs: Vec<i64> = wanted.iter().filter_map(|e| e.seq).collect();
                    log::warn!(
                        "subscription {}: parking events {:?}..{:?} after {} attempts: {error}",
                        sub.id,
                        seqs.first(),
                        seqs.last(),
                        sub.attempts + 1
                    );
                    self.metrics.events_delivered("dead", wanted.len() as u64);
                    let failed = SubscriptionRow {
                        last_status: status.map(|s| i16::try_from(s).unwrap_or(i16::MAX)),
                        last_error: Some(error.clone()),
                        ..sub.clone()
                    };
                    store::run_here(&self.pool, |conn| {
                        rows::park(conn, &failed, self.id, &seqs, last, now)
                    })?;
                } else {
                    let retry_at =
                        now + backoff(sub.attempts, retry_after, self.config.backoff_base);
                    self.finish(
                        &sub,
                        &Attempt::Failed {
                            status: status.map(|s| i16::try_from(s).unwrap_or(i16::MAX)),
                            error,
                            retry_at,
                        },
                    )?;
                }
            }
        }
        Ok(true)
    }

    fn finish(&self, sub: &SubscriptionRow, attempt: &Attempt) -> Result<(), StoreError> {
        let now = self.clock.now();
        let kept = store::run_here(&self.pool, |conn| {
            rows::finish(conn, sub.id, self.id, now, attempt)
        })?;
        if !kept {
            log::warn!(
                "subscription {}: lease lost during delivery; the batch may arrive twice",
                sub.id
            );
        }
        Ok(())
    }

    /// The batch as JSON, signed, POSTed.
    fn post(&self, sub: &SubscriptionRow, events: &[&EventRow], now: DateTime<Utc>) -> Outcome {
        let Some(url) = &sub.url else {
            return failed("the subscription has no URL", true);
        };
        let secrets = match self.secrets(sub, now) {
            Ok(s) => s,
            Err(e) => return failed(&e, false),
        };
        let body = batch(sub, events).to_string().into_bytes();
        let (first, last) = (
            events.first().and_then(|e| e.seq).unwrap_or(0),
            events.last().and_then(|e| e.seq).unwrap_or(0),
        );
        // The same events give the same message id on every retry.
        let msg_id = format!("msg_{}_{first}_{last}", sub.id.simple());
        let ts = now.timestamp();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let signature = match webhook::sign(&refs, &msg_id, ts, &body) {
            Ok(s) => s,
            Err(e) => return failed(&e, false),
        };
        let headers = [
            ("content-type", "application/json".to_string()),
            ("webhook-id", msg_id),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
        ];
        self.transport.post(url, &headers, body)
    }

    /// The secrets that sign now: the current one, and the previous one
    /// during a rotation's overlap.
    fn secrets(&self, sub: &SubscriptionRow, now: DateTime<Utc>) -> Result<Vec<String>, String> {
        let open = |sealed: &[u8]| {
            self.sealer
                .open(sealed)
                .map_err(|e| format!("cannot open the subscription's secret: {e:?}"))
                .and_then(|b| String::from_utf8(b).map_err(|_| "secret is not text".to_string()))
        };
        let mut out = Vec::new();
        if let Some(s) = &sub.secret {
            out.push(open(s)?);
        }
        if let (Some(p), Some(until)) = (&sub.previous_secret, sub.previous_until) {
            if until > now {
                out.push(open(p)?);
            }
        }
        if out.is_empty() {
            return Err("the subscription has no secret".into());
        }
        Ok(out)
    }
}

fn failed(error: &str, permanent: bool) -> Outcome {
    Outcome::Failed {
        status: None,
        retry_after: None,
        error: error.to_string(),
        permanent,
    }
}

/// Whether `sub`'s filters let `e` through.
pub fn matches(sub: &SubscriptionRow, e: &EventRow) -> bool {
    let kind_ok = sub
        .events
        .as_ref()
        .is_none_or(|want| e.kinds().any(|k| want.iter().any(|w| w == k)));
    let type_ok = sub.resource_types.as_ref().is_none_or(|want| {
        want.iter()
            .any(|t| t.eq_ignore_ascii_case(&e.resource_type))
    });
    kind_ok && type_ok
}

/// The wait before attempt `attempts + 1`: `base` × 2^attempts (at most an
/// hour), ±50 % jitter so receivers coming back are not hit by every
/// subscription at once; the receiver's `Retry-After` when it sent one.
pub fn backoff(attempts: i32, retry_after: Option<Duration>, base: Duration) -> chrono::Duration {
    if let Some(r) = retry_after {
        return chrono::Duration::from_std(r.min(Duration::from_secs(3600)))
            .unwrap_or(chrono::Duration::hours(1));
    }
    let base = (base.as_secs_f64() * 2f64.powi(attempts.clamp(0, 30))).min(3600.0);
    let mut b = [0u8; 2];
    let jitter = match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    };
    let secs = base * (0.5 + jitter);
    chrono::Duration::milliseconds((secs * 1000.0) as i64)
}

/// A resource's location relative to the SCIM base (RFC 9967's `uri`).
fn location(e: &EventRow) -> String {
    let endpoint = match e.resource_type.as_str() {
        "User" => "Users".to_string(),
        "Group" => "Groups".to_string(),
        other => format!("{other}s"),
    };
    format!("/{endpoint}/{}", e.resource_id)
}

/// One event as a webhook batch carries it.
pub fn event_json(e: &EventRow) -> Value {
    let seq = e.seq.unwrap_or(0);
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("id", json!(format!("evt_{}_{seq}", e.org_id.simple())));
    put("sequence", json!(seq));
    put("type", json!(e.action));
    put("kinds", json!(e.kinds().collect::<Vec<_>>()));
    put("resourceType", json!(e.resource_type));
    put("resourceId", json!(e.resource_id));
    put("location", json!(location(e)));
    put("occurredAt", json!(e.at));
    put(
        "actor",
        json!({"tokenId": e.actor_token_id, "name": e.actor_name, "connectorId": e.connector_id}),
    );
    if let Some(x) = &e.external_id {
        put("externalId", json!(x));
    }
    if let Some(ver) = e.version {
        put("version", json!(format!("W/\"{ver}\"")));
    }
    if let Some(r) = &e.request_id {
        put("requestId", json!(r));
    }
    if let Some(mem) = &e.members {
        put("members", mem.clone());
    }
    Value::Object(m)
}

fn batch(sub: &SubscriptionRow, events: &[&EventRow]) -> Value {
    json!({
        "subscription": sub.id,
        "events": events.iter().map(|e| event_json(e)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let second = Duration::from_secs(1);
        for a in 0..20 {
            let b = backoff(a, None, second).num_milliseconds();
            let base = 2f64.powi(a).min(3600.0) * 1000.0;
            assert!(
                b as f64 >= base * 0.5 - 1.0 && b as f64 <= base * 1.5 + 1.0,
                "{a}: {b}"
            );
        }
        assert_eq!(
            backoff(3, Some(Duration::from_secs(7)), second).num_seconds(),
            7
        );
        assert_eq!(
            backoff(3, Some(Duration::from_secs(99_999)), second).num_seconds(),
            3600
        );
    }
}
