/**
 * verifyKey: from a credential string to the decision of its key's Durable Object.
 *
 *   malformed (prefix, shape, checksum) -> refused before any storage is touched
 *   hash seen by this isolate            -> decided under this isolate's lease of the key, or
 *                                           one Durable Object call (by the key's id), no D1 read
 *   hash not seen                        -> the location's cache, else one D1 read; unknown keys
 *                                           stop there, create no Durable Object and count toward
 *                                           the client's abuse limit; known ones go on to their
 *                                           object, once, asking no lease (docs/consistency.md#the-cold-path)
 *   record of another type or workspace  -> invalid_key, nothing counted
 *   deleted key (its tombstone)          -> key_revoked, nothing counted
 *
 * A failing dependency throws `unavailable`: nothing is ever allowed because storage failed,
 * except that `limiterFailure: "open"` lets a key D1 shows active through, uncounted, when its
 * Durable Object fails (never a key with credits, its own or its owner's).
 */

import { type DenyCode, decide, denial, type GateCheck, type KeyDecision } from "../decision/decide";
import { failClosed } from "../fail-closed";
import type { GateDirectory } from "../key-client/client";
import type { AuthorizeOutcome, LeaseAsk } from "../key-client/contract";
import type { LeaseHolder } from "../key-client/lease-holder";
import { type KeyFormat, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import type { KeyIdentity, KeyRecord } from "../keys/record";
import { logEvent } from "../log";
import type { CompiledPolicy } from "../policy/compiled";
import { unavailable } from "../refusals";
import type { StoredKey } from "../storage/keys";
import type { AbuseGuard } from "./abuse";
import type { KnownKey, KnownKeys } from "./known-keys";
import type { UnconfirmedRestrictions } from "./unconfirmed";

export interface KeyLookup {
  /** What the hash maps to: from the location's cache, else from D1 (then cached). Fails closed. */
  locate(hash: string): Promise<KnownKey | null>;
  /** Drops the location's entry for the hash: the key's object disagreed with it. */
  forget(hash: string): void;
  /** The whole record, for a decision made without the key's object. */
  findByHash(hash: string): Promise<StoredKey | null>;
  /**
   * What a decision needs besides the record: its workspace's plan and its roles' permissions;
   * whether its owner has credits (docs/consistency.md#owners), which fail closed like the key's own; and its
   * owner's roles, which an ownerScoped key's permissions are kept within.
   */
  contextOf(record: KeyRecord): Promise<{
    workspacePlan: string | null;
    rolePermissions: Record<string, string[]>;
    ownerCredits: boolean;
    ownerRoles: string[];
    ownerRolePermissions: Record<string, string[]>;
  }>;
}

export interface VerifyDeps {
  lookup: KeyLookup;
  gates: GateDirectory;
  known: KnownKeys;
  abuse: AbuseGuard;
  limiter: RateLimit | undefined;
  unconfirmed: UnconfirmedRestrictions;
  leases: LeaseHolder;
  /** Runs work that may outlive the request (a lease's report at its end). */
  background: (work: Promise<unknown>) => void;
}

/**
 * What read the key's state: this isolate's lease of the key, the key's object, or D1
 * (`limiterFailure: "open"` while the object failed).
 */
export type DecidedBy = "lease" | "object" | "fallback";

export type KeyVerification = (
  | { code: "malformed_key" | "invalid_key"; record: null; decision: null }
  | { code: "rate_limited"; record: null; decision: KeyDecision }
  | { code: "valid" | DenyCode; record: KeyIdentity; decision: KeyDecision }
) & {
  /** Absent when no key's state was read (a malformed or unknown key, a tombstone). */
  decidedBy?: DecidedBy;
};

const NO_KEY = { record: null, decision: null } as const;
const INVALID: KeyVerification = { code: "invalid_key", ...NO_KEY };

function slowedDown(retryAfter: number): KeyVerification {
  return { code: "rate_limited", record: null, decision: denial("rate_limited", retryAfter) };
}

/**
 * Whether the key exists for this check: its record's type is the one its prefix names (so a
 * key imported by hash cannot borrow another type's rules, docs/policy.md#keys), and an admin key's
 * verify sees only its own workspace (docs/admin-api.md). Otherwise it is `invalid_key`, counted nowhere.
 */
function visible(key: KnownKey, format: KeyFormat, check: GateCheck): boolean {
  return key.type === format.type && (check.workspaceId === null || key.workspaceId === check.workspaceId);
}

export async function verifyKey(
  deps: VerifyDeps,
  compiled: CompiledPolicy,
  credential: string,
  check: GateCheck,
): Promise<KeyVerification> {
  const format = parseKey(credential, compiled.formats);
  if (!format) return { code: "malformed_key", ...NO_KEY };
  const hash = await sha256Hex(credential);
  let key: KnownKey | null = deps.known.get(hash) ?? null;
  /** This request looked the key up: the first of its requests in this isolate. */
  let first = false;
  if (!key) {
    const now = Date.now();
    const blocked = check.ip ? deps.abuse.retryAfter(check.ip, now) : 0;
    if (blocked > 0) return slowedDown(blocked);
    // Each request looks the key up itself: a request of the Workers runtime must not wait on
    // another request's I/O (the runtime may cancel it as hung). A deleted key is remembered
    // too: its tombstone is final, and answers without D1 from then on.
    first = true;
    key = await deps.lookup.locate(hash);
    if (key) deps.known.add(hash, key);
    if (!key) {
      const allowed = check.ip ? await deps.abuse.allowMiss(deps.limiter, check.ip, now) : true;
      return allowed ? INVALID : slowedDown(deps.abuse.retryAfter(check.ip ?? "", now));
    }
  }
  if (!visible(key, format, check)) return INVALID;
  if (key.tombstone) return { code: "key_revoked", record: key.tombstone, decision: denial("key_revoked") };
  const policy = compiled.gatePolicy(key.type);
  let ask: LeaseAsk | null = null;
  // A key's first request here asks for no lease: most keys seen once are not seen again soon,
  // and a lease would cost its object a second call (the report at its end) for nothing. The
  // next request asks, sized on the rate seen from then on.
  while (check.consume && !first) {
    const step = deps.leases.next(key.id, check, policy, Date.now());
    if (step.decided) return { code: step.decided.decision.code, ...step.decided, decidedBy: "lease" };
    if (step.wait) await step.wait;
    else {
      ask = step.ask;
      break;
    }
  }
  // Only now is the key's object needed: a request its lease decided never makes its stub.
  const gate = deps.gates.forKey(key.id);
  const sentAt = Date.now();
  let outcome: AuthorizeOutcome = null;
  try {
    outcome = await gate.authorize(check, policy, ask);
    // An object that holds nothing yet takes its key over from D1 (and from the object that
    // held it before objects were addressed by id), then decides.
    if (!outcome && (await gate.adopt(key.id, hash))) outcome = await gate.authorize(check, policy);
  } catch (error) {
    logEvent("error", "gate_failed", { error: String(error) });
    if (compiled.policy.limiterFailure !== "open") throw unavailable();
    return openFallback(deps, compiled, hash, check);
  } finally {
    if (ask)
      deps.leases.received(key.id, outcome?.lease, policy, { gate, background: deps.background }, sentAt);
  }
  if (!outcome) {
    // D1 shows no live key for this object: it was deleted, or D1 and the object disagree.
    // Forget what this isolate and location remember, so that the next request reads D1.
    deps.known.delete(hash);
    deps.lookup.forget(hash);
    throw unavailable("The key's state could not be read; the request was denied.");
  }
  // A read (self) shows what this isolate may still admit under its lease, too.
  const decision = check.consume ? outcome.decision : deps.leases.withHeldBudget(key.id, outcome.decision);
  return { code: decision.code, record: outcome.record, decision, decidedBy: "object" };
}

/**
 * `limiterFailure: "open"`: the key's object failed, so decide rows 5-10 on what D1 shows and
 * allow without counting rows 11-12. Credits always fail closed, and so does a key this isolate
 * restricted while D1 was failing (D1 may not show it yet).
 */
async function openFallback(
  deps: VerifyDeps,
  compiled: CompiledPolicy,
  hash: string,
  check: GateCheck,
): Promise<KeyVerification> {
  const stored = await failClosed(deps.lookup.findByHash(hash));
  if (!stored || stored.deleted) throw unavailable();
  const { record } = stored;
  const now = Date.now();
  if (deps.unconfirmed.has(record.id, now)) throw unavailable();
  const context = await failClosed(deps.lookup.contextOf(record));
  const state = { record, ...context, rolesCheckedAt: now };
  const uncounted = { windows: {}, credits: null };
  const { decision } = decide(
    state,
    uncounted,
    { ...check, consume: false },
    compiled.gatePolicy(record.type),
    now,
  );
  if (decision.code === "valid" && (record.credits !== null || context.ownerCredits)) {
    throw unavailable("The key's credits cannot be checked right now; the request was denied.");
  }
  return {
    code: decision.code,
    record,
    decision: { ...decision, usage: { windows: [], credits: null, retryAfter: null } },
    decidedBy: "fallback",
  };
}
