/**
 * OwnerGate: one Durable Object per owner (SPEC 10), the counting authority for the owner's
 * windows and credits and for the windows of every key of the owner while the owner has limits
 * or credits. A key's object decides rows 5-10 itself, then asks this object to count the
 * request: reading every window and the balance, deciding and writing happen with no await in
 * between, so a request is counted in the key's windows and the owner's, or in none, and
 * concurrent requests of all the owner's keys are counted exactly. With a request it may grant a
 * lease (SPEC 9) whose budget it takes from the key's windows, the owner's and the balance at
 * once; the key's object passes the lease on to the isolate and fences it on every change.
 */
import { DurableObject } from "cloudflare:workers";
import { type CreditState, creditState, currentCredits } from "../limits/credits";
import { giveBack, grantLeaseAcross, leasePeriods } from "../limits/lease";
import { meterSets } from "../limits/meter";
import { effectiveLimits, laterWindows, type Window, type WindowStates } from "../limits/windows";
import { LeaseBook } from "./lease-book";
import type {
  OwnerGateApi,
  OwnerLease,
  OwnerLeaseReport,
  OwnerMeterAsk,
  OwnerMeterOutcome,
  OwnerSettings,
  OwnerView,
} from "./owner-client";

const SETTINGS = "settings";
const METERS = "meters";
/** Prefix of each key's windows, `key:<id>`. */
const KEY_PREFIX = "key:";

interface OwnerMeters {
  windows: WindowStates;
  credits: CreditState | null;
}

export class OwnerGate extends DurableObject<Env> implements OwnerGateApi {
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();
  private settings: OwnerSettings | null = null;
  private meters: OwnerMeters = { windows: {}, credits: null };
  private readonly keys = new Map<string, WindowStates>();
  private readonly leases: LeaseBook;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.leases = new LeaseBook(ctx.storage, () => this.now());
    ctx.blockConcurrencyWhile(async () => {
      await this.leases.load();
      this.settings = (await ctx.storage.get<OwnerSettings>(SETTINGS)) ?? null;
      this.meters = (await ctx.storage.get<OwnerMeters>(METERS)) ?? this.meters;
      for (const [name, windows] of await ctx.storage.list<WindowStates>({ prefix: KEY_PREFIX })) {
        this.keys.set(name.slice(KEY_PREFIX.length), windows);
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
    if (ask.report) this.settle(ask.keyId, ask.keyLimits, ask.report, now);
    const counted = this.keys.get(ask.keyId);
    // The key's own copy may be ahead of this object (it was counted elsewhere before it came
    // to this owner) or behind it (answers cross): the later state of each window holds.
    const keyWindows = counted ? laterWindows(ask.keyWindows, counted) : ask.keyWindows;
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
    if (ask.take && metered.code === "valid") {
      let credits = chargesOwner ? metered.credits : this.meters.credits;
      // Only a key that spends the owner's balance (or none): a key's own balance lives in its object.
      if (ask.lease && chargesOwner && this.leases.granting && !this.leases.holds(ask.lease.holder, now)) {
        const grant = grantLeaseAcross({
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
          this.leases.grant(ask.lease.holder, {
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
      this.keys.set(ask.keyId, nextKey);
      this.meters = { windows: nextOwner, credits };
      // Like a key's counters: the answer does not wait for the disk (an evicted object completes
      // the write); a grant does, so its budget is stored as spent before anyone can use it.
      this.ctx.storage.put(
        { [METERS]: this.meters, [`${KEY_PREFIX}${ask.keyId}`]: nextKey },
        { allowUnconfirmed: lease === null },
      );
      this.leases.write();
    }
    return {
      code: metered.code,
      windows: metered.windows,
      credits: metered.credits,
      retryAfter: metered.retryAfter,
      keyWindows: nextKey,
      lease,
    };
  }

  async release(keyId: string, keyLimits: [Window, number][], report: OwnerLeaseReport): Promise<void> {
    this.settle(keyId, keyLimits, report, this.now());
  }

  /** Gives back what a lease did not use, to the key's windows, the owner's and the balance. */
  private settle(keyId: string, keyLimits: [Window, number][], report: OwnerLeaseReport, now: number): void {
    const lease = this.leases.end(report.holder, report.leaseId);
    if (!lease?.keyPeriods) {
      this.leases.write();
      return;
    }
    const unused = report.unused;
    const key = giveBack(keyLimits, this.keys.get(keyId) ?? {}, null, lease.keyPeriods, unused, now);
    const owner = giveBack(
      this.limits(),
      this.meters.windows,
      this.meters.credits,
      lease.periods,
      unused,
      now,
    );
    this.keys.set(keyId, key.windows);
    this.meters = { windows: owner.windows, credits: owner.credits };
    this.ctx.storage.put({ [METERS]: this.meters, [`${KEY_PREFIX}${keyId}`]: key.windows });
    this.leases.write();
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
}
