-- How many users and groups each organization holds, so an unfiltered list
-- answers its exact totalResults by summing a few rows instead of counting
-- a million (a cursor page deep in a large directory would otherwise cost a
-- full count on every page).
--
-- Triggers keep it, so no write path (Bulk, restore, a future one) can
-- forget it, and the change commits or rolls back with the rows it counts.
-- Each (organization, type) is spread over 16 slots picked by backend, so
-- concurrent creates in one organization update different rows instead of
-- queueing on one; the total is the sum of the slots. Statement-level
-- triggers with transition tables cost one upsert per statement, not per
-- row, which keeps multi-row INSERTs (seeding, restore) cheap.
CREATE TABLE resource_counts (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    resource_type text NOT NULL CHECK (resource_type IN ('User', 'Group')),
    slot          smallint NOT NULL,
    n             bigint NOT NULL,
    PRIMARY KEY (org_id, resource_type, slot)
);

CREATE FUNCTION resource_counts_track() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The join skips rows of an organization deleted in this same
    -- transaction (its counts go with it through the foreign key).
    INSERT INTO resource_counts AS c (org_id, resource_type, slot, n)
    SELECT changed.org_id, TG_ARGV[0], pg_backend_pid() % 16,
           CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END
      FROM changed
      JOIN organizations o ON o.id = changed.org_id
     GROUP BY changed.org_id
    ON CONFLICT (org_id, resource_type, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER scim_users_count_insert AFTER INSERT ON scim_users
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_track('User');
CREATE TRIGGER scim_users_count_delete AFTER DELETE ON scim_users
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_track('User');
CREATE TRIGGER scim_groups_count_insert AFTER INSERT ON scim_groups
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_track('Group');
CREATE TRIGGER scim_groups_count_delete AFTER DELETE ON scim_groups
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_track('Group');

INSERT INTO resource_counts (org_id, resource_type, slot, n)
SELECT org_id, 'User', 0, count(*) FROM scim_users GROUP BY org_id;
INSERT INTO resource_counts (org_id, resource_type, slot, n)
SELECT org_id, 'Group', 0, count(*) FROM scim_groups GROUP BY org_id;
