DROP INDEX IF EXISTS scim_attr_values_trgm_idx;
