ALTER TABLE api_tokens
    DROP COLUMN previous_secret_hash,
    DROP COLUMN previous_valid_until,
    DROP COLUMN last_used_from;
