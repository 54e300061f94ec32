//! Failed authentications against a real token id, made visible without
//! letting a flood of them flood the log: one warning per token id a minute,
//! saying how many failures it stands for. (Every failure is also counted in
//! `scimd_authentication_failures_total{reason}`.)

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// At most one warning per token id in this window.
pub const WARN_INTERVAL: Duration = Duration::seconds(60);
/// Token ids tracked at once; an attacker can only name real ids here, so
/// this bound is generous, and past it old windows are dropped.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
struct Window {
    warned_at: DateTime<Utc>,
    /// Failures since `warned_at`, not yet reported.
    unreported: u64,
}

#[derive(Debug, Default)]
pub struct FailureLog {
    windows: Mutex<HashMap<Uuid, Window>>,
}

impl FailureLog {
    /// Records a refused secret for token `id`; returns the warning to log
    /// now, if one is due.
    pub fn note(&self, id: Uuid, now: DateTime<Utc>) -> Option<String> {
        let mut map = self.windows.lock().ok()?;
        if map.len() >= MAX_TRACKED && !map.contains_key(&id) {
            map.retain(|_, w| now - w.warned_at < WARN_INTERVAL);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        match map.get_mut(&id) {
            Some(w) if now - w.warned_at < WARN_INTERVAL => {
                w.unreported += 1;
                None
            }
            Some(w) => {
                let n = w.unreported + 1;
                *w = Window {
                    warned_at: now,
                    unreported: 0,
                };
                Some(format!(
                    "repeated failures for token {id}: {n} refused secrets in the last minute or more"
                ))
            }
            None => {
                map.insert(
                    id,
                    Window {
                        warned_at: now,
                        unreported: 0,
                    },
                );
                Some(format!(
                    "repeated failures for token {id}: a refused secret (further ones are reported at most once a minute)"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_a_minute_per_token_with_the_count() {
        let log = FailureLog::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(log.note(a, t0).unwrap().contains(&a.to_string()));
        for s in 1..60 {
            assert_eq!(log.note(a, t0 + Duration::seconds(s)), None);
        }
        // Another token has its own window.
        assert!(log.note(b, t0 + Duration::seconds(1)).is_some());
        let next = log.note(a, t0 + Duration::seconds(60)).unwrap();
        assert!(next.contains("60 refused"), "{next}");
        assert_eq!(log.note(a, t0 + Duration::seconds(61)), None);
    }
}

/// Values already refused for a real token id with a wrong secret, so that
/// the same forged value sent again costs a hash-map lookup and no database
/// read. Sound because a refused value can never become valid: every
/// secret scimd stores is new randomness (issue, rotate), or the digest of
/// a value that was just verified (the legacy upgrade).
#[derive(Debug, Default)]
pub struct RefusedValues {
    seen: Mutex<std::collections::HashSet<(Uuid, [u8; 32])>>,
}

/// Beyond this many remembered values the set starts over; it is a
/// speed-up only.
const MAX_REFUSED: usize = 10_000;

impl RefusedValues {
    pub fn contains(&self, id: Uuid, digest: &[u8; 32]) -> bool {
        self.seen.lock().is_ok_and(|s| s.contains(&(id, *digest)))
    }

    pub fn insert(&self, id: Uuid, digest: [u8; 32]) {
        if let Ok(mut s) = self.seen.lock() {
            if s.len() >= MAX_REFUSED {
                s.clear();
            }
            s.insert((id, digest));
        }
    }
}
