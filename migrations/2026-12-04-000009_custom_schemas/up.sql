-- Extension schemas an organization declares at runtime (issue 16). The
-- definition is kept as the client wrote it (RFC 7643 §7 representation),
-- validated before it is stored; `urn_key` is the URN folded, since URNs
-- compare case-insensitively (RFC 7643 §2.1).
CREATE TABLE scim_schemas (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    urn_key    text NOT NULL,
    urn        text NOT NULL CHECK (char_length(urn) BETWEEN 1 AND 300),
    extends    text NOT NULL CHECK (char_length(extends) BETWEEN 1 AND 100),
    required   boolean NOT NULL DEFAULT false,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, urn_key)
);

-- Bumped in the transaction that changes an organization's schemas, so that
-- every instance can tell, inside the statement a request already runs,
-- whether the registry it holds is still the current one.
ALTER TABLE organizations ADD COLUMN schema_version bigint NOT NULL DEFAULT 0;
