DROP TRIGGER scim_resources_declared_values ON scim_resources;
DROP FUNCTION scim_index_declared_resource_values();
CREATE OR REPLACE FUNCTION scim_declared_values(d jsonb, org uuid, rt text)
    RETURNS TABLE (path text, value text, is_unique boolean)
    LANGUAGE sql STABLE PARALLEL SAFE
AS $f$
    SELECT DISTINCT p.path,
           CASE jsonb_typeof(l.v)
                WHEN 'string' THEN CASE WHEN p.case_exact THEN l.v #>> '{}'
                                        ELSE scim_fold(l.v #>> '{}') END
                -- 1017.0 and 1017 are one integer.
                WHEN 'number' THEN trim_scale((l.v #>> '{}')::numeric)::text
                ELSE l.v #>> '{}' END,
           p.is_unique
    FROM scim_indexed_paths p
    CROSS JOIN LATERAL (
        SELECT d -> p.urn -> p.attr AS top
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
