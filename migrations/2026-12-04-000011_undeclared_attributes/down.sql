ALTER TABLE audit_log DROP COLUMN details;
ALTER TABLE organizations DROP COLUMN undeclared_attributes;
