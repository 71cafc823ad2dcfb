/**
 * What the Worker and a key's Durable Object exchange: the admin changes it applies and the
 * outcomes it returns.
 */

import type { Counters, GateState, KeyDecision, Usage } from "../decision/decide";
import type { CreditRefill, KeyIdentity, KeyRecord } from "../keys/record";
import type { CreditOp } from "../limits/credits";
import type { Budget } from "../limits/lease";
import type { Actor } from "../storage/audit";
import type { CreateCap } from "../storage/keys";

export type { CreateCap };

/** Who asked for an admin change, for the audit entry. */
export interface ChangeContext {
  actor: Actor;
  requestId: string;
  /** Id of the audit entry to write. */
  auditId: string;
  /** An update or a rotation applies only if the key's `updatedAt` is still this; else `conflict`. */
  ifUnchangedSince?: number;
  /** The change raises no event of its own: its caller raises one for the whole operation (an owner revoke). */
  silent?: boolean;
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

/**
 * The decision and the key it was made on, with a lease when one was asked for and granted;
 * null when this object holds no key.
 */
export type AuthorizeOutcome = {
  decision: KeyDecision;
  record: KeyIdentity;
  lease?: LentLease | null;
} | null;

/**
 * Who may reach a key through the admin API: an admin key sees only its own workspace
 * (`workspaceId`), and changes an admin key only if it holds every permission that key holds
 * (`permissions`). Null fields: root, no limit.
 */
export interface AdminScope {
  workspaceId: string | null;
  /** The caller's admin permissions; null for root. */
  permissions: string[] | null;
}

export type WriteOutcome =
  | {
      ok: true;
      record: KeyRecord;
      /** The change is in force here but D1 is not written yet (it is retried until it is). */
      d1Pending: boolean;
      /** Nothing was changed: the key already was as asked (a revoke of a revoked key). */
      unchanged?: true;
    }
  | {
      ok: false;
      /** `absent`: this object holds no key yet (one created before objects were addressed by id). */
      /** `limit_reached`: a create's `CreateCap` was full, so nothing was written. */
      code:
        | "absent"
        | "not_found"
        | "key_revoked"
        | "conflict"
        | "forbidden"
        | "unavailable"
        | "limit_reached";
    };

/**
 * The key a rotation creates; `expiresBy`, when set, is the latest expiry it may have (the
 * portal's `maxLifetimeDays`): it keeps its predecessor's expiry if that is earlier.
 */
export interface RotationSuccessor {
  id: string;
  hash: string;
  start: string;
  expiresBy?: number;
}

/** A key as its object holds it: the record with live balance and last use, its counters, and its context when asked. */
export interface KeySnapshot {
  record: KeyRecord;
  /** The context a request arriving now would be decided under; null unless asked for. */
  context: Pick<GateState, "workspacePlan" | "rolePermissions"> | null;
  counters: Counters;
  /** The key was rotated: it has a successor already. */
  rotated: boolean;
  /** The object's clock when the snapshot was taken, epoch ms: the counters are as of then. */
  at: number;
}

/** What a key's object hands to the object that replaces it (the id-addressed one, docs/admin-api.md upgrade). */
export interface HandOff {
  state: unknown;
  meters: unknown;
  /** D1 writes the old object had not completed yet, oldest first. */
  repairs: unknown[];
}

/** What an isolate's lease did, reported when it asks again or when the lease ends. */
export interface LeaseReport {
  leaseId: string;
  /** Budget it did not use, given back to the counters. */
  unused: Budget;
  /** Requests it decided alone, by outcome code. */
  counts: Record<string, number>;
  /** When it last allowed a request, by its own clock; null if it allowed none. */
  lastUsedAt: number | null;
}

/** Sent with a decision the isolate cannot make alone: it asks for a lease (docs/consistency.md#leases). */
export interface LeaseAsk {
  /** The isolate's id: an object keeps at most one lease per isolate. */
  holder: string;
  /** The lease it held before, settled by this call. */
  report: LeaseReport | null;
  /** Requests for this key it saw during its last lease, or waiting now: its rate. */
  wanted: number;
}

/** A lease as the isolate receives it. */
export interface LentLease {
  id: string;
  /** How long it holds, counted by the isolate from before it asked, ms. */
  ms: number;
  budget: Budget;
  /** The key as a decision needs it. */
  state: GateState;
  /** The counters as they stood after the budget was taken. */
  counters: Counters;
  /**
   * The windows and balance as they stood after the budget was taken, when the object that
   * counts them is not the key's (an owner's, docs/consistency.md#owners): its windows are shown as `owner-<window>`.
   */
  usage?: Usage;
}
