-- Workspaces, hashed key records and the audit log. See docs/storage-schema.md.
-- Times are epoch milliseconds (UTC); JSON columns hold arrays and objects.

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  plan TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE keys (
  id TEXT PRIMARY KEY,
  -- SHA-256 hex of the whole key: the only form in which a key is stored.
  hash TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  type TEXT NOT NULL,
  start TEXT NOT NULL,
  name TEXT,
  owner_id TEXT,
  permissions TEXT NOT NULL DEFAULT '[]',
  roles TEXT NOT NULL DEFAULT '[]',
  meta TEXT NOT NULL DEFAULT '{}',
  plan TEXT,
  limits TEXT NOT NULL DEFAULT '{}',
  credits TEXT,
  ip_allowlist TEXT NOT NULL DEFAULT '[]',
  enabled INTEGER NOT NULL DEFAULT 1,
  expires_at INTEGER,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER,
  rotated_from TEXT,
  -- Set by DELETE: the record is gone from the API but its hash stays reserved.
  deleted_at INTEGER
);

CREATE UNIQUE INDEX keys_by_hash ON keys (hash);
CREATE INDEX keys_by_workspace ON keys (workspace_id, created_at DESC, id DESC);
CREATE INDEX keys_by_owner ON keys (workspace_id, owner_id);

CREATE TABLE audit_log (
  -- Insertion order; newest first is seq DESC.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  at INTEGER NOT NULL,
  workspace_id TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  before TEXT,
  after TEXT
);

CREATE INDEX audit_by_workspace ON audit_log (workspace_id, seq DESC);
