DROP TRIGGER scim_groups_declared_values ON scim_groups;
DROP TRIGGER scim_users_declared_values ON scim_users;
DROP FUNCTION scim_index_declared_values();
DROP FUNCTION scim_declared_values(jsonb, uuid, text);
DROP TABLE scim_attr_values;
DROP TABLE scim_indexed_paths;
