DROP TABLE scim_resources;
DROP TABLE scim_resource_types;
