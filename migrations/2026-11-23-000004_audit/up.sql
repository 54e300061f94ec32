-- Every change made through scimd, written in the same transaction as the
-- change itself: an entry exists exactly when the change committed.
-- Never holds a token value or a password.
CREATE TABLE audit_log (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL,
    actor_token_id uuid,
    actor_name     text NOT NULL,
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text NOT NULL,
    status         smallint NOT NULL
);
CREATE INDEX audit_log_org_at_idx ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_actor_at_idx ON audit_log (org_id, actor_token_id, at DESC, id DESC);
CREATE INDEX audit_log_org_resource_at_idx ON audit_log (org_id, resource_type, resource_id, at DESC, id DESC);
