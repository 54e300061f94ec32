-- Trigram indexes answer `co`, `sw` and `ew` (LIKE '%x%', 'x%', '%x') on
-- the attributes people search by name, which otherwise scan the whole
-- table: an admin's search box sends `userName co "smith"`, and at a
-- million users that scan takes ~300 ms.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so
-- the database owner may create it. A server without it, or a role that may
-- not create it, still migrates: those filters then scan, as before, and
-- PostgreSQL logs the notice below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        RAISE NOTICE 'scimd: pg_trgm is not installed; co/sw/ew filters will scan';
        RETURN;
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'scimd: no privilege to create pg_trgm; co/sw/ew filters will scan';
        RETURN;
    END;
    CREATE INDEX scim_users_user_name_trgm_idx
        ON scim_users USING gin (user_name_ci gin_trgm_ops);
    CREATE INDEX scim_users_display_name_trgm_idx
        ON scim_users USING gin (display_name_ci gin_trgm_ops);
    CREATE INDEX scim_users_external_id_trgm_idx
        ON scim_users USING gin (external_id gin_trgm_ops);
    CREATE INDEX scim_groups_display_name_trgm_idx
        ON scim_groups USING gin (display_name_ci gin_trgm_ops);
    CREATE INDEX scim_groups_external_id_trgm_idx
        ON scim_groups USING gin (external_id gin_trgm_ops);
END
$$;
