//! Signing deliveries as Standard Webhooks 1.0 specifies
//! (<https://www.standardwebhooks.com/>, "Signature scheme" and "Webhook
//! headers"), so a subscriber can verify them with any of that project's
//! libraries instead of code written for scimd.
//!
//! The symmetric scheme: the secret is `whsec_` and the standard base64 of
//! 24 to 64 random bytes; the signed content is `{msg_id}.{timestamp}.{body}`
//! with the body exactly as sent; the signature is `v1,` and the base64 of
//! its HMAC-SHA256 under the decoded secret. `webhook-signature` carries
//! one such signature per secret, space-separated, so that while a secret
//! is being rotated both the old and the new one verify.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header carrying the message id, the same on every retry of one
/// delivery, which receivers use to drop duplicates.
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the attempt's Unix time in seconds, which receivers
/// check against their clock to refuse replays.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying [`sign`]'s value.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

const SECRET_PREFIX: &str = "whsec_";
const VERSION: &str = "v1";
/// The spec's bounds on a symmetric secret: at least 192 bits, at most 512.
const SECRET_MIN: usize = 24;
const SECRET_MAX: usize = 64;
/// What [`new_secret`] draws: 256 bits, comfortably inside the bounds.
const NEW_SECRET_BYTES: usize = 32;

/// A new signing secret: `whsec_` and the base64 of 32 random bytes. Fails
/// only when the OS random source does, and then no weaker secret is made.
pub fn new_secret() -> Result<String, String> {
    let mut key = [0u8; NEW_SECRET_BYTES];
    getrandom::fill(&mut key).map_err(|e| format!("the OS random source failed: {e}"))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The `webhook-signature` value for one attempt: a `v1,` signature under
/// each of `secrets` (the current one first by convention; several while a
/// rotation overlaps), space-separated. An error names which secret or
/// field is wrong, never a secret's text.
///
/// `msg_id` must not be empty nor hold `.`, whitespace or control
/// characters: the spec forbids `.` (the signed content is `.`-delimited,
/// so one would let a body pass for another id), and the id travels in a
/// header.
pub fn sign(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    if secrets.is_empty() {
        return Err("no secret to sign with".into());
    }
    check_msg_id(msg_id)?;
    let mut header = String::new();
    for (i, secret) in secrets.iter().enumerate() {
        let key = decode_secret(secret).map_err(|e| format!("secret {}: {e}", i + 1))?;
        let mac = mac(&key, msg_id, timestamp, body);
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str(VERSION);
        header.push(',');
        header.push_str(&STANDARD.encode(mac));
    }
    Ok(header)
}

/// Whether any `v1` signature in `header` (a `webhook-signature` value) is
/// `secret`'s for this id, timestamp and body, as a receiver checks it.
/// Signatures of other versions (`v1a`, asymmetric) are skipped; each
/// candidate is compared in constant time. This does not check the
/// timestamp's age: that needs the receiver's clock and tolerance.
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Ok(key) = decode_secret(secret) else {
        return false;
    };
    let expected = mac(&key, msg_id, timestamp, body);
    header
        .split(' ')
        .filter_map(|part| part.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .any(|sig| bool::from(sig.as_slice().ct_eq(&expected)))
}

fn check_msg_id(msg_id: &str) -> Result<(), String> {
    if msg_id.is_empty() {
        return Err("the message id is empty".into());
    }
    if msg_id.contains('.') {
        return Err("the message id must not contain '.'".into());
    }
    if !msg_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the message id must be printable ASCII without spaces".into());
    }
    Ok(())
}

/// The HMAC key a `whsec_` secret stands for.
fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("does not start with {SECRET_PREFIX}"))?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| format!("is not {SECRET_PREFIX} and standard base64"))?;
    if !(SECRET_MIN..=SECRET_MAX).contains(&key.len()) {
        return Err(format!(
            "decodes to {} bytes; Standard Webhooks wants {SECRET_MIN} to {SECRET_MAX}",
            key.len()
        ));
    }
    Ok(key)
}

fn mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it,
    // and `decode_secret` bounds the length anyway.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vector of the Standard Webhooks reference libraries' own tests.
    const REF_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const REF_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const REF_TS: i64 = 1649367553;
    const REF_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const REF_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    #[test]
    fn matches_the_reference_vector() {
        assert_eq!(
            sign(&[REF_SECRET], REF_ID, REF_TS, REF_BODY).unwrap(),
            REF_SIG
        );
        assert!(verify(REF_SECRET, REF_ID, REF_TS, REF_BODY, REF_SIG));
    }

    #[test]
    fn new_secrets_are_32_random_bytes_and_sign() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(decode_secret(&a).unwrap().len(), 32);
        let header = sign(&[&a], "msg_1", 1, b"{}").unwrap();
        assert!(verify(&a, "msg_1", 1, b"{}", &header));
        assert!(!verify(&b, "msg_1", 1, b"{}", &header));
    }

    #[test]
    fn signs_with_every_secret_during_a_rotation() {
        let (new, old, other) = (
            new_secret().unwrap(),
            REF_SECRET.to_string(),
            new_secret().unwrap(),
        );
        let header = sign(&[&new, &old], REF_ID, REF_TS, REF_BODY).unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], REF_SIG);
        assert!(verify(&new, REF_ID, REF_TS, REF_BODY, &header));
        assert!(verify(&old, REF_ID, REF_TS, REF_BODY, &header));
        assert!(!verify(&other, REF_ID, REF_TS, REF_BODY, &header));
    }

    #[test]
    fn any_change_to_what_was_signed_fails() {
        assert!(!verify(
            REF_SECRET,
            REF_ID,
            REF_TS,
            br#"{"email":"x"}"#,
            REF_SIG
        ));
        assert!(!verify(REF_SECRET, "msg_other", REF_TS, REF_BODY, REF_SIG));
        assert!(!verify(REF_SECRET, REF_ID, REF_TS + 1, REF_BODY, REF_SIG));
        let mut body = REF_BODY.to_vec();
        body.push(b' ');
        assert!(!verify(REF_SECRET, REF_ID, REF_TS, &body, REF_SIG));
    }

    #[test]
    fn verify_skips_other_versions_and_garbage() {
        let sig = REF_SIG.trim_start_matches("v1,");
        for header in [
            format!("v1a,{sig}"),
            format!("v2,{sig}"),
            sig.to_string(),
            String::new(),
            "v1,not-base64!! v1, ,".to_string(),
            "v1,AAAA".to_string(),
        ] {
            assert!(
                !verify(REF_SECRET, REF_ID, REF_TS, REF_BODY, &header),
                "{header}"
            );
        }
        let mixed = format!("v1a,AAAA v1,AAAA {REF_SIG}");
        assert!(verify(REF_SECRET, REF_ID, REF_TS, REF_BODY, &mixed));
        assert!(!verify("whsec_bad", REF_ID, REF_TS, REF_BODY, REF_SIG));
    }

    #[test]
    fn refuses_bad_secrets_and_ids_without_showing_secrets() {
        let short = format!("whsec_{}", STANDARD.encode([1u8; 16]));
        let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
        for (secrets, id, expected) in [
            (vec![], "msg_1", "no secret"),
            (
                vec!["C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
                "msg_1",
                "secret 1: does not start with whsec_",
            ),
            (vec![REF_SECRET, "whsec_!!!"], "msg_1", "secret 2: is not"),
            (vec![short.as_str()], "msg_1", "decodes to 16 bytes"),
            (vec![long.as_str()], "msg_1", "decodes to 65 bytes"),
            (vec![REF_SECRET], "", "empty"),
            (vec![REF_SECRET], "msg.1", "'.'"),
            (vec![REF_SECRET], "msg 1", "printable"),
            (vec![REF_SECRET], "msg\n1", "printable"),
        ] {
            let err = sign(&secrets, id, 1, b"{}").unwrap_err();
            assert!(err.contains(expected), "{err}");
            for s in &secrets {
                assert!(!err.contains(s.trim_start_matches("whsec_")), "{err}");
            }
        }
    }
}
