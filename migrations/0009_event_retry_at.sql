-- Events (docs/events.md): the sweep sends again an event whose delivery is pending well past
-- the time its next attempt was due (the queue lost the retry). See docs/storage-schema.md.

-- When the next attempt of a pending delivery is due, epoch ms; null once delivered or failed,
-- or once the policy no longer sends the event to that webhook.
ALTER TABLE event_deliveries ADD COLUMN retry_at INTEGER;

-- Deliveries pending before this migration: due at the retry their last attempt asked for (the
-- backoff of webhook-delivery.ts), or when the event happened if none was made.
UPDATE event_deliveries
SET retry_at = CASE
  WHEN attempts = 0 OR last_attempt_at IS NULL
    THEN (SELECT at FROM events WHERE events.id = event_deliveries.event_id)
  ELSE last_attempt_at + 1000 * CASE MIN(attempts, 8)
    WHEN 1 THEN 5 WHEN 2 THEN 30 WHEN 3 THEN 60 WHEN 4 THEN 120
    WHEN 5 THEN 300 WHEN 6 THEN 600 WHEN 7 THEN 900 ELSE 1800 END
END
WHERE status = 'pending';

CREATE INDEX event_deliveries_retry ON event_deliveries (retry_at) WHERE retry_at IS NOT NULL;
