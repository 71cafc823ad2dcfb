/**
 * The leases a key's object has granted (docs/consistency.md#leases), at most one per isolate, stored before they
 * are answered. Admin changes `fence` the book: the change's response waits until every lease
 * granted before it is settled or over, so that no isolate decides on the old state after the
 * response (docs/consistency.md). An object that restarts cannot know which isolates still use their
 * leases, so it treats every stored lease as outstanding for a full lease length from the restart.
 */

import type { Budget, LeasePeriods } from "../limits/lease";

/** Storage keys of the book: one entry per holder, so a grant writes only its own lease. */
const LEASE_PREFIX = "lease:";
/** How long after its end a lease's report still gives its budget back, ms. */
export const REPORT_GRACE_MS = 60_000;

/** What every lease record holds. */
interface LeaseTerms {
  id: string;
  budget: Budget;
  /** Length it was granted for, ms: an object that restarts counts it again from then. */
  ms: number;
  /** When it is over by this object's clock, epoch ms. */
  endsAt: number;
}

/** In a key's object: a lease of the key's own counters, given back here by `giveBack` over `periods`. */
export interface OwnLeaseRecord extends LeaseTerms {
  kind: "own";
  periods: LeasePeriods;
}

/**
 * In a key's object: a lease the owner's object granted (docs/consistency.md#owners), recorded
 * here only so that every change to the key fences it; its report goes back to the owner's object.
 */
export interface ViaOwnerLeaseRecord extends LeaseTerms {
  kind: "via-owner";
}

/**
 * In an owner's object: a lease whose budget was taken from the owner's windows and balance
 * (`periods`) and from the key's windows (`keyPeriods`) at once.
 */
export interface OwnerLeaseRecord extends LeaseTerms {
  kind: "owner";
  periods: LeasePeriods;
  keyPeriods: LeasePeriods;
}

/** The leases a key's object records. */
export type KeyLeaseRecord = OwnLeaseRecord | ViaOwnerLeaseRecord;
export type LeaseRecord = KeyLeaseRecord | OwnerLeaseRecord;

/** A stored lease, as any revision wrote it: earlier ones had no `kind` (`viaOwner`, `keyPeriods` said it). */
type StoredLease =
  | LeaseRecord
  | (LeaseTerms & { kind?: undefined; periods: LeasePeriods; viaOwner?: boolean; keyPeriods?: LeasePeriods });

function upgraded(stored: StoredLease): LeaseRecord {
  if (stored.kind !== undefined) return stored;
  const { id, budget, ms, endsAt, periods } = stored;
  if (stored.viaOwner) return { kind: "via-owner", id, budget, ms, endsAt };
  if (stored.keyPeriods)
    return { kind: "owner", id, budget, ms, endsAt, periods, keyPeriods: stored.keyPeriods };
  return { kind: "own", id, budget, ms, endsAt, periods };
}

/**
 * A book of one kind of lease record: `LeaseBook<KeyLeaseRecord>` in a key's object,
 * `LeaseBook<OwnerLeaseRecord>` in an owner's. Its queries change nothing; `prune`, `grant` and
 * `end` change the book in memory, and `write` stores those changes.
 */
export class LeaseBook<R extends LeaseRecord> {
  /** Leases by holder (isolate id): outstanding, or over and still within the report grace. */
  private leases = new Map<string, R>();
  /** Fences waiting for leases to be settled, woken by each settlement. */
  private readonly waiting = new Set<() => void>();
  /** Holders whose entry changed since the last `write`. */
  private readonly changed = new Set<string>();
  /** Changes under way that need no lease out while they apply (`pauseGrants`). */
  private pausedFor = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
    /** Whether a stored record belongs in this book (the key's or the owner's kinds). */
    private readonly kept: (lease: LeaseRecord) => lease is R,
  ) {}

  async load(): Promise<void> {
    const stored = await this.storage.list<StoredLease>({ prefix: LEASE_PREFIX });
    const now = this.now();
    this.leases = new Map();
    for (const [name, entry] of stored) {
      const lease = upgraded(entry);
      if (this.kept(lease))
        this.leases.set(name.slice(LEASE_PREFIX.length), { ...lease, endsAt: now + lease.ms });
    }
  }

  /**
   * Stores what changed, without waiting: called with no await after the counters' write, so
   * that both land in one atomic write that completes before the object's answer leaves.
   */
  write(): void {
    if (this.changed.size === 0) return;
    const puts: Record<string, R> = {};
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
   * Forgets leases over for a while, for the next `write` to delete. A lease that is over stays
   * in the book until then so that its isolate's report, which leaves when its own (earlier)
   * count of the lease ends, can still give its unused budget back. Called before a grant and a
   * settlement, whose write stores it.
   */
  prune(now: number): void {
    for (const [holder, lease] of this.leases) {
      if (lease.endsAt + REPORT_GRACE_MS <= now) this.forget(holder);
    }
  }

  /** The leases that may still be in use at `now`, by holder. */
  private outstanding(now: number): Map<string, R> {
    return new Map([...this.leases].filter(([, lease]) => lease.endsAt > now));
  }

  /** Whether this holder has a lease that may still be in use. */
  holds(holder: string, now: number): boolean {
    const lease = this.leases.get(holder);
    return lease !== undefined && lease.endsAt > now;
  }

  /** Leases that may still be in use, held by isolates other than this one. */
  othersThan(holder: string, now: number): number {
    let others = 0;
    for (const [other, lease] of this.leases) if (other !== holder && lease.endsAt > now) others += 1;
    return others;
  }

  /**
   * Ends the holder's lease `leaseId` and returns it, for the caller to give its budget back. A
   * lease forgotten (long over, or fenced by an admin change) or unknown is null: its budget
   * stays counted as spent.
   */
  end(holder: string, leaseId: string): R | null {
    const lease = this.leases.get(holder);
    if (!lease || lease.id !== leaseId) return null;
    this.forget(holder);
    for (const wake of this.waiting) wake();
    return lease;
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

  lend(holder: string, lease: R): void {
    this.leases.set(holder, lease);
    this.changed.add(holder);
  }

  /**
   * Waits until no lease outstanding now can be used any more: each is settled or over. Waits by
   * the real timer for the longest remaining lease, so a clock replaced in tests cannot stall it.
   */
  async fence(): Promise<void> {
    const now = this.now();
    this.prune(now);
    const outstanding = this.outstanding(now);
    if (outstanding.size === 0) {
      this.write();
      return;
    }
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
