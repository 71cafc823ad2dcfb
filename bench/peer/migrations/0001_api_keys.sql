-- The peer's key table: SHA-256 hex of each key.
CREATE TABLE api_keys (hash TEXT PRIMARY KEY);
