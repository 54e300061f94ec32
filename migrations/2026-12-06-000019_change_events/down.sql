ALTER TABLE audit_log DROP COLUMN request_id, DROP COLUMN connector_id;
DROP TABLE dead_letters;
DROP TABLE subscriptions;
DROP TABLE event_counters;
DROP TABLE change_events;
