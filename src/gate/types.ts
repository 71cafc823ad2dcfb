/**
 * What the Worker and a key's Durable Object exchange: the admin changes it applies and the
 * outcomes it returns.
 */

import type { CreditRefill, KeyIdentity, KeyRecord } from "../keys/record";
import type { CreditOp } from "../limits/credits";
import type { Actor } from "../storage/audit";
import type { Counters, KeyDecision, Usage } from "./decide";

/** Who asked for an admin change, for the audit entry. */
export interface ChangeContext {
  actor: Actor;
  requestId: string;
  /** Id of the audit entry to write. */
  auditId: string;
}

/** Context a key's decision needs besides its record, changed by workspace and role edits. */
export interface ContextChange {
  workspacePlan?: string | null;
  /** New permissions of a role, or null when the role was deleted. */
  role?: { name: string; permissions: string[] | null };
}

/** The fields `PATCH /keys/:id` may change. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | "name"
    | "ownerId"
    | "permissions"
    | "roles"
    | "meta"
    | "plan"
    | "limits"
    | "expiresAt"
    | "enabled"
    | "ipAllowlist"
  >
>;

/** `POST /keys/:id/credits`. */
export interface CreditChange {
  op: CreditOp;
  amount: number;
  /** Replaces the refill when given; null removes it. */
  refill?: CreditRefill | null;
}

/** The decision and the key it was made on; null when this object holds no key. */
export type AuthorizeOutcome = { decision: KeyDecision; record: KeyIdentity } | null;

export type WriteOutcome =
  | { ok: true; record: KeyRecord }
  | { ok: false; code: "not_found" | "key_revoked" | "conflict" | "unavailable" };

/** A key as `GET /keys/:id` shows it: its live record and where it stands on its limits. */
export interface Inspection {
  record: KeyRecord;
  plan: string | null;
  usage: Usage;
}

/** What a key being rotated hands over to its successor. */
export interface HandOver {
  record: KeyRecord;
  workspacePlan: string | null;
  rolePermissions: Record<string, string[]>;
  counters: Counters;
  /** The key was rotated before: it has a successor already. */
  rotated: boolean;
}
