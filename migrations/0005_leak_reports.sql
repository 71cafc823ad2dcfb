-- Leak reports already acted on, one row per (key hash, report url): a replayed report changes
-- nothing again. See docs/storage-schema.md.

CREATE TABLE leak_reports (
  -- SHA-256 hex of the reported token (the key's hash); never the token itself.
  token_hash TEXT NOT NULL,
  -- Where GitHub found the token, as reported.
  url TEXT NOT NULL,
  -- Epoch ms.
  handled_at INTEGER NOT NULL,
  PRIMARY KEY (token_hash, url)
);
