-- The portal's maximums count active keys, and a predecessor in its rotation grace is not one:
-- finding a key's successor by `rotated_from` must not scan the workspace's keys.
-- See docs/storage-schema.md.
CREATE INDEX keys_by_rotated_from ON keys (rotated_from) WHERE rotated_from IS NOT NULL;
