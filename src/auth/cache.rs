//! The per-process cache of verified token values, so argon2 runs once per
//! token per process rather than on every request.
//!
//! It holds no authority: every request still reads the token row (revoked,
//! expired, scopes, current hash), so revocation on any instance takes effect
//! on the next request everywhere. An entry only says "this value was already
//! checked against this stored hash".

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Beyond this many entries the cache starts over; it is a speed-up only.
const MAX_ENTRIES: usize = 10_000;

/// Keyed by token id and value digest: during a rotation's grace period
/// the old and the new value of one token are both valid, each against its
/// own stored hash.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    entries: Mutex<HashMap<(Uuid, [u8; 32]), String>>,
}

pub fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

impl VerifiedCache {
    /// Whether `value` was verified against exactly `stored_hash` before.
    pub fn is_verified(&self, id: Uuid, value: &str, stored_hash: &str) -> bool {
        let d = digest(value);
        let Ok(map) = self.entries.lock() else {
            return false;
        };
        // The digest is part of the key, so the lookup compares it; the
        // stored hash is then compared in constant time.
        map.get(&(id, d))
            .is_some_and(|h| h.as_bytes().ct_eq(stored_hash.as_bytes()).into())
    }

    pub fn remember(&self, id: Uuid, value: &str, stored_hash: &str) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert((id, digest(value)), stored_hash.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_value_and_hash_pair_only() {
        let c = VerifiedCache::default();
        let id = Uuid::new_v4();
        assert!(!c.is_verified(id, "v", "h"));
        c.remember(id, "v", "h");
        assert!(c.is_verified(id, "v", "h"));
        assert!(!c.is_verified(id, "w", "h"));
        // A rotated token has a new hash: the old entry no longer counts.
        assert!(!c.is_verified(id, "v", "h2"));
    }
}
