-- The extension stays: other objects in the database may use it.
DROP INDEX IF EXISTS scim_users_user_name_trgm_idx;
DROP INDEX IF EXISTS scim_users_display_name_trgm_idx;
DROP INDEX IF EXISTS scim_users_external_id_trgm_idx;
DROP INDEX IF EXISTS scim_groups_display_name_trgm_idx;
DROP INDEX IF EXISTS scim_groups_external_id_trgm_idx;
