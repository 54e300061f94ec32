//! Cursor pagination (RFC 9865). Pure: encoding, decoding and checking of
//! cursor values; the store turns a decoded [`Cursor`] into a keyset
//! condition (`WHERE (sort key, id) > (…)`), so a page deep into a large
//! result costs what the first page costs.
//!
//! Protocol (RFC 9865 §2):
//! - `cursor` present but empty asks for the first page; its value
//!   otherwise is a `nextCursor` or `previousCursor` from an earlier page;
//! - `nextCursor` is in every page but the last; `previousCursor` (optional
//!   in the RFC) is in every page but the first;
//! - errors are 400 `invalidCursor` (malformed, tampered with, or used with
//!   another filter, sort or organization than it was made for) and 400
//!   `expiredCursor` (older than [`CURSOR_TTL_SECS`]).
//!
//! A cursor is base64url (no padding: RFC 9865 allows only RFC 3986
//! unreserved characters) of a small JSON position followed by its CRC-32.
//! Cursors are not secrets and carry no authority: every query is scoped to
//! the caller's organization whatever the cursor says, and every value in it
//! is re-validated and bound as a parameter. The checksum only turns
//! corruption into a clean `invalidCursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::{ScimError, ScimResult, ScimType};
use super::list::{DEFAULT_COUNT, MAX_RESULTS};

/// How long a cursor stays valid (advertised as `cursorTimeout`).
pub const CURSOR_TTL_SECS: i64 = 3600;

/// Longest cursor value accepted; ours are well under 300 bytes.
const MAX_CURSOR_LEN: usize = 2048;

/// Tolerated clock difference between the instance that issued a cursor
/// and the one reading it.
const CLOCK_SKEW_SECS: i64 = 60;

/// The `cursor` request parameter (RFC 9865 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorRequest {
    /// `cursor` empty (or just present): the first page.
    First,
    /// A `nextCursor` / `previousCursor` value, not yet decoded.
    Token(String),
}

impl CursorRequest {
    pub fn from_param(value: &str) -> Self {
        let value = value.trim();
        if value.is_empty() {
            CursorRequest::First
        } else {
            CursorRequest::Token(value.to_string())
        }
    }
}

/// Which way a cursor walks from its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Rows after the position: a `nextCursor`.
    #[serde(rename = "n")]
    Next,
    /// Rows before the position: a `previousCursor`.
    #[serde(rename = "p")]
    Previous,
}

/// A decoded cursor: a position in the sorted result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "d")]
    pub direction: Direction,
    /// The sort key of the row at the position, in the store's text form;
    /// None when the row has no value (or the sort is by id alone).
    #[serde(rename = "k")]
    pub key: Option<String>,
    /// The id of the row at the position (the tie-breaker).
    #[serde(rename = "i")]
    pub id: Uuid,
    /// [`fingerprint`] of the query the cursor belongs to.
    #[serde(rename = "f")]
    pub fingerprint: String,
    /// Issue time, in Unix seconds.
    #[serde(rename = "t")]
    pub issued: i64,
}

/// Identifies a query for cursor reuse: the parts (organization, resource
/// type, canonical filter and sort) hashed, so a cursor cannot be replayed
/// against another query.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn invalid(detail: &str) -> ScimError {
    ScimError::bad_request(
        ScimType::InvalidCursor,
        format!("{detail}; send an empty cursor for the first page, then the nextCursor or previousCursor of a response"),
    )
}

impl Cursor {
    pub fn new(
        direction: Direction,
        key: Option<String>,
        id: Uuid,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Cursor {
            direction,
            key,
            id,
            fingerprint: fingerprint.to_string(),
            issued: now.timestamp(),
        }
    }

    /// The opaque cursor value for a response.
    pub fn encode(&self) -> String {
        // Serializing a struct of strings and numbers cannot fail; an empty
        // payload would just be rejected as invalid when it came back.
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Decodes `token` and checks it belongs to the query `fingerprint` and
    /// has not expired at `now`.
    ///
    /// # Errors
    ///
    /// 400 `invalidCursor` or `expiredCursor`.
    pub fn decode(token: &str, fingerprint: &str, now: DateTime<Utc>) -> ScimResult<Cursor> {
        if token.len() > MAX_CURSOR_LEN {
            return Err(invalid("the cursor is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid("the cursor is malformed"))?;
        let (payload, crc) = bytes
            .split_last_chunk::<4>()
            .ok_or_else(|| invalid("the cursor is malformed"))?;
        if crc32fast::hash(payload) != u32::from_be_bytes(*crc) {
            return Err(invalid("the cursor is malformed"));
        }
        let cursor: Cursor =
            serde_json::from_slice(payload).map_err(|_| invalid("the cursor is malformed"))?;
        if cursor.fingerprint != fingerprint {
            return Err(invalid(
                "the cursor belongs to a query with another filter or sort order",
            ));
        }
        let age = now.timestamp() - cursor.issued;
        if age < -CLOCK_SKEW_SECS {
            return Err(invalid("the cursor is malformed"));
        }
        if age > CURSOR_TTL_SECS {
            return Err(ScimError::bad_request(
                ScimType::ExpiredCursor,
                format!(
                    "the cursor has expired (cursors are valid for {CURSOR_TTL_SECS} seconds); start again with an empty cursor"
                ),
            ));
        }
        Ok(cursor)
    }
}

/// The `pagination` member of `/ServiceProviderConfig` (RFC 9865 §4).
/// Index paging stays the default so RFC 7644 clients see no change.
pub fn pagination_config() -> Value {
    json!({
        "cursor": true,
        "index": true,
        "defaultPaginationMethod": "index",
        "defaultPageSize": DEFAULT_COUNT,
        "maxPageSize": MAX_RESULTS,
        "cursorTimeout": CURSOR_TTL_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .expect("time")
    }

    fn sample() -> Cursor {
        Cursor::new(
            Direction::Next,
            Some("bjensen".into()),
            Uuid::from_u128(42),
            &fingerprint(&["org", "User", "", ""]),
            at(0),
        )
    }

    #[test]
    fn round_trips_with_unreserved_characters_only() {
        let c = sample();
        let token = c.encode();
        assert!(token
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
        assert_eq!(Cursor::decode(&token, &c.fingerprint, at(10)), Ok(c));
    }

    #[test]
    fn garbage_and_tampering_are_invalid_cursor() {
        let c = sample();
        let token = c.encode();
        let mut tampered = token.clone().into_bytes();
        tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        let long = "A".repeat(5000);
        let bad_crc = URL_SAFE_NO_PAD.encode(b"{}\0\0\0\0");
        for bad in [
            "",
            "!!!",
            "abc",
            tampered.as_str(),
            long.as_str(),
            bad_crc.as_str(),
        ] {
            let e = Cursor::decode(bad, &c.fingerprint, at(10)).expect_err(bad);
            assert_eq!(e.scim_type, Some(ScimType::InvalidCursor), "{bad}");
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn another_query_or_the_future_is_invalid() {
        let c = sample();
        let other = fingerprint(&["org", "User", "userName eq \"x\"", ""]);
        let e = Cursor::decode(&c.encode(), &other, at(10)).expect_err("other query");
        assert_eq!(e.scim_type, Some(ScimType::InvalidCursor));
        let e = Cursor::decode(&c.encode(), &c.fingerprint, at(-600)).expect_err("future");
        assert_eq!(e.scim_type, Some(ScimType::InvalidCursor));
    }

    #[test]
    fn old_cursors_expire() {
        let c = sample();
        assert!(Cursor::decode(&c.encode(), &c.fingerprint, at(CURSOR_TTL_SECS)).is_ok());
        let e = Cursor::decode(&c.encode(), &c.fingerprint, at(CURSOR_TTL_SECS + 1))
            .expect_err("expired");
        assert_eq!(e.scim_type, Some(ScimType::ExpiredCursor));
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a"]).len(), 24);
    }

    #[test]
    fn empty_cursor_means_first_page() {
        assert_eq!(CursorRequest::from_param(""), CursorRequest::First);
        assert_eq!(CursorRequest::from_param("  "), CursorRequest::First);
        assert_eq!(
            CursorRequest::from_param("abc"),
            CursorRequest::Token("abc".into())
        );
    }

    #[test]
    fn pagination_config_advertises_both_methods() {
        let p = pagination_config();
        assert_eq!(p["cursor"], true);
        assert_eq!(p["index"], true);
        assert_eq!(p["maxPageSize"], MAX_RESULTS);
        assert_eq!(p["cursorTimeout"], CURSOR_TTL_SECS);
    }
}
