-- Resource types an organization declares at runtime (issue 16), each with
-- its own endpoint under /scim/v2 and a core schema, kept as the client
-- wrote them (RFC 7643 §6 and §7 representations); and their resources,
-- one table for every declared type (`resource_type` is the type's name,
-- folded), read and written only within one organization.
CREATE TABLE scim_resource_types (
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name_key     text NOT NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    endpoint_key text NOT NULL,
    definition   jsonb NOT NULL,
    schema       jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, name_key),
    UNIQUE (org_id, endpoint_key)
);

CREATE TABLE scim_resources (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    resource_type text NOT NULL,
    external_id   text,
    doc           jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    last_modified timestamptz NOT NULL,
    version       bigint NOT NULL
);
CREATE INDEX scim_resources_org_type_idx ON scim_resources (org_id, resource_type, id);
