-- Connectors (issue 17): each identity source an organization provisions
-- from (an Entra ID app, an Okta app, a script), with its own tokens, its
-- compatibility profile and, when set, its own ownership policy. Part of
-- what an organization's registry is built from, so a change bumps
-- `organizations.schema_version` and every instance serves it from its
-- next request.
CREATE TABLE connectors (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    kind            text NOT NULL CHECK (kind IN ('okta', 'entra', 'generic')),
    profile         text NOT NULL CHECK (profile IN ('lenient', 'okta', 'entra', 'strict')),
    -- NULL: the organization's policy.
    ownership       text CHECK (ownership IN ('shared', 'owned')),
    rate_per_second double precision CHECK (rate_per_second > 0),
    rate_burst      integer CHECK (rate_burst > 0),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((rate_per_second IS NULL) = (rate_burst IS NULL))
);
CREATE UNIQUE INDEX connectors_org_name_key ON connectors (org_id, lower(name));

-- A connector's tokens go with it.
ALTER TABLE api_tokens
    ADD COLUMN connector_id uuid REFERENCES connectors (id) ON DELETE CASCADE;
CREATE INDEX api_tokens_connector_idx ON api_tokens (connector_id) WHERE connector_id IS NOT NULL;

-- Organization policies. Organizations that exist now keep today's
-- behaviour (any credential may change anything); new ones default to
-- `owned`.
ALTER TABLE organizations
    ADD COLUMN ownership text NOT NULL DEFAULT 'shared' CHECK (ownership IN ('shared', 'owned')),
    ADD COLUMN delete_mode text NOT NULL DEFAULT 'hard' CHECK (delete_mode IN ('hard', 'soft')),
    ADD COLUMN retention_days integer NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650);
ALTER TABLE organizations ALTER COLUMN ownership SET DEFAULT 'owned';

-- Who created each resource, who owns it now (an admin can transfer it),
-- and whose `externalId` it holds (RFC 7643 §3.1: the identifier "issued
-- by the provisioning client"). NULL: a credential with no connector.
-- No foreign key: the provenance outlives a deleted connector.
ALTER TABLE scim_users
    ADD COLUMN created_by_connector uuid,
    ADD COLUMN owner_connector uuid,
    ADD COLUMN external_id_connector uuid;
ALTER TABLE scim_groups
    ADD COLUMN created_by_connector uuid,
    ADD COLUMN owner_connector uuid,
    ADD COLUMN external_id_connector uuid;
ALTER TABLE scim_resources
    ADD COLUMN created_by_connector uuid,
    ADD COLUMN owner_connector uuid,
    ADD COLUMN external_id_connector uuid;
-- For a transfer and for "does this connector still own anything".
CREATE INDEX scim_users_owner_idx ON scim_users (org_id, owner_connector) WHERE owner_connector IS NOT NULL;
CREATE INDEX scim_groups_owner_idx ON scim_groups (org_id, owner_connector) WHERE owner_connector IS NOT NULL;
CREATE INDEX scim_resources_owner_idx ON scim_resources (org_id, owner_connector) WHERE owner_connector IS NOT NULL;
