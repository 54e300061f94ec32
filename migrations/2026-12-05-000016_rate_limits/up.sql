-- Rate limits (issue 17). A token without a connector may carry its own
-- limit (a connector's is on the connector). The buckets are shared by
-- every instance: each leases a slice of a bucket's tokens at a time, so
-- the common request costs no round trip and the limit holds across
-- instances. `key` is the connector's id, or the token's for a token
-- without a connector.
ALTER TABLE api_tokens
    ADD COLUMN rate_per_second double precision CHECK (rate_per_second > 0),
    ADD COLUMN rate_burst integer CHECK (rate_burst > 0),
    ADD CHECK ((rate_per_second IS NULL) = (rate_burst IS NULL));

CREATE TABLE rate_buckets (
    key        uuid PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    -- What the last lease took: one statement both takes the tokens and
    -- reports how many, since RETURNING sees only the new row.
    last_granted double precision NOT NULL
);
