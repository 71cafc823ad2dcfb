/**
 * The key record: what Portcullis knows about a key besides its hash. Times are epoch
 * milliseconds here and ISO 8601 at the API edge.
 */
import type { Limits } from "../policy/schema";

/** A JSON value, as kept in a key's `meta`. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface CreditRefill {
  interval: "day" | "month";
  amount: number;
}

export interface Credits {
  remaining: number;
  refill: CreditRefill | null;
}

/**
 * Who made a key (docs/admin-api.md#keys): the root token, an admin key, or a member through the
 * portal (its subject, and its display name when the token has one). The audit log's actors
 * have the same shape, plus the system's.
 */
export type Creator =
  | { type: "root" }
  | { type: "admin_key"; id: string }
  | { type: "portal"; id: string; name?: string };

/** The creator a change by `actor` records; null for the system, which creates no key. */
export function creatorOf(actor: Creator | { type: "system"; id: string }): Creator | null {
  return actor.type === "system" ? null : actor;
}

export interface KeyRecord {
  id: string;
  workspaceId: string;
  type: string;
  name: string | null;
  /** Display hint: the prefix, `_` and the first four characters after it. */
  start: string;
  ownerId: string | null;
  permissions: string[];
  roles: string[];
  meta: Record<string, Json>;
  plan: string | null;
  limits: Limits;
  credits: Credits | null;
  ipAllowlist: string[];
  enabled: boolean;
  expiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  rotatedFrom: string | null;
  /** Who created, imported or rotated it; null (or absent, in an object's state) for keys made before it was recorded. */
  createdBy: Creator | null;
}

/** What a decision tells about its key: enough to name it to the origin and to the caller. */
export type KeyIdentity = Pick<KeyRecord, "id" | "workspaceId" | "type" | "ownerId" | "meta" | "expiresAt">;

export function identityOf(record: KeyRecord): KeyIdentity {
  return {
    id: record.id,
    workspaceId: record.workspaceId,
    type: record.type,
    ownerId: record.ownerId,
    meta: record.meta,
    expiresAt: record.expiresAt,
  };
}

/** Rows 5-7 of docs/decisions.md, in order: the key's own state, whatever the request. */
export type LifecycleCode = "key_revoked" | "key_disabled" | "key_expired";

export function lifecycleCode(record: KeyRecord, now: number): LifecycleCode | null {
  if (record.revokedAt !== null) return "key_revoked";
  if (!record.enabled) return "key_disabled";
  if (record.expiresAt !== null && record.expiresAt <= now) return "key_expired";
  return null;
}
