-- The value rows of migration 10 for the core attributes of declared
-- resource types too (issue 16): `eq`/`co`/`sw`/`ew` filters on them use the
-- index, and `uniqueness: "server"` is the same unique index. A core
-- attribute sits at the top of the document: its indexed path has `urn` ''.
-- `resource_type` is the type's folded name, as in `scim_resources`.
CREATE OR REPLACE FUNCTION scim_declared_values(d jsonb, org uuid, rt text)
    RETURNS TABLE (path text, value text, is_unique boolean)
    LANGUAGE sql STABLE PARALLEL SAFE
AS $f$
    SELECT DISTINCT p.path,
           CASE jsonb_typeof(l.v)
                WHEN 'string' THEN CASE WHEN p.case_exact THEN l.v #>> '{}'
                                        ELSE scim_fold(l.v #>> '{}') END
                WHEN 'number' THEN trim_scale((l.v #>> '{}')::numeric)::text
                ELSE l.v #>> '{}' END,
           p.is_unique
    FROM scim_indexed_paths p
    CROSS JOIN LATERAL (
        SELECT CASE WHEN p.urn = '' THEN d -> p.attr ELSE d -> p.urn -> p.attr END AS top
    ) t
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(t.top) = 'array' THEN t.top ELSE jsonb_build_array(t.top) END
    ) AS e(v)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN p.sub = '' THEN e.v ELSE e.v -> p.sub END AS v
    ) l
    WHERE p.org_id = org AND p.resource_type = rt
      AND jsonb_typeof(l.v) IN ('string', 'number', 'boolean')
$f$;

-- As `scim_index_declared_values`, for the one table of declared types,
-- whose rows name their type.
CREATE FUNCTION scim_index_declared_resource_values() RETURNS trigger
    LANGUAGE plpgsql
AS $f$
DECLARE
    org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
    rt text := CASE WHEN TG_OP = 'DELETE' THEN OLD.resource_type ELSE NEW.resource_type END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM scim_indexed_paths p
                   WHERE p.org_id = org AND p.resource_type = rt) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.doc IS NOT DISTINCT FROM OLD.doc THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM scim_attr_values WHERE resource_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO scim_attr_values (org_id, resource_type, resource_id, path, value, is_unique)
        SELECT NEW.org_id, rt, NEW.id, v.path, v.value, v.is_unique
        FROM scim_declared_values(NEW.doc, NEW.org_id, rt) v;
    END IF;
    RETURN NULL;
END
$f$;

CREATE TRIGGER scim_resources_declared_values
    AFTER INSERT OR UPDATE OF doc OR DELETE ON scim_resources
    FOR EACH ROW EXECUTE FUNCTION scim_index_declared_resource_values();
