/**
 * OwnerGate: one Durable Object per owner (docs/consistency.md#owners), the counting authority for the owner's
 * windows and credits and for the windows of every key of the owner while the owner has limits
 * or credits. A key's object decides rows 5-10 itself, then asks this object to count the
 * request: reading every window and the balance, deciding and writing happen with no await in
 * between, so a request is counted in the key's windows and the owner's, or in none, and
 * concurrent requests of all the owner's keys are counted exactly. With a request it may grant a
 * lease (docs/consistency.md#leases) whose budget it takes from the key's windows, the owner's and the balance at
 * once; the key's object passes the lease on to the isolate and fences it on every change.
 */
import { DurableObject } from "cloudflare:workers";
import type {
  OwnerGateApi,
  OwnerKeyWindows,
  OwnerLease,
  OwnerLeaseReport,
  OwnerMeterAsk,
  OwnerMeterOutcome,
  OwnerSettings,
  OwnerView,
  PortalCallLimits,
  PortalCallOutcome,
  PortalMeterApi,
} from "../key-client/owner-client";
import { type CreditState, creditState, currentCredits } from "../limits/credits";
import { type CountedKey, giveBack, leaseBudgetAcross, leasePeriods, ownerCountsFrom } from "../limits/lease";
import { meterSets } from "../limits/meter";
import {
  effectiveLimits,
  evaluateWindow,
  type Window,
  type WindowOutcome,
  type WindowState,
  type WindowStates,
} from "../limits/windows";
import { LeaseBook, type OwnerLeaseRecord } from "./lease-book";

const SETTINGS = "settings";
/** A portal member's call and write windows, in the object that counts them (docs/portal.md#limits). */
const PORTAL_CALLS = "portal-calls";

interface PortalCalls {
  calls?: WindowState;
  writes?: WindowState;
}
const METERS = "meters";
/** Prefix of each key's windows and their version (`CountedKey`), `key:<id>`. */
const KEY_PREFIX = "key:";

/** A key's entry as stored; objects of an earlier revision stored its windows alone. */
function countedKey(stored: CountedKey | WindowStates): CountedKey {
  return "version" in stored && typeof stored.version === "number"
    ? (stored as CountedKey)
    : { windows: stored as WindowStates, version: 0 };
}

interface OwnerMeters {
  windows: WindowStates;
  credits: CreditState | null;
}

export class OwnerGate extends DurableObject<Env> implements OwnerGateApi, PortalMeterApi {
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();
  private settings: OwnerSettings | null = null;
  private meters: OwnerMeters = { windows: {}, credits: null };
  /** Each key's windows as counted here: the authority on them while the owner meters the key. */
  private readonly keys = new Map<string, CountedKey>();
  private readonly leases: LeaseBook<OwnerLeaseRecord>;
  private portalCalls: PortalCalls | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.leases = new LeaseBook(
      ctx.storage,
      () => this.now(),
      (lease) => lease.kind === "owner",
    );
    ctx.blockConcurrencyWhile(async () => {
      await this.leases.load();
      this.settings = (await ctx.storage.get<OwnerSettings>(SETTINGS)) ?? null;
      this.meters = (await ctx.storage.get<OwnerMeters>(METERS)) ?? this.meters;
      for (const [name, stored] of await ctx.storage.list<CountedKey | WindowStates>({
        prefix: KEY_PREFIX,
      })) {
        this.keys.set(name.slice(KEY_PREFIX.length), countedKey(stored));
      }
    });
  }

  async configure(settings: OwnerSettings): Promise<void> {
    // A new generation: a lease's unused budget from the earlier balance is not given back to this one.
    const generation = (this.meters.credits?.generation ?? 0) + 1;
    const credits = settings.credits ? { ...creditState(settings.credits, this.now()), generation } : null;
    this.settings = settings;
    this.meters = { windows: this.meters.windows, credits };
    await this.ctx.storage.put({ [SETTINGS]: settings, [METERS]: this.meters });
  }

  async meter(ask: OwnerMeterAsk): Promise<OwnerMeterOutcome> {
    const now = this.now();
    const settled = ask.report ? this.settle(ask.keyId, ask.keyLimits, ask.report, now) : null;
    // This object is the authority on the key's windows; the key's copy counts only when it is
    // not one of its answers (the key was counted elsewhere before it came here).
    const keyWindows = ownerCountsFrom(
      { windows: ask.keyWindows, version: ask.keyVersion ?? null },
      this.keys.get(ask.keyId),
    );
    const chargesOwner = ask.keyCredits === null;
    const metered = meterSets({
      sets: [
        { limits: ask.keyLimits, windows: keyWindows },
        { limits: this.limits(), windows: this.meters.windows, owner: true },
      ],
      credits: chargesOwner ? this.meters.credits : ask.keyCredits,
      cost: ask.cost,
      now,
      take: ask.take,
    });
    let [nextKey = keyWindows, nextOwner = this.meters.windows] = metered.nextWindows;
    let lease: OwnerLease | null = null;
    let stored: CountedKey | null = settled;
    if (ask.take && metered.code === "valid") {
      let credits = chargesOwner ? metered.credits : this.meters.credits;
      // Only a key that spends the owner's balance (or none): a key's own balance lives in its object.
      if (ask.lease && chargesOwner && this.leases.granting && !this.leases.holds(ask.lease.holder, now)) {
        const grant = leaseBudgetAcross({
          sets: [
            { limits: ask.keyLimits, windows: nextKey },
            { limits: this.limits(), windows: nextOwner },
          ],
          credits,
          now,
          maxMs: ask.lease.maxMs,
          expiresAt: ask.lease.expiresAt,
          wantedRequests: ask.lease.wanted,
          cost: ask.cost,
          otherHolders: this.leases.othersThan(ask.lease.holder, now),
          creditsLowThreshold: ask.lease.creditsLowThreshold,
        });
        if (grant) {
          const id = crypto.randomUUID();
          this.leases.prune(now);
          this.leases.lend(ask.lease.holder, {
            kind: "owner",
            id,
            budget: grant.budget,
            periods: leasePeriods(this.limits(), credits, now),
            keyPeriods: leasePeriods(ask.keyLimits, null, now),
            ms: grant.ms,
            endsAt: now + grant.ms,
          });
          [nextKey = nextKey, nextOwner = nextOwner] = grant.windows;
          credits = grant.credits;
          const after = this.peek(ask.keyLimits, nextKey, nextOwner, credits, now);
          lease = { id, ms: grant.ms, budget: grant.budget, windows: after, credits };
        }
      }
      stored = this.count(ask.keyId, nextKey);
      this.meters = { windows: nextOwner, credits };
      // Like a key's counters: the answer does not wait for the disk (an evicted object completes
      // the write); a grant does, so its budget is stored as spent before anyone can use it.
      this.ctx.storage.put(
        { [METERS]: this.meters, [`${KEY_PREFIX}${ask.keyId}`]: stored },
        { allowUnconfirmed: lease === null },
      );
      this.leases.write();
    }
    return {
      code: metered.code,
      windows: metered.windows,
      credits: metered.credits,
      retryAfter: metered.retryAfter,
      keyWindows: stored?.windows ?? nextKey,
      keyVersion: stored?.version ?? null,
      lease,
    };
  }

  async release(
    keyId: string,
    keyLimits: [Window, number][],
    report: OwnerLeaseReport,
  ): Promise<OwnerKeyWindows | null> {
    return this.settle(keyId, keyLimits, report, this.now());
  }

  /** Replaces the key's windows here with a new version. */
  private count(keyId: string, windows: WindowStates): CountedKey {
    const counted = { windows, version: (this.keys.get(keyId)?.version ?? 0) + 1 };
    this.keys.set(keyId, counted);
    return counted;
  }

  /**
   * Gives back what a lease did not use, to the key's windows, the owner's and the balance;
   * returns the key's windows after it (null: the lease was not known here, nothing changed).
   */
  private settle(
    keyId: string,
    keyLimits: [Window, number][],
    report: OwnerLeaseReport,
    now: number,
  ): CountedKey | null {
    this.leases.prune(now);
    const lease = this.leases.end(report.holder, report.leaseId);
    if (!lease) {
      this.leases.write();
      return null;
    }
    const unused = report.unused;
    const counted = this.keys.get(keyId)?.windows ?? {};
    const key = giveBack(keyLimits, counted, null, lease.keyPeriods, unused, now);
    const owner = giveBack(
      this.limits(),
      this.meters.windows,
      this.meters.credits,
      lease.periods,
      unused,
      now,
    );
    const stored = this.count(keyId, key.windows);
    this.meters = { windows: owner.windows, credits: owner.credits };
    this.ctx.storage.put({ [METERS]: this.meters, [`${KEY_PREFIX}${keyId}`]: stored });
    this.leases.write();
    return stored;
  }

  /** Every window, the key's then the owner's, as it stands (for a lease's headers). */
  private peek(
    keyLimits: [Window, number][],
    keyWindows: WindowStates,
    ownerWindows: WindowStates,
    credits: CreditState | null,
    now: number,
  ) {
    return meterSets({
      sets: [
        { limits: keyLimits, windows: keyWindows },
        { limits: this.limits(), windows: ownerWindows, owner: true },
      ],
      credits,
      cost: 0,
      now,
      take: false,
    }).windows;
  }

  async inspect(): Promise<OwnerView> {
    const now = this.now();
    const metered = meterSets({
      sets: [{ limits: this.limits(), windows: this.meters.windows }],
      credits: this.meters.credits,
      cost: 0,
      now,
      take: false,
    });
    return {
      settings: this.settings,
      windows: metered.windows,
      credits: this.meters.credits ? currentCredits(this.meters.credits, now) : null,
    };
  }

  private limits() {
    return this.settings ? effectiveLimits(this.settings.limits, undefined) : [];
  }

  /**
   * Counts one portal call of the member this object counts for (docs/portal.md#limits), and
   * one write when `write`: both budgets pass or neither is counted. Reading, deciding and
   * counting happen with no await in between, so concurrent calls are counted exactly.
   */
  async portalCall(limits: PortalCallLimits, write: boolean): Promise<PortalCallOutcome> {
    const stored = await this.ctx.storage.get<PortalCalls>(PORTAL_CALLS);
    this.portalCalls ??= stored ?? {};
    const now = this.now();
    const calls = evaluateWindow("minute", limits.calls, this.portalCalls.calls, now, true);
    const writes = write ? evaluateWindow("minute", limits.writes, this.portalCalls.writes, now, true) : null;
    if (!calls.allowed || (writes && !writes.allowed)) {
      const refused = calls.allowed ? (writes as WindowOutcome) : calls;
      return {
        allowed: false,
        retryAfter: Math.max(1, refused.status.reset),
        writes: !!writes && !writes.allowed,
      };
    }
    this.portalCalls = { calls: calls.next, writes: writes ? writes.next : this.portalCalls.writes };
    await this.ctx.storage.put(PORTAL_CALLS, this.portalCalls);
    return { allowed: true, retryAfter: 0, writes: false };
  }
}
