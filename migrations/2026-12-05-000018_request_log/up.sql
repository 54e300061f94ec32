-- The request log (issue 17): every SCIM request a connector's token
-- makes, with what was sent and answered (bodies truncated at 64 KiB),
-- personal data replaced by a keyed hash unless SCIMD_REQUEST_LOG_PII=keep.
-- Written in batches off the request path; kept for
-- SCIMD_REQUEST_LOG_RETENTION_DAYS and at most SCIMD_REQUEST_LOG_MAX_ROWS
-- per organization.
CREATE TABLE request_log (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connector_id  uuid NOT NULL,
    at            timestamptz NOT NULL,
    method        text NOT NULL,
    route         text NOT NULL,
    path          text NOT NULL,
    query         text,
    status        smallint NOT NULL,
    duration_ms   double precision NOT NULL,
    request_id    text NOT NULL,
    resource_id   uuid,
    request_body  text,
    response_body text,
    truncated     boolean NOT NULL
);
-- The one index: what the admin API and the connector list read. Trimming
-- (every ten minutes) scans; each index more is paid on every logged
-- request.
CREATE INDEX request_log_connector_idx ON request_log (connector_id, at DESC, id DESC);

-- The key of each organization's hashes: stable, so equal values hash
-- equally across requests, instances and restarts; random per
-- organization, so a hash says nothing outside it.
ALTER TABLE organizations
    ADD COLUMN log_key bytea NOT NULL
    DEFAULT decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
