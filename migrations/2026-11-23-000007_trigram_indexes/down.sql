DROP INDEX IF EXISTS scim_users_user_name_trgm_idx;
DROP INDEX IF EXISTS scim_users_display_name_trgm_idx;
DROP INDEX IF EXISTS scim_users_external_id_trgm_idx;
DROP INDEX IF EXISTS scim_groups_display_name_trgm_idx;
DROP INDEX IF EXISTS scim_groups_external_id_trgm_idx;
-- up.sql created the extension, so down drops it and the schema is as it
-- was. RESTRICT (the default) makes the drop fail, rather than break
-- anything, when other objects in the database still depend on it.
DROP EXTENSION IF EXISTS pg_trgm RESTRICT;
