/**
 * Events (docs/events.md): what happened to a key, recorded in D1 and delivered to webhooks.
 * An event names its key by identity fields only: never the key, its hash or a webhook's URL.
 */
import type { EventType } from "./event-types";

export { EVENT_TYPES, type EventType } from "./event-types";

import type { KeyRecord } from "./record";

/** An event as stored and queued; `id` is the `webhook-id` of every delivery attempt. */
export interface PortcullisEvent {
  id: string;
  type: EventType;
  /** When it happened, epoch ms. */
  at: number;
  workspaceId: string;
  data: Record<string, unknown>;
}

/** The fields that name a key in every key event's `data`. */
export function keyData(record: KeyRecord): Record<string, unknown> {
  return {
    keyId: record.id,
    workspaceId: record.workspaceId,
    ownerId: record.ownerId,
    type: record.type,
    start: record.start,
  };
}

/** An event about `record`, with `extra` fields besides the key's identity. */
export function keyEvent(
  id: string,
  type: EventType,
  record: KeyRecord,
  at: number,
  extra: Record<string, unknown> = {},
): PortcullisEvent {
  return { id, type, at, workspaceId: record.workspaceId, data: { ...keyData(record), ...extra } };
}

/** Names of the record's fields a change altered (`updatedAt` aside): `data.changed` of `key.updated`. */
export function changedFields(before: KeyRecord, after: KeyRecord): string[] {
  return (Object.keys(after) as (keyof KeyRecord)[]).filter(
    (field) => field !== "updatedAt" && JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
}
