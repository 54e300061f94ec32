-- Soft delete (issue 17). Under `delete_mode = 'soft'` a SCIM DELETE moves
-- the resource's row here, whole (`to_jsonb` of the row, so a restore puts
-- back every column, its id included), with the memberships it had, and
-- then deletes it as a hard delete does: it answers 404 everywhere, leaves
-- every list, filter and member list, and frees its userName. Kept until
-- the organization's retention period ends (a purge job removes it then).
CREATE TABLE deleted_resources (
    id                    uuid PRIMARY KEY,
    org_id                uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- `User`, `Group`, or a declared type's folded name.
    resource_type         text NOT NULL,
    -- The table it came from: scim_users, scim_groups or scim_resources.
    source                text NOT NULL CHECK (source IN ('scim_users', 'scim_groups', 'scim_resources')),
    row_data              jsonb NOT NULL,
    -- The groups that held it, and (a group's) its members.
    member_of             uuid[] NOT NULL DEFAULT '{}',
    members               jsonb NOT NULL DEFAULT '[]',
    external_id           text,
    external_id_connector uuid,
    display               text,
    deleted_at            timestamptz NOT NULL,
    deleted_by            text NOT NULL
);
CREATE INDEX deleted_resources_org_idx ON deleted_resources (org_id, deleted_at DESC, id);
-- A connector re-creating what it deleted finds it by its externalId.
CREATE INDEX deleted_resources_external_idx
    ON deleted_resources (org_id, resource_type, external_id_connector, external_id)
    WHERE external_id IS NOT NULL;
