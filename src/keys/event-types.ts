/**
 * The names of the events Portcullis raises (docs/events.md). A module without imports: the
 * policy's schema (which webhooks may filter on) and the events themselves both need the list.
 */
export const EVENT_TYPES = [
  "key.created",
  "key.updated",
  "key.revoked",
  "key.deleted",
  "key.rotated",
  "key.leaked",
  "owner.revoked",
  "credits.low",
  "credits.exhausted",
  "quota.exceeded",
  "ratelimit.exceeded",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
