/**
 * Lending and settling in a key's object (docs/key-object.md): the leases it records, how one is
 * lent from the key's counters, how a report gives its unused budget back, and the one way both
 * are stored: `commitBeforeAnswer`, which writes the counters and the book together, so that a
 * lease is never used before its budget is stored as spent (invariant I3 of docs/key-object.md).
 */
import { type Counters, type GateCheck, keyLimits } from "../decision/decide";
import type { LeaseAsk, LeaseReport, LentLease } from "../key-client/contract";
import type { OwnerLease, OwnerLeaseReport } from "../key-client/owner-client";
import { giveBack, leaseBudget, leasePeriods } from "../limits/lease";
import type { KeyTypePolicy } from "../policy/compiled";
import type { KeyCell, KeyState, Meters } from "./cell";
import { type KeyLeaseRecord, LeaseBook } from "./lease-book";
import { recordLeased } from "./usage";

/** The key's state an isolate decides on while it holds a lease. */
function leasedState(state: KeyState): LentLease["state"] {
  const { record, workspacePlan, rolePermissions, ownerRoles, ownerRolePermissions } = state;
  return { record, workspacePlan, rolePermissions, ownerRoles, ownerRolePermissions };
}

export class KeyLeases {
  private readonly book: LeaseBook<KeyLeaseRecord>;

  constructor(
    storage: DurableObjectStorage,
    private readonly cell: KeyCell,
    now: () => number,
  ) {
    this.book = new LeaseBook(storage, now, (lease) => lease.kind !== "owner");
  }

  load(): Promise<void> {
    return this.book.load();
  }

  /**
   * Replaces the counters and stores the book's changes in one write that completes before the
   * object's answer leaves (the output gate holds it): the only way this object stores a lease.
   * Synchronous, so no await can come between the two. `meters` null: the counters are unchanged.
   */
  commitBeforeAnswer(meters: Meters | null): void {
    if (meters) this.cell.setMetersBeforeAnswer(meters);
    this.book.write();
  }

  /** Whether `holder` may be lent a lease now: leasing on, grants not paused, none held. */
  mayLend(holder: string, policy: KeyTypePolicy, now: number): boolean {
    return !!policy.leaseMs && this.book.granting && !this.book.holds(holder, now);
  }

  /**
   * Lends the asking isolate a lease of the key's own counters (after `counters`, this request
   * counted), when the key is leasable now (leaseBudget) and the isolate holds none. The lease is
   * in the book and the counters returned have its budget taken: the caller commits both with
   * `commitBeforeAnswer`, with no await before.
   */
  lend(
    ask: LeaseAsk,
    state: KeyState,
    counters: Counters,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
  ): { grant: LentLease; counters: Counters } | null {
    if (!this.mayLend(ask.holder, policy, now)) return null;
    const limits = keyLimits(state, policy);
    const grant = leaseBudget({
      limits,
      windows: counters.windows,
      credits: counters.credits,
      now,
      maxMs: policy.leaseMs ?? 0,
      expiresAt: state.record.expiresAt,
      wantedRequests: ask.wanted,
      cost: check.cost,
      otherHolders: this.book.othersThan(ask.holder, now),
      creditsLowThreshold: policy.creditsLowThreshold ?? null,
    });
    if (!grant) return null;
    const id = crypto.randomUUID();
    this.book.prune(now);
    this.book.lend(ask.holder, {
      kind: "own",
      id,
      budget: grant.budget,
      periods: leasePeriods(limits, counters.credits, now),
      ms: grant.ms,
      endsAt: now + grant.ms,
    });
    const after = { windows: grant.windows, credits: grant.credits };
    return {
      grant: { id, ms: grant.ms, budget: grant.budget, state: leasedState(state), counters: after },
      counters: after,
    };
  }

  /**
   * Records a lease the owner's object granted (docs/consistency.md#owners) so that every change
   * to the key fences it, and stores it before the answer; returns what the isolate receives.
   */
  passOn(holder: string, state: KeyState, lease: OwnerLease, keyCounters: Counters, now: number): LentLease {
    this.book.prune(now);
    this.book.lend(holder, {
      kind: "via-owner",
      id: lease.id,
      budget: lease.budget,
      ms: lease.ms,
      endsAt: now + lease.ms,
    });
    this.commitBeforeAnswer(null);
    return {
      id: lease.id,
      ms: lease.ms,
      budget: lease.budget,
      state: leasedState(state),
      counters: keyCounters,
      usage: {
        windows: lease.windows,
        credits: lease.credits ? { remaining: lease.credits.remaining, refill: lease.credits.refill } : null,
        retryAfter: null,
      },
    };
  }

  /**
   * Settles the isolate's report: ends its lease, gives a lease of the key's own counters back
   * to them (under the limits of the state it is given: the last context this object held, for a
   * report that comes alone; also within the grace after the lease is over,
   * since the isolate stopped using it before then), counts what it decided, and commits. A
   * lease forgotten (long over, or fenced) or unknown gives nothing back. Returns the report to
   * forward when the lease was the owner's: its budget goes back there.
   */
  settle(
    holder: string,
    report: LeaseReport,
    state: KeyState,
    policy: KeyTypePolicy,
    now: number,
  ): OwnerLeaseReport | null {
    const { counters, activity } = this.cell.meters;
    this.book.prune(now);
    const lease = this.book.end(holder, report.leaseId);
    const given =
      lease?.kind === "own"
        ? giveBack(
            keyLimits(state, policy),
            counters.windows,
            counters.credits,
            lease.periods,
            report.unused,
            now,
          )
        : counters;
    this.commitBeforeAnswer({
      counters: given,
      activity: recordLeased(activity, report.counts, report.lastUsedAt, now),
    });
    return lease?.kind === "via-owner"
      ? { holder: `${state.record.id}/${holder}`, leaseId: report.leaseId, unused: report.unused }
      : null;
  }

  /** Whether new leases may be granted now (no `drained` change under way). */
  get granting(): boolean {
    return this.book.granting;
  }

  /**
   * An admin change answers once it is in force for every request that starts after the answer
   * (docs/consistency.md): here at once, and in every isolate once the leases lent before it are
   * settled or over, at most `leases.ms` (I4 of docs/key-object.md).
   */
  async fenced<T extends { ok: boolean }>(change: Promise<T>): Promise<T> {
    const outcome = await change;
    if (outcome.ok) await this.book.fence();
    return outcome;
  }

  /** Waits until every lease out now is settled or over (LeaseBook.fence). */
  fence(): Promise<void> {
    return this.book.fence();
  }

  /** Runs `change` with no lease out (LeaseBook.drained). */
  drained<T>(change: () => Promise<T>): Promise<T> {
    return this.book.drained(change);
  }
}
