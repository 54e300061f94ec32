-- Case-insensitive comparisons on attributes kept only in the JSON document
-- (title, department, ...) fold both sides in SQL. Plain lower() follows
-- the database's LC_CTYPE, and under the C locale the embedded cluster uses
-- (chosen so text compares by code point) it folds ASCII letters only:
-- `title eq "école"` missed `ÉCOLE`. ICU's root collation folds all of
-- Unicode, as scimd's own folding of the indexed columns does. PostgreSQL
-- built without ICU keeps lower(), and the gap, rather than failing.
--
-- A one-expression SQL function marked IMMUTABLE is inlined by the
-- planner, so calling it costs nothing over writing the expression.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        CREATE FUNCTION scim_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $f$ SELECT lower(t COLLATE "und-x-icu") $f$;
    ELSE
        RAISE NOTICE 'scimd: no ICU collation; JSON attributes fold ASCII case only';
        CREATE FUNCTION scim_fold(t text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $f$ SELECT lower(t) $f$;
    END IF;
END
$$;
