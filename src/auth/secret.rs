//! How a token's secret is stored and checked: a SHA-256 digest of the whole
//! value, compared in constant time (see `docs/design/token-secrets.md`).
//!
//! A token value carries 192 bits from the OS CSPRNG, so nobody can guess it
//! from its digest and a slow hash would buy no security; it would only make
//! every forged value that names a real token id cost ~40 ms of CPU and
//! 19 MiB of memory. Tokens minted before this change hold an argon2id hash
//! (`$argon2id$…`); those are verified once, serialised ([`super::legacy`]),
//! and then stored in this form.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of a stored digest; anything else is a legacy PHC string.
pub const DIGEST_PREFIX: &str = "sha256$";

/// The SHA-256 digest of a presented value.
pub fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// The stored form of a token value: `sha256$` and 64 lowercase hex digits.
pub fn stored_form(value: &str) -> String {
    stored_form_of(&digest(value))
}

pub fn stored_form_of(d: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(DIGEST_PREFIX.len() + 64);
    s.push_str(DIGEST_PREFIX);
    for b in d {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// What a stored secret says about a presented value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Match,
    NoMatch,
    /// A legacy argon2id hash: only the slow verifier can tell.
    Legacy,
}

/// Compares the presented value's digest with a stored secret. Constant time
/// in the digest; a stored string that is neither form matches nothing.
pub fn check(presented: &[u8; 32], stored: &str) -> Check {
    if let Some(hex) = stored.strip_prefix(DIGEST_PREFIX) {
        let expected = stored_form_of(presented);
        let ours = &expected.as_bytes()[DIGEST_PREFIX.len()..];
        return if bool::from(ours.ct_eq(hex.as_bytes())) {
            Check::Match
        } else {
            Check::NoMatch
        };
    }
    if is_legacy(stored) {
        Check::Legacy
    } else {
        Check::NoMatch
    }
}

/// Whether a stored secret is a legacy argon2 PHC string.
pub fn is_legacy(stored: &str) -> bool {
    stored.starts_with("$argon2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_is_prefixed_hex_of_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            stored_form("abc"),
            "sha256$ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn check_matches_only_the_same_value() {
        let stored = stored_form("scimd_x");
        assert_eq!(check(&digest("scimd_x"), &stored), Check::Match);
        assert_eq!(check(&digest("scimd_y"), &stored), Check::NoMatch);
        assert_eq!(
            check(&digest("scimd_x"), "$argon2id$v=19$..."),
            Check::Legacy
        );
        assert_eq!(check(&digest("scimd_x"), ""), Check::NoMatch);
        assert_eq!(check(&digest("scimd_x"), "sha256$"), Check::NoMatch);
        // Upper-case hex is not what we write; it matches nothing.
        assert_eq!(
            check(&digest("abc"), &stored_form("abc").to_uppercase()),
            Check::NoMatch
        );
    }
}
