//! Verification of legacy argon2id token hashes, written before tokens were
//! stored as SHA-256 digests ([`super::secret`]). Each such token is verified
//! with argon2 once, on its first use, and then stored as a digest; until
//! then an attacker who knows its id can make us run argon2 (~40 ms of a
//! core, 19 MiB) with any forged value.
//!
//! So this bounds what that can cost a process:
//! - one argon2 verification at a time, whatever the concurrency, which
//!   caps the extra memory at one argon2 working set and leaves the other
//!   core to every request that does not need argon2;
//! - each (token, value, stored hash) is verified once: its outcome,
//!   success or failure, is remembered, so a repeated forged value costs a
//!   hash-map lookup;
//! - at most [`MAX_WAITING`] requests wait for the verifier; more are shed
//!   with a 503 rather than queueing without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::Semaphore;
use uuid::Uuid;

use super::hash;
use super::secret::digest;

/// Remembered outcomes beyond this many start the cache over.
const MAX_OUTCOMES: usize = 10_000;
/// Requests that may wait for the one argon2 slot.
pub const MAX_WAITING: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    Refused,
    /// Too many verifications are waiting; the caller should retry later.
    Busy,
}

type Key = (Uuid, [u8; 32], [u8; 32]);

#[derive(Debug)]
pub struct LegacyVerifier {
    slot: Semaphore,
    waiting: AtomicUsize,
    outcomes: Mutex<HashMap<Key, bool>>,
    /// argon2 verifications actually run, for metrics and tests.
    runs: AtomicUsize,
}

impl Default for LegacyVerifier {
    fn default() -> Self {
        LegacyVerifier {
            slot: Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            outcomes: Mutex::new(HashMap::new()),
            runs: AtomicUsize::new(0),
        }
    }
}

impl LegacyVerifier {
    /// Whether `value` is the secret `phc` (an argon2 PHC string) was made
    /// from, for token `id`.
    pub async fn verify(&self, id: Uuid, value: &str, phc: &str) -> Outcome {
        let key = (id, digest(value), digest(phc));
        if let Some(known) = self.remembered(&key) {
            return verdict(known);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Outcome::Busy;
        }
        let permit = self.slot.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let Ok(_permit) = permit else {
            return Outcome::Busy;
        };
        // Whoever held the slot before may have verified this very value.
        if let Some(known) = self.remembered(&key) {
            return verdict(known);
        }
        self.runs.fetch_add(1, Ordering::Relaxed);
        let (value, phc) = (value.to_string(), phc.to_string());
        let ok = tokio::task::spawn_blocking(move || hash::verify(&value, &phc))
            .await
            .unwrap_or(false);
        self.remember(key, ok);
        verdict(ok)
    }

    /// How many argon2 verifications this process has run.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Relaxed)
    }

    fn remembered(&self, key: &Key) -> Option<bool> {
        self.outcomes.lock().ok()?.get(key).copied()
    }

    fn remember(&self, key: Key, ok: bool) {
        if let Ok(mut map) = self.outcomes.lock() {
            if map.len() >= MAX_OUTCOMES {
                map.clear();
            }
            map.insert(key, ok);
        }
    }
}

fn verdict(ok: bool) -> Outcome {
    if ok {
        Outcome::Verified
    } else {
        Outcome::Refused
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn verifies_each_value_once_and_remembers_failures() {
        let phc = hash::hash("right").unwrap();
        let v = LegacyVerifier::default();
        let id = Uuid::new_v4();
        rt().block_on(async {
            assert_eq!(v.verify(id, "wrong", &phc).await, Outcome::Refused);
            assert_eq!(v.verify(id, "wrong", &phc).await, Outcome::Refused);
            assert_eq!(v.verify(id, "right", &phc).await, Outcome::Verified);
            assert_eq!(v.verify(id, "right", &phc).await, Outcome::Verified);
        });
        assert_eq!(v.runs(), 2);
    }

    #[test]
    fn concurrent_requests_for_one_value_run_argon2_once() {
        let phc = hash::hash("right").unwrap();
        let v = Arc::new(LegacyVerifier::default());
        let id = Uuid::new_v4();
        rt().block_on(async {
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (v, phc) = (Arc::clone(&v), phc.clone());
                    tokio::spawn(async move { v.verify(id, "forged", &phc).await })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap(), Outcome::Refused);
            }
        });
        assert_eq!(v.runs(), 1);
    }

    #[test]
    fn sheds_beyond_the_waiting_limit() {
        let phc = hash::hash("right").unwrap();
        let v = Arc::new(LegacyVerifier::default());
        let id = Uuid::new_v4();
        let outcomes = rt().block_on(async {
            let tasks: Vec<_> = (0..MAX_WAITING * 2)
                .map(|i| {
                    let (v, phc) = (Arc::clone(&v), phc.clone());
                    tokio::spawn(async move { v.verify(id, &format!("forged{i}"), &phc).await })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        });
        assert!(outcomes.contains(&Outcome::Busy), "{outcomes:?}");
        assert!(!outcomes.contains(&Outcome::Verified));
    }
}
