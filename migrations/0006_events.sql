-- Events (docs/events.md) and their deliveries to the policy's webhooks. See
-- docs/storage-schema.md.

CREATE TABLE events (
  -- Order of insertion: the list's sort key, newest first.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  -- evt_ + 20 base62: the `webhook-id` of every delivery attempt.
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  -- When it happened, epoch ms.
  at INTEGER NOT NULL,
  workspace_id TEXT NOT NULL,
  -- JSON: the key's identity and the event's own fields; never a secret.
  data TEXT NOT NULL,
  -- 1 once the queue's consumer has seen the event; 0 = the sweep sends it (again).
  dispatched INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX events_workspace ON events (workspace_id, seq);
CREATE INDEX events_undispatched ON events (dispatched, at);
CREATE INDEX events_at ON events (at);

CREATE TABLE event_deliveries (
  event_id TEXT NOT NULL,
  -- Index of the webhook in the policy's `webhooks`.
  webhook INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  -- POSTs made so far.
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Epoch ms of the last POST; null before the first.
  last_attempt_at INTEGER,
  PRIMARY KEY (event_id, webhook)
);
