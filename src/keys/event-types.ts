/**
 * The names of the events Portcullis raises (docs/events.md): the policy's schema (which webhooks
 * may filter on) and the events themselves both need the list. It imports only a type of the
 * client, which exports the same list for the CLI and other tools.
 */
import type { EVENT_TYPES as CLIENT_EVENT_TYPES } from "../client/index.ts";

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

/** `true` when A and B are the same union, `never` when either has a member the other lacks. */
type Same<A, B> = [A, B] extends [B, A] ? true : never;

// The client's list names exactly these types: `tsc` refuses this line when either list has one
// the other lacks (the client's is checked against the OpenAPI document's `EventType`).
true satisfies Same<EventType, (typeof CLIENT_EVENT_TYPES)[number]>;
