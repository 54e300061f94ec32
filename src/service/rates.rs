//! Rate limits per connector (and per token without one), enforced across
//! every instance sharing the database (issue 17).
//!
//! Each limit is a token bucket in `rate_buckets`. An instance does not ask
//! the database per request: it leases a slice of the bucket's tokens (a
//! twentieth of a second's worth, at least one) and spends them locally,
//! going back only when they are spent. A refusal is remembered until the
//! bucket will hold a token again, so a client hammering a spent limit
//! costs no round trip either. What an instance leased but did not spend
//! is the error bound: at most one slice per instance.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::scim::policy::RateLimit;
use crate::store::{self, PgPool};

/// What this instance holds of one bucket.
#[derive(Debug, Clone, Copy)]
struct Local {
    /// Leased and not yet spent.
    tokens: f64,
    /// Refused until then without asking the database.
    refused_until: Option<DateTime<Utc>>,
    /// The limit the tokens were leased under; a changed limit starts over.
    limit: (u64, u32),
}

/// Buckets this process holds at most; beyond it the map is emptied (what
/// was leased and unspent is then lost, which only errs on the strict side).
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Limiter(Mutex<HashMap<Uuid, Local>>);

/// A request refused: how many seconds until one would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

fn slice(limit: &RateLimit) -> f64 {
    (limit.per_second / 20.0)
        .ceil()
        .clamp(1.0, f64::from(limit.burst.max(1)))
}

fn seconds_until_one(left: f64, per_second: f64) -> f64 {
    ((1.0 - left).max(0.0) / per_second).max(0.0)
}

impl Limiter {
    fn key_limit(limit: &RateLimit) -> (u64, u32) {
        (limit.per_second.to_bits(), limit.burst)
    }

    /// Takes one request from `key`'s allowance without the database, if
    /// this instance holds one; `Some(Err)` if it knows the answer is no.
    fn local(
        &self,
        key: Uuid,
        limit: &RateLimit,
        now: DateTime<Utc>,
    ) -> Option<Result<(), Limited>> {
        let mut map = self.0.lock().ok()?;
        let l = map.get_mut(&key)?;
        if l.limit != Self::key_limit(limit) {
            map.remove(&key);
            return None;
        }
        if l.tokens >= 1.0 {
            l.tokens -= 1.0;
            return Some(Ok(()));
        }
        match l.refused_until {
            Some(t) if t > now => {
                let secs = (t - now).num_milliseconds().max(0) as f64 / 1000.0;
                Some(Err(Limited {
                    retry_after: secs.ceil().max(1.0) as u64,
                }))
            }
            _ => None,
        }
    }

    fn store_lease(
        &self,
        key: Uuid,
        limit: &RateLimit,
        granted: f64,
        refused_until: Option<DateTime<Utc>>,
    ) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return granted >= 1.0;
        };
        if map.len() >= MAX_BUCKETS && !map.contains_key(&key) {
            map.clear();
        }
        let l = map.entry(key).or_insert(Local {
            tokens: 0.0,
            refused_until: None,
            limit: Self::key_limit(limit),
        });
        l.tokens += granted;
        l.refused_until = refused_until;
        if l.tokens >= 1.0 {
            l.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// One request against `key`'s `limit`: `Ok` to serve it, `Err` with
    /// the seconds until one would pass. A database failure lets the
    /// request through (the limit protects the service, it must not add an
    /// outage of its own; the request meets the same database next).
    pub async fn take(
        &self,
        pool: &PgPool,
        key: Uuid,
        limit: RateLimit,
        now: DateTime<Utc>,
    ) -> Result<(), Limited> {
        if let Some(answer) = self.local(key, &limit, now) {
            return answer;
        }
        let want = slice(&limit);
        let (rate, burst) = (limit.per_second, f64::from(limit.burst));
        let leased = store::read(pool, move |conn| {
            store::rates::lease(conn, key, rate, burst, want, now)
        })
        .await;
        match leased {
            Ok((granted, left)) => {
                let wait = seconds_until_one(left, rate);
                let refused_until = (granted < 1.0)
                    .then(|| now + Duration::milliseconds((wait * 1000.0).ceil() as i64));
                if self.store_lease(key, &limit, granted, refused_until) {
                    Ok(())
                } else {
                    Err(Limited {
                        retry_after: wait.ceil().max(1.0) as u64,
                    })
                }
            }
            Err(e) => {
                log::warn!("rate limit of {key} not checked: {e}");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_a_twentieth_of_a_second_within_the_burst() {
        let l = |per_second, burst| RateLimit { per_second, burst };
        assert_eq!(slice(&l(1.0, 5)), 1.0);
        assert_eq!(slice(&l(100.0, 50)), 5.0);
        assert_eq!(slice(&l(1000.0, 10)), 10.0);
    }

    #[test]
    fn retry_after_is_the_time_one_token_takes_to_refill() {
        assert_eq!(seconds_until_one(0.0, 2.0), 0.5);
        assert_eq!(seconds_until_one(0.5, 0.1), 5.0);
        assert_eq!(seconds_until_one(1.5, 1.0), 0.0);
    }

    #[test]
    fn leased_tokens_are_spent_locally_then_refused_until_known() {
        let lim = Limiter::default();
        let limit = RateLimit {
            per_second: 1.0,
            burst: 1,
        };
        let key = Uuid::from_u128(1);
        let now = chrono::DateTime::<Utc>::UNIX_EPOCH;
        assert!(lim.local(key, &limit, now).is_none(), "nothing leased yet");
        assert!(lim.store_lease(key, &limit, 2.0, None));
        assert_eq!(lim.local(key, &limit, now), Some(Ok(())));
        assert!(lim.local(key, &limit, now).is_none(), "spent: ask again");
        assert!(!lim.store_lease(key, &limit, 0.0, Some(now + Duration::seconds(3))));
        assert_eq!(
            lim.local(key, &limit, now),
            Some(Err(Limited { retry_after: 3 }))
        );
        // Another limit for the key starts over.
        let other = RateLimit {
            per_second: 5.0,
            burst: 5,
        };
        assert!(lim.local(key, &other, now).is_none());
    }
}
