-- Workspaces name the provider's organisation they serve (externalId), and keys who made them
-- (createdBy). See docs/storage-schema.md.

-- The provider's own id of the organisation, or NULL; unique in the deployment (NULLs repeat).
ALTER TABLE workspaces ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX workspaces_by_external_id ON workspaces (external_id);

-- JSON {type, id?} of who created, imported or rotated the key; NULL for keys made before.
ALTER TABLE keys ADD COLUMN created_by TEXT;
