-- SCIM resources. The full resource (without id, meta, password, members
-- and groups) is kept as JSONB; what clients look resources up by is copied
-- into typed, indexed columns. `*_ci` columns hold values case-folded by
-- scimd itself (Rust's Unicode lower-casing), so case-insensitive matching
-- does not depend on the database's locale. Every index leads with org_id:
-- every query is scoped to one organization.
CREATE TABLE scim_users (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_name     text NOT NULL,
    user_name_ci  text NOT NULL,
    external_id   text,
    display_name  text,
    display_name_ci text,
    active        boolean,
    emails_ci     text[] NOT NULL DEFAULT '{}',
    password_hash text,
    doc           jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    last_modified timestamptz NOT NULL,
    version       bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX scim_users_org_user_name_key ON scim_users (org_id, user_name_ci);
CREATE INDEX scim_users_org_id_idx ON scim_users (org_id, id);
CREATE INDEX scim_users_org_external_id_idx ON scim_users (org_id, external_id);
CREATE INDEX scim_users_org_display_name_idx ON scim_users (org_id, display_name_ci);
CREATE INDEX scim_users_org_created_idx ON scim_users (org_id, created_at, id);
CREATE INDEX scim_users_org_last_modified_idx ON scim_users (org_id, last_modified, id);
CREATE INDEX scim_users_emails_idx ON scim_users USING gin (emails_ci);

CREATE TABLE scim_groups (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    display_name    text NOT NULL,
    display_name_ci text NOT NULL,
    external_id     text,
    doc             jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    last_modified   timestamptz NOT NULL,
    version         bigint NOT NULL DEFAULT 1
);
CREATE INDEX scim_groups_org_id_idx ON scim_groups (org_id, id);
CREATE INDEX scim_groups_org_display_name_idx ON scim_groups (org_id, display_name_ci);
CREATE INDEX scim_groups_org_external_id_idx ON scim_groups (org_id, external_id);
CREATE INDEX scim_groups_org_created_idx ON scim_groups (org_id, created_at, id);
CREATE INDEX scim_groups_org_last_modified_idx ON scim_groups (org_id, last_modified, id);

-- Membership is rows, not a JSON array: adding or removing one member
-- touches one row. member_id names a user or a group (member_type says
-- which); deleting either removes its rows in the same transaction.
CREATE TABLE scim_group_members (
    group_id    uuid NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    member_id   uuid NOT NULL,
    member_type text NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX scim_group_members_member_idx ON scim_group_members (member_id);
