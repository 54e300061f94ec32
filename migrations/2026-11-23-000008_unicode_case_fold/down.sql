DROP FUNCTION scim_fold(text);
