-- Events (docs/events.md): GET /events lists by the time of each event, newest first. See
-- docs/storage-schema.md.

-- Listing one workspace's events newest first (`at DESC, seq DESC`) reads this index in order:
-- `seq` is the rowid, the index's last column. `events_at` serves the listing of every workspace.
DROP INDEX events_workspace;
CREATE INDEX events_workspace_at ON events (workspace_id, at);
