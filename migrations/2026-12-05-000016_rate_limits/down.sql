DROP TABLE rate_buckets;
ALTER TABLE api_tokens
    DROP COLUMN rate_burst,
    DROP COLUMN rate_per_second;
