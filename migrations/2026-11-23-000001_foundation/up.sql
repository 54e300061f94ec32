-- Organizations (tenants). Every token, user and group belongs to one.
CREATE TABLE organizations (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_name_lower_key ON organizations (lower(name));

-- A fixed id, so AUTH_SECRET maps to `default` without a lookup.
INSERT INTO organizations (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'default');

-- API tokens. Only an argon2id hash of the value is stored. An empty scope
-- list is a legacy token and counts as `all`.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes       text[] NOT NULL DEFAULT '{}',
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_by   text NOT NULL
);
CREATE INDEX api_tokens_org_created_idx ON api_tokens (org_id, created_at, id);
