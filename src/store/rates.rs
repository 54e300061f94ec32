//! Shared rate-limit buckets (issue 17): a token bucket per connector (or
//! token) in `rate_buckets`, from which each instance leases a slice at a
//! time (`service::rates`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::StoreError;

#[derive(QueryableByName)]
struct Leased {
    #[diesel(sql_type = Double)]
    granted: f64,
    #[diesel(sql_type = Double)]
    left: f64,
}

/// Takes up to `want` whole tokens from bucket `key` (refilled at `rate`
/// per second up to `burst` since it was last touched), in one statement
/// that creates the bucket full on first use. Returns what was granted and
/// what is left in the bucket (less than one when nothing was granted).
pub fn lease(
    conn: &mut PgConnection,
    key: Uuid,
    rate: f64,
    burst: f64,
    want: f64,
    now: DateTime<Utc>,
) -> Result<(f64, f64), StoreError> {
    // The row lock of the upsert serialises leases of one bucket across
    // instances; `now` is the caller's clock, so refill and the answer's
    // Retry-After agree.
    // One fixed text: what the bucket holds now (refilled since it was
    // last touched, at most `burst`) appears in each SET expression, which
    // all see the row as it was.
    let sql = "INSERT INTO rate_buckets AS r (key, tokens, updated_at, last_granted) \
         VALUES ($1, $2 - LEAST(floor($2), $5), $3, LEAST(floor($2), $5)) \
         ON CONFLICT (key) DO UPDATE SET \
         tokens = LEAST($2, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3 - r.updated_at))) * $4) - LEAST(floor(LEAST($2, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3 - r.updated_at))) * $4)), $5), \
         last_granted = LEAST(floor(LEAST($2, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3 - r.updated_at))) * $4)), $5), \
         updated_at = GREATEST(r.updated_at, $3) \
         RETURNING last_granted AS granted, tokens AS left";
    let r = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(key)
        .bind::<Double, _>(burst)
        .bind::<Timestamptz, _>(now)
        .bind::<Double, _>(rate)
        .bind::<Double, _>(want)
        .get_result::<Leased>(conn)?;
    Ok((r.granted, r.left))
}
