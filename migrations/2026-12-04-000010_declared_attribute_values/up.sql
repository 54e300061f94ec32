-- The values of declared attributes, one row per value, so that a filter
-- `eq` on one is an index lookup rather than a scan of the organization's
-- documents, and `uniqueness: "server"` is a unique index, enforced under
-- concurrency by PostgreSQL itself (issue 16).
--
-- `scim_indexed_paths` lists, per organization and resource type, the
-- declared attributes (and sub-attributes of complex ones) whose values are
-- kept here; the service writes it with the declaration. A trigger keeps
-- `scim_attr_values` in step with every write of a resource's document,
-- whatever statement makes it (create, replace, PATCH, Bulk, a forced
-- schema change), in the same transaction. Organizations that declare
-- nothing have no paths, and the trigger finds none with one index probe.

CREATE TABLE scim_indexed_paths (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    resource_type text NOT NULL,
    -- The keys the value sits under in stored documents: the extension's
    -- URN as first declared, the attribute, and '' or the sub-attribute.
    urn           text NOT NULL,
    attr          text NOT NULL,
    sub           text NOT NULL DEFAULT '',
    -- What a filter looks the value up by: the folded `urn:attr[.sub]`.
    path          text NOT NULL,
    case_exact    boolean NOT NULL,
    is_unique     boolean NOT NULL,
    PRIMARY KEY (org_id, resource_type, path)
);

CREATE TABLE scim_attr_values (
    org_id        uuid NOT NULL,
    resource_type text NOT NULL,
    resource_id   uuid NOT NULL,
    path          text NOT NULL,
    -- The value as text: strings folded unless caseExact, numbers without
    -- trailing zeros, booleans as JSON writes them.
    value         text NOT NULL,
    is_unique     boolean NOT NULL
);
CREATE INDEX scim_attr_values_lookup ON scim_attr_values (org_id, resource_type, path, value);
CREATE INDEX scim_attr_values_resource ON scim_attr_values (resource_id);
CREATE UNIQUE INDEX scim_attr_values_unique
    ON scim_attr_values (org_id, resource_type, path, value) WHERE is_unique;

-- The indexed values of one document: each element of a multi-valued
-- attribute, each sub-attribute of each element of a complex one; JSON
-- null, objects and arrays are not values.
CREATE FUNCTION scim_declared_values(d jsonb, org uuid, rt text)
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

CREATE FUNCTION scim_index_declared_values() RETURNS trigger
    LANGUAGE plpgsql
AS $f$
DECLARE
    org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
BEGIN
    -- The common case, an organization that declared nothing to index,
    -- costs this one probe. (Removing a declaration removes its values.)
    IF NOT EXISTS (SELECT 1 FROM scim_indexed_paths p
                   WHERE p.org_id = org AND p.resource_type = TG_ARGV[0]) THEN
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
        SELECT NEW.org_id, TG_ARGV[0], NEW.id, v.path, v.value, v.is_unique
        FROM scim_declared_values(NEW.doc, NEW.org_id, TG_ARGV[0]) v;
    END IF;
    RETURN NULL;
END
$f$;

CREATE TRIGGER scim_users_declared_values
    AFTER INSERT OR UPDATE OF doc OR DELETE ON scim_users
    FOR EACH ROW EXECUTE FUNCTION scim_index_declared_values('User');
CREATE TRIGGER scim_groups_declared_values
    AFTER INSERT OR UPDATE OF doc OR DELETE ON scim_groups
    FOR EACH ROW EXECUTE FUNCTION scim_index_declared_values('Group');
