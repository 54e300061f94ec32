ALTER TABLE organizations DROP COLUMN log_key;
DROP TABLE request_log;
