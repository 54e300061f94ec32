-- Change events (issue 18): the transactional outbox. Every committed
-- change to a User, Group or declared-type resource writes its row here in
-- the same statement or transaction as the change, so an event exists if
-- and only if the change committed.
--
-- `id` comes from a sequence when the row is inserted, which every write
-- does after it holds the resource's row (locked, or conditioned on its
-- version): two changes to one resource get ids in the order they
-- committed. `seq`, the per-organization number receivers see, is given
-- later by the dispatcher (one at a time, under an advisory lock) to the
-- rows it sees committed, in `id` order: numbers are dense, never reused,
-- and a number once seen is never preceded by one that appears later.
--
-- No primary key: every index on this table is paid by every write on the
-- request path. The insert touches only the heap and the small partial
-- index of rows waiting for a number; the indexes readers use are partial
-- on numbered rows and are filled by the dispatcher, off the request path.
CREATE TABLE change_events (
    id             bigserial NOT NULL,
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    seq            bigint,
    at             timestamptz NOT NULL,
    resource_type  text NOT NULL,
    resource_id    uuid NOT NULL,
    external_id    text,
    -- The resource's meta.version after the change; NULL for a delete.
    version        bigint,
    -- create, replace, patch, delete, restore.
    action         text NOT NULL,
    -- activate or deactivate when `active` changed (false <-> true).
    activation     text,
    -- A group's membership change, proportional to the change:
    -- {"added": [ids], "removed": [ids]}, or {"replaced": true, ...}.
    members        jsonb,
    actor_token_id uuid,
    actor_name     text NOT NULL,
    connector_id   uuid,
    request_id     text
);
CREATE INDEX change_events_unnumbered_idx ON change_events (id) WHERE seq IS NULL;
CREATE UNIQUE INDEX change_events_seq_idx ON change_events (org_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX change_events_at_idx ON change_events (org_id, at) WHERE seq IS NOT NULL;

-- The last number given in each organization.
CREATE TABLE event_counters (
    org_id   uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    last_seq bigint NOT NULL
);

-- Where events go. A subscription reads its organization's events in
-- `seq` order from `position` (the last one it has finished with), so a
-- slow or dead receiver holds back only itself. Secrets are sealed with the
-- server's key (never stored in clear); `key_id` says which key.
CREATE TABLE subscriptions (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    format           text NOT NULL,
    url              text,
    events           text[],
    resource_types   text[],
    payload          text NOT NULL,
    secret           bytea,
    previous_secret  bytea,
    previous_until   timestamptz,
    key_id           bytea,
    paused           boolean NOT NULL DEFAULT false,
    position         bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- The delivery of the events after `position`, while it fails.
    attempts         integer NOT NULL DEFAULT 0,
    failing_since    timestamptz,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    last_status      smallint,
    last_error       text,
    delivered        bigint NOT NULL DEFAULT 0,
    -- Which instance's worker holds it, until when.
    lease_owner      uuid,
    lease_until      timestamptz
);
CREATE INDEX subscriptions_org_idx ON subscriptions (org_id);

-- Events a subscription gave up on after its retry window; replayable.
CREATE TABLE dead_letters (
    subscription_id uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    org_id          uuid NOT NULL,
    parked_at       timestamptz NOT NULL,
    attempts        integer NOT NULL,
    last_status     smallint,
    last_error      text,
    PRIMARY KEY (subscription_id, seq)
);

-- Which request and which connector made each audited change: an audit
-- entry and its change event say the same, and an admin can go from an
-- entry to the connector's request log.
ALTER TABLE audit_log ADD COLUMN request_id text, ADD COLUMN connector_id uuid;
