ALTER TABLE organizations DROP COLUMN schema_version;
DROP TABLE scim_schemas;
