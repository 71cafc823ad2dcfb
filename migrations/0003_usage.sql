-- Per-key, per-day usage, written behind by each key's Durable Object. See docs/storage-schema.md.

CREATE TABLE key_usage (
  key_id TEXT NOT NULL,
  -- UTC date, YYYY-MM-DD.
  day TEXT NOT NULL,
  -- `valid` for allowed requests, else the denial code.
  code TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, day, code)
);
