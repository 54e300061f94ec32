-- What an organization does with attributes nobody declared (issue 16):
-- 'reject' them with 400 invalidValue (as before), or 'ignore' them: the
-- write is accepted without them, and its audit entry lists what was
-- dropped (`details`), so an admin sees what the IdP sends and can declare
-- it. Part of what a registry is built from, so changing it bumps
-- `schema_version` like a schema change.
ALTER TABLE organizations
    ADD COLUMN undeclared_attributes text NOT NULL DEFAULT 'reject'
    CHECK (undeclared_attributes IN ('reject', 'ignore'));

ALTER TABLE audit_log ADD COLUMN details jsonb;
