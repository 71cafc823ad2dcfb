-- Owners (SPEC 10): the shared limits and credits set for the keys of one owner id in a
-- workspace with PUT /owners/:ownerId. See docs/storage-schema.md. The owner's live counters
-- and balance are kept by its Durable Object; these rows are the settings, for listing.

CREATE TABLE owners (
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  owner_id TEXT NOT NULL,
  -- JSON Limits, as in keys.limits; 0 or absent = no owner limit for that window.
  limits TEXT NOT NULL DEFAULT '{}',
  -- JSON {remaining, refill} as set, or NULL.
  credits TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- Also the listing's index: GET /owners pages by owner_id within a workspace.
  PRIMARY KEY (workspace_id, owner_id)
);
