-- Kept up to date by every membership change (+added, -removed), so the
-- size of a group is known without counting its rows.
ALTER TABLE scim_groups ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
UPDATE scim_groups g
   SET member_count = (SELECT count(*) FROM scim_group_members m WHERE m.group_id = g.id);
