DROP TRIGGER scim_users_count_insert ON scim_users;
DROP TRIGGER scim_users_count_delete ON scim_users;
DROP TRIGGER scim_groups_count_insert ON scim_groups;
DROP TRIGGER scim_groups_count_delete ON scim_groups;
DROP FUNCTION resource_counts_track();
DROP TABLE resource_counts;
