/**
 * The leases a key's object has granted (docs/consistency.md#leases), at most one per isolate, stored before they
 * are answered. Admin changes `fence` the book: the change's response waits until every lease
 * granted before it is settled or over, so that no isolate decides on the old state after the
 * response (docs/consistency.md). An object that restarts cannot know which isolates still use their
 * leases, so it treats every stored lease as outstanding for a full lease length from the restart.
 */

import type { Counters } from "../decision/decide";
import { type Budget, giveBack, type LeasePeriods } from "../limits/lease";
import type { Window } from "../limits/windows";

/** Storage keys of the book: one entry per holder, so a grant writes only its own lease. */
const LEASE_PREFIX = "lease:";
/** How long after its end a lease's report still gives its budget back, ms. */
const REPORT_GRACE_MS = 60_000;

export interface LeaseRecord {
  id: string;
  budget: Budget;
  periods: LeasePeriods;
  /** Length it was granted for, ms: an object that restarts counts it again from then. */
  ms: number;
  /** When it is over by this object's clock, epoch ms. */
  endsAt: number;
  /** In a key's object: the budget is the owner's object's (docs/consistency.md#owners), reports go back there. */
  viaOwner?: boolean;
  /** In an owner's object: where the budget was taken from the key's own windows. */
  keyPeriods?: LeasePeriods;
}

export class LeaseBook {
  /** Outstanding leases by holder (isolate id). */
  private leases = new Map<string, LeaseRecord>();
  /** Fences waiting for leases to be settled, woken by each settlement. */
  private readonly waiting = new Set<() => void>();
  /** Holders whose entry changed since the last `write`. */
  private readonly changed = new Set<string>();
  /** Changes under way that need no lease out while they apply (`pauseGrants`). */
  private pausedFor = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    const stored = await this.storage.list<LeaseRecord>({ prefix: LEASE_PREFIX });
    const now = this.now();
    this.leases = new Map(
      [...stored].map(([name, lease]) => [
        name.slice(LEASE_PREFIX.length),
        { ...lease, endsAt: now + lease.ms },
      ]),
    );
  }

  /**
   * Stores what changed, without waiting: called with no await after the counters' write, so
   * that both land in one atomic write that completes before the object's answer leaves.
   */
  write(): void {
    if (this.changed.size === 0) return;
    const puts: Record<string, LeaseRecord> = {};
    const deletes: string[] = [];
    for (const holder of this.changed) {
      const lease = this.leases.get(holder);
      if (lease) puts[LEASE_PREFIX + holder] = lease;
      else deletes.push(LEASE_PREFIX + holder);
    }
    this.changed.clear();
    if (deletes.length > 0) this.storage.delete(deletes);
    if (Object.keys(puts).length > 0) this.storage.put(puts);
  }

  private forget(holder: string): void {
    this.leases.delete(holder);
    this.changed.add(holder);
  }

  /**
   * Forgets leases over for a while. A lease that is over stays in the book until then so that
   * its isolate's report, which leaves when its own (earlier) count of the lease ends, can still
   * give its unused budget back.
   */
  private prune(now: number): void {
    for (const [holder, lease] of this.leases) {
      if (lease.endsAt + REPORT_GRACE_MS <= now) this.forget(holder);
    }
  }

  private outstanding(now: number): Map<string, LeaseRecord> {
    this.prune(now);
    return new Map([...this.leases].filter(([, lease]) => lease.endsAt > now));
  }

  /** Whether this holder has a lease that may still be in use. */
  holds(holder: string, now: number): boolean {
    return this.outstanding(now).has(holder);
  }

  /** Leases held by isolates other than this one. */
  othersThan(holder: string, now: number): number {
    const outstanding = this.outstanding(now);
    return outstanding.size - (outstanding.has(holder) ? 1 : 0);
  }

  /**
   * Ends the holder's lease `leaseId` and gives its unused budget back to `counters` (under the
   * limits that apply now), also shortly after the lease is over: the isolate stopped using it
   * before then. A lease forgotten (long over, or fenced by an admin change) or unknown gives
   * nothing back: its budget stays counted as spent.
   */
  settle(
    holder: string,
    leaseId: string,
    unused: Budget,
    limits: [Window, number][],
    counters: Counters,
    now: number,
  ): Counters {
    const lease = this.end(holder, leaseId);
    if (!lease) return counters;
    return giveBack(limits, counters.windows, counters.credits, lease.periods, unused, now);
  }

  /** Ends the holder's lease `leaseId` and returns it, for a caller that gives its budget back itself. */
  end(holder: string, leaseId: string): LeaseRecord | null {
    const lease = this.leases.get(holder);
    if (!lease || lease.id !== leaseId) return null;
    this.forget(holder);
    for (const wake of this.waiting) wake();
    return lease;
  }

  /** The holder's lease `leaseId`, if it is still in the book. */
  find(holder: string, leaseId: string): LeaseRecord | null {
    const lease = this.leases.get(holder);
    return lease && lease.id === leaseId ? lease : null;
  }

  /** Whether new leases may be granted now. */
  get granting(): boolean {
    return this.pausedFor === 0;
  }

  /**
   * Runs `change` with no lease out: grants stop, every lease out is reported or runs out, then
   * the change applies. For changes that move the balance or hand the counters over, which a
   * report arriving after them would otherwise undo or miss.
   */
  async drained<T>(change: () => Promise<T>): Promise<T> {
    this.pausedFor += 1;
    try {
      await this.fence();
      return await change();
    } finally {
      this.pausedFor -= 1;
    }
  }

  grant(holder: string, lease: LeaseRecord): void {
    this.leases.set(holder, lease);
    this.changed.add(holder);
  }

  /**
   * Waits until no lease outstanding now can be used any more: each is settled or over. Waits by
   * the real timer for the longest remaining lease, so a clock replaced in tests cannot stall it.
   */
  async fence(): Promise<void> {
    const now = this.now();
    const outstanding = this.outstanding(now);
    if (outstanding.size === 0) return;
    const longest = Math.max(...[...outstanding.values()].map((lease) => lease.endsAt - now));
    await new Promise<void>((resolve) => {
      const settled = () => {
        for (const [holder, lease] of outstanding) if (this.leases.get(holder) === lease) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.waiting.delete(settled);
        resolve();
      };
      const timer = setTimeout(finish, longest);
      this.waiting.add(settled);
    });
    for (const [holder, lease] of outstanding) {
      if (this.leases.get(holder) === lease) this.forget(holder);
    }
    this.write();
  }
}
