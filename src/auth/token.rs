//! The token value format: `scimd_` + 54 base62 characters carrying the
//! token id (16 bytes) and 192 bits from the OS CSPRNG + a 6-character base62
//! CRC-32 of everything before it. The prefix lets secret scanners recognise
//! leaked values; the checksum lets a mistyped or truncated value be refused
//! before any database or hash work.

use std::fmt;

use uuid::Uuid;

pub const PREFIX: &str = "scimd_";
const ID_BYTES: usize = 16;
const SECRET_BYTES: usize = 24;
const PAYLOAD_BYTES: usize = ID_BYTES + SECRET_BYTES;
/// ceil(40 bytes · 8 / log2(62)).
const PAYLOAD_CHARS: usize = 54;
const CHECK_CHARS: usize = 6;
pub const TOKEN_LEN: usize = PREFIX.len() + PAYLOAD_CHARS + CHECK_CHARS;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token value. `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenValue(String);

impl TokenValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenValue([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not a scimd token")]
    Prefix,
    #[error("token has the wrong length")]
    Length,
    #[error("token contains characters outside its alphabet")]
    Alphabet,
    #[error("token checksum does not match")]
    Checksum,
    #[error("the operating system's random source failed")]
    Random,
}

/// A new token for `id`.
pub fn generate(id: Uuid) -> Result<TokenValue, FormatError> {
    let mut payload = [0u8; PAYLOAD_BYTES];
    payload[..ID_BYTES].copy_from_slice(id.as_bytes());
    getrandom::fill(&mut payload[ID_BYTES..]).map_err(|_| FormatError::Random)?;
    let mut s = String::with_capacity(TOKEN_LEN);
    s.push_str(PREFIX);
    s.push_str(&encode(&payload, PAYLOAD_CHARS));
    let check = crc32fast::hash(s.as_bytes());
    s.push_str(&encode(&check.to_be_bytes(), CHECK_CHARS));
    Ok(TokenValue(s))
}

/// Checks the format and checksum and returns the token id it names.
pub fn parse(value: &str) -> Result<(Uuid, TokenValue), FormatError> {
    let rest = value.strip_prefix(PREFIX).ok_or(FormatError::Prefix)?;
    if value.len() != TOKEN_LEN {
        return Err(FormatError::Length);
    }
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(FormatError::Alphabet);
    }
    let (body, check) = value.split_at(PREFIX.len() + PAYLOAD_CHARS);
    let expected = encode(&crc32fast::hash(body.as_bytes()).to_be_bytes(), CHECK_CHARS);
    if expected != check {
        return Err(FormatError::Checksum);
    }
    let payload = decode(&body[PREFIX.len()..], PAYLOAD_BYTES).ok_or(FormatError::Alphabet)?;
    let mut id = [0u8; ID_BYTES];
    id.copy_from_slice(&payload[..ID_BYTES]);
    Ok((Uuid::from_bytes(id), TokenValue(value.to_string())))
}

/// Fixed-width big-endian base62 of `bytes`.
fn encode(bytes: &[u8], width: usize) -> String {
    let mut num = bytes.to_vec();
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        let mut rem: u32 = 0;
        for byte in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            rem = acc % 62;
        }
        *slot = ALPHABET[rem as usize];
    }
    out.into_iter().map(char::from).collect()
}

/// Inverse of [`encode`]; `None` on overflow or a character not in the alphabet.
fn decode(text: &str, len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    for c in text.bytes() {
        let digit = ALPHABET.iter().position(|&a| a == c)? as u32;
        let mut carry = digit;
        for byte in out.iter_mut().rev() {
            let acc = u32::from(*byte) * 62 + carry;
            *byte = (acc & 0xff) as u8;
            carry = acc >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_to_their_id() {
        let id = Uuid::new_v4();
        let t = generate(id).unwrap();
        assert_eq!(t.expose().len(), TOKEN_LEN);
        assert!(t.expose().starts_with("scimd_"));
        let (parsed, _) = parse(t.expose()).unwrap();
        assert_eq!(parsed, id);
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let t = generate(Uuid::new_v4()).unwrap();
        let s = t.expose();
        for i in PREFIX.len()..s.len() {
            let mut b = s.as_bytes().to_vec();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(b).unwrap();
            assert!(parse(&changed).is_err(), "change at {i} accepted");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        let t = generate(Uuid::new_v4()).unwrap();
        let s = t.expose();
        assert_eq!(parse(&s[..s.len() - 1]).unwrap_err(), FormatError::Length);
        assert_eq!(parse("hello").unwrap_err(), FormatError::Prefix);
        assert_eq!(parse("scimd_").unwrap_err(), FormatError::Length);
        let mut bad = s.to_string();
        bad.replace_range(10..11, "é");
        assert!(parse(&bad).is_err());
        let overflow = format!("{PREFIX}{}", "z".repeat(PAYLOAD_CHARS + CHECK_CHARS));
        assert!(parse(&overflow).is_err());
    }

    #[test]
    fn base62_round_trips() {
        let bytes = [0xffu8; PAYLOAD_BYTES];
        assert_eq!(
            decode(&encode(&bytes, PAYLOAD_CHARS), PAYLOAD_BYTES).unwrap(),
            bytes
        );
        let zero = [0u8; PAYLOAD_BYTES];
        assert_eq!(
            decode(&encode(&zero, PAYLOAD_CHARS), PAYLOAD_BYTES).unwrap(),
            zero
        );
    }
}

/// Fuzzing by property: any string is either refused or parses to the id it
/// was minted for; nothing panics. `PROPTEST_CASES=1000000 cargo test
/// token::fuzz` runs it longer by hand.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,120}") {
            let _ = parse(&s);
        }

        #[test]
        fn prefixed_alphanumeric_text_is_checked_not_trusted(body in "[0-9A-Za-z]{0,70}") {
            let s = format!("{PREFIX}{body}");
            if let Ok((id, _)) = parse(&s) {
                // Only a value whose checksum matches can parse; re-encoding
                // the id it names must give back a well-formed token.
                prop_assert!(generate(id).is_ok());
            }
        }

        #[test]
        fn minted_tokens_always_parse(bytes in any::<[u8; 16]>()) {
            let id = Uuid::from_bytes(bytes);
            let t = generate(id).unwrap();
            prop_assert_eq!(parse(t.expose()).unwrap().0, id);
        }
    }
}
