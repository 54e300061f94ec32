-- `co`, `sw` and `ew` on declared string attributes read their value rows
-- (migration 10) through a trigram index instead of scanning the
-- organization's documents, as migration 7 does for userName and
-- displayName. Guarded the same way: without pg_trgm (or the privilege to
-- create it) those filters still work, by a scan.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        RAISE NOTICE 'scimd: pg_trgm is not installed; co/sw/ew on declared attributes will scan';
        RETURN;
    END IF;
    CREATE INDEX scim_attr_values_trgm_idx ON scim_attr_values USING gin (value gin_trgm_ops);
END
$$;
