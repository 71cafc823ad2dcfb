-- Per-key, per-hour usage, written behind by each key's Durable Object and kept 7 days.
-- See docs/storage-schema.md.

CREATE TABLE key_usage_hourly (
  key_id TEXT NOT NULL,
  -- Start of the UTC hour, YYYY-MM-DDTHH:00:00Z.
  hour TEXT NOT NULL,
  -- `valid` for allowed requests, else the denial code.
  code TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, hour, code)
);
