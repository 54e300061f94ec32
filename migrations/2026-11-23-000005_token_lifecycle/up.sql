-- Rotation without downtime: the previous value's hash stays valid until
-- previous_valid_until. And where a token was last used from.
ALTER TABLE api_tokens
    ADD COLUMN previous_secret_hash text,
    ADD COLUMN previous_valid_until timestamptz,
    ADD COLUMN last_used_from text;
