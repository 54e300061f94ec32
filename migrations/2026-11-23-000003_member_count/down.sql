ALTER TABLE scim_groups DROP COLUMN member_count;
