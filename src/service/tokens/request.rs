//! The body of `POST /api/v1/tokens` (and the `scimd token create` flags),
//! checked field by field into a [`NewToken`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use validator::Validate;

use crate::auth::scope::Scope;
use crate::service::FieldError;

/// The body of `POST /api/v1/tokens`. Scopes and expiry arrive as strings so
/// a bad one gets an error naming the field, not a generic parse failure.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[validate(custom(
        function = "printable",
        message = "must not contain control characters"
    ))]
    pub name: String,
    #[validate(length(min = 1, message = "must list at least one scope"))]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The token's own rate limit (issue 17).
    #[serde(default)]
    pub rate_limit: Option<RateLimitRequest>,
}

/// `{"per_second": N, "burst": M}` as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitRequest {
    pub per_second: f64,
    /// A whole number; read as a number so that `10.0` is 10, not a
    /// type error.
    pub burst: f64,
}

/// Most requests per second a rate limit may allow, and the largest burst:
/// beyond them a limit protects nothing.
const MAX_RATE: f64 = 100_000.0;
const MAX_BURST: f64 = 1_000_000.0;

/// `r` as stored (per second, burst), or what is wrong with it.
pub(crate) fn check_rate(r: &RateLimitRequest, errors: &mut Vec<FieldError>) -> Option<(f64, i32)> {
    let mut ok = true;
    if !(r.per_second.is_finite() && r.per_second > 0.0 && r.per_second <= MAX_RATE) {
        errors.push(FieldError {
            field: "rate_limit.per_second".into(),
            message: format!("must be a number above 0 and at most {MAX_RATE}"),
        });
        ok = false;
    }
    if !(r.burst.fract() == 0.0 && (1.0..=MAX_BURST).contains(&r.burst)) {
        errors.push(FieldError {
            field: "rate_limit.burst".into(),
            message: format!("must be an integer from 1 to {MAX_BURST}"),
        });
        ok = false;
    }
    // Within 1..=MAX_BURST and whole, so the cast is exact.
    ok.then_some((r.per_second, r.burst as i32))
}

fn printable(name: &str) -> Result<(), validator::ValidationError> {
    // An empty name is the length rule's to report; this one catches blank ones.
    if name.chars().any(char::is_control) || (!name.is_empty() && name.trim().is_empty()) {
        return Err(validator::ValidationError::new("printable"));
    }
    Ok(())
}

/// A request that passed validation.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The connector the token is minted for (`service::connectors`); a
    /// token created through `/api/v1/tokens` has none.
    pub connector: Option<uuid::Uuid>,
    /// Requests per second and burst, when limited.
    pub rate: Option<(f64, i32)>,
}

impl CreateTokenRequest {
    pub fn check(self, now: DateTime<Utc>) -> Result<NewToken, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = match self.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .field_errors()
                .iter()
                .flat_map(|(field, errs)| {
                    errs.iter().map(move |err| FieldError {
                        field: field.to_string(),
                        message: err
                            .message
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_else(|| "is invalid".into()),
                    })
                })
                .collect(),
        };
        let mut scopes = Vec::new();
        for s in &self.scopes {
            match s.parse::<Scope>() {
                Ok(sc) if !scopes.contains(&sc) => scopes.push(sc),
                Ok(_) => {}
                Err(e) => errors.push(FieldError {
                    field: "scopes".into(),
                    message: e.to_string(),
                }),
            }
        }
        let expires_at = match &self.expires_at {
            None => None,
            Some(text) => match DateTime::parse_from_rfc3339(text) {
                Ok(t) if t.with_timezone(&Utc) > now => Some(t.with_timezone(&Utc)),
                Ok(_) => {
                    errors.push(FieldError {
                        field: "expires_at".into(),
                        message: "must be in the future".into(),
                    });
                    None
                }
                Err(_) => {
                    errors.push(FieldError {
                        field: "expires_at".into(),
                        message: "must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z".into(),
                    });
                    None
                }
            },
        };
        let rate = self
            .rate_limit
            .as_ref()
            .and_then(|r| check_rate(r, &mut errors));
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(errors);
        }
        Ok(NewToken {
            name: self.name,
            scopes,
            expires_at,
            connector: None,
            rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn req(name: &str, scopes: &[&str], exp: Option<&str>) -> CreateTokenRequest {
        CreateTokenRequest {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: exp.map(str::to_string),
            rate_limit: None,
        }
    }

    fn fields(r: CreateTokenRequest) -> Vec<String> {
        r.check(now())
            .unwrap_err()
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn valid_request_passes() {
        let t = req(
            "okta",
            &["admin:scim", "admin:scim"],
            Some("2026-02-01T00:00:00Z"),
        )
        .check(now())
        .unwrap();
        assert_eq!(t.scopes, vec![Scope::AdminScim]);
        assert!(t.expires_at.is_some());
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(fields(req("", &["all"], None)), ["name"]);
        assert_eq!(fields(req(&"x".repeat(101), &["all"], None)), ["name"]);
        assert_eq!(fields(req("a\u{7}", &["all"], None)), ["name"]);
        assert_eq!(fields(req("ok", &[], None)), ["scopes"]);
        assert_eq!(fields(req("ok", &["root"], None)), ["scopes"]);
        assert_eq!(
            fields(req("ok", &["all"], Some("2025-01-01T00:00:00Z"))),
            ["expires_at"]
        );
        assert_eq!(
            fields(req("ok", &["all"], Some("tomorrow"))),
            ["expires_at"]
        );
    }

    #[test]
    fn name_length_counts_characters() {
        assert!(req(&"é".repeat(100), &["all"], None).check(now()).is_ok());
    }
}
