/**
 * What the Worker and a key's object exchange with an owner's Durable Object (docs/consistency.md#owners): one
 * object per owner, named by workspace and owner id, counts the owner's windows and credits and
 * the windows of each of its keys, so that a request is counted in both or in neither.
 */
import type { Credits } from "../keys/record";
import type { CreditState } from "../limits/credits";
import type { Budget } from "../limits/lease";
import type { MeterCode } from "../limits/meter";
import type { Window, WindowStates, WindowStatus } from "../limits/windows";
import type { Limits } from "../policy/schema";

/** What `PUT /owners/:ownerId` sets, as the owner's object keeps it. */
export interface OwnerSettings {
  workspaceId: string;
  ownerId: string;
  /** The owner's windows; 0 or absent = no owner limit for that window. */
  limits: Limits;
  /** The balance set, shared by the owner's keys without credits of their own. */
  credits: Credits | null;
  updatedAt: number;
}

/** One request of one key, as the key's object asks its owner's object to count it. */
export interface OwnerMeterAsk {
  keyId: string;
  /** The key's own windows and their limits (its plan's included). */
  keyLimits: [Window, number][];
  /** The key's copy of its windows: where this object starts a key it has not counted yet. */
  keyWindows: WindowStates;
  /**
   * The version of this object's answer the copy is, or null (absent) when it is not exactly one
   * (the key came from elsewhere, or was counted elsewhere since): see `ownerCountsFrom`.
   */
  keyVersion?: number | null;
  /** The key's own balance, charged instead of the owner's; null: the owner's, if it has one. Not kept here. */
  keyCredits: CreditState | null;
  cost: number;
  /** Count the request; false reads the counters only (the self endpoint). */
  take: boolean;
  /** A lease of this key an isolate reported to the key's object: its unused budget comes back here. */
  report?: OwnerLeaseReport | null;
  /** Grant the isolate a lease with this request (docs/consistency.md#leases), budget from every window and the balance here. */
  lease?: OwnerLeaseAsk | null;
}

export interface OwnerLeaseReport {
  /** `<key id>/<isolate id>`: one lease per key and isolate. */
  holder: string;
  leaseId: string;
  unused: Budget;
}

export interface OwnerLeaseAsk {
  holder: string;
  wanted: number;
  maxMs: number;
  expiresAt: number | null;
  creditsLowThreshold: number | null;
}

/** A lease granted by an owner's object, as the key's object passes it on to the isolate. */
export interface OwnerLease {
  id: string;
  ms: number;
  budget: Budget;
  /** Every window (the key's, then the owner's) after the budget was taken. */
  windows: WindowStatus[];
  /** The balance charged, after the budget was taken. */
  credits: CreditState | null;
}

export interface OwnerMeterOutcome {
  code: MeterCode;
  /** The key's windows, then the owner's (marked `owner`), as they stand after the request. */
  windows: WindowStatus[];
  /** The balance charged (the key's own, else the owner's) after the request; null if none. */
  credits: CreditState | null;
  retryAfter: number | null;
  /** The key's windows after the request, for the key's copy. */
  keyWindows: WindowStates;
  /** Their version here; null when this object stored nothing (the copy takes nothing from them). */
  keyVersion?: number | null;
  lease?: OwnerLease | null;
}

/** The key's windows as this object holds them after a lease's report, for the key's copy. */
export interface OwnerKeyWindows {
  windows: WindowStates;
  version: number;
}

/** An owner as its object holds it: settings (null if never set), live windows and balance. */
export interface OwnerView {
  settings: OwnerSettings | null;
  windows: WindowStatus[];
  credits: CreditState | null;
}

/** The RPC methods of `OwnerGate`, which implements this interface. */
export interface OwnerGateApi {
  /** Replaces the owner's settings; the balance is set to `credits.remaining`. */
  configure(settings: OwnerSettings): Promise<void>;
  meter(ask: OwnerMeterAsk): Promise<OwnerMeterOutcome>;
  /**
   * Gives back what a lease of a key did not use (it ended, or its isolate changes the key);
   * answers the key's windows after it, or null when the lease was not known here any more.
   */
  release(
    keyId: string,
    keyLimits: [Window, number][],
    report: OwnerLeaseReport,
  ): Promise<OwnerKeyWindows | null>;
  inspect(): Promise<OwnerView>;
}

/** The same objects' other use: counting a portal member's calls (docs/portal.md#limits). */
export interface PortalMeterApi {
  portalCall(limits: PortalCallLimits, write: boolean): Promise<PortalCallOutcome>;
}

/** A portal member's budgets a minute (docs/portal.md#limits). */
export interface PortalCallLimits {
  calls: number;
  writes: number;
}

export interface PortalCallOutcome {
  allowed: boolean;
  /** Seconds until the refused budget lets one more call pass; 0 when allowed. */
  retryAfter: number;
  /** The write budget refused the call (the call budget had room). */
  writes: boolean;
}

/** The `OWNER_GATE` binding, typed from wrangler.toml by `wrangler types`. */
type OwnerNamespace = Env["OWNER_GATE"];

/** The object of owner `ownerId` of workspace `workspaceId`. */
export function ownerGateOf(
  env: { OWNER_GATE: OwnerNamespace },
  workspaceId: string,
  ownerId: string,
): OwnerGateApi {
  const namespace = env.OWNER_GATE;
  // As for keys (client.ts): the interface states the stub's real signatures.
  return namespace.get(namespace.idFromName(`${workspaceId}/${ownerId}`)) as unknown as OwnerGateApi;
}
