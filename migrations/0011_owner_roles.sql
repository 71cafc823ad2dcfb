-- Owners gain roles (PUT /owners/:ownerId/roles): the roles an ownerScoped key's permissions are
-- kept within. See docs/storage-schema.md.

-- JSON array of role names; '[]' (never set, or none) grants nothing.
ALTER TABLE owners ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
-- Epoch ms the roles are as of: a portal token issued at or before it does not change them;
-- NULL while they were never set.
ALTER TABLE owners ADD COLUMN roles_as_of INTEGER;
