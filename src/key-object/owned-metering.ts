/**
 * Owned-key metering in a key's object (docs/consistency.md#owners, docs/key-object.md): a key
 * whose owner has limits or credits decides rows 5-10 from its own state, then the owner's
 * object counts rows 11-13 over the key's windows and the owner's at once, and may grant a
 * lease, which this object records (so every change to the key fences it) and passes on. This
 * object keeps a copy of the key's windows, taken from the owner's answers by version (where
 * counting resumes if the key changes owner), and charges the key's own balance, if it has one.
 */
import { type Counters, decide, type GateCheck, keyLimits } from "../decision/decide";
import type { AuthorizeOutcome, LeaseAsk, LentLease } from "../key-client/contract";
import type { OwnerGateApi, OwnerLeaseReport, OwnerMeterOutcome } from "../key-client/owner-client";
import { identityOf } from "../keys/record";
import { currentCredits } from "../limits/credits";
import { copyVersion, type OwnerCopy, takeAnswer } from "../limits/lease";
import type { Window, WindowStates } from "../limits/windows";
import type { KeyTypePolicy } from "../policy/compiled";
import type { KeyCell, KeyState, StoredState } from "./cell";
import type { EventOutbox } from "./events";
import type { KeyLeases } from "./key-leases";
import { Turns } from "./turns";
import { recordDecision, type UsageBook } from "./usage";

/** Storage key of the owner's last answer the key's windows were copied from (`OwnerCopy`). */
const OWNER_COPY = "ownerCopy";

/** What the owned path reads of the key's object. */
export interface OwnedParts {
  storage: DurableObjectStorage;
  cell: KeyCell;
  leases: KeyLeases;
  events: EventOutbox;
  usage: UsageBook;
  now: () => number;
  owners: (workspaceId: string, ownerId: string) => OwnerGateApi;
}

export class OwnedMetering {
  /** The owner's answer the key's windows were last copied from. */
  private ownerCopy: OwnerCopy | null = null;
  /**
   * Requests of a key with its own credits take turns across the owner's await, so that no two
   * draw on the same balance (docs/key-object.md, serialisation).
   */
  private readonly creditTurns = new Turns();

  constructor(private readonly parts: OwnedParts) {}

  async load(): Promise<void> {
    this.ownerCopy = (await this.parts.storage.get<OwnerCopy>(OWNER_COPY)) ?? null;
  }

  /**
   * Decides and counts one request of an owned key. `version` is the cell's version `state` was
   * read at: a lease the owner's object grants is passed on only if no change was stored since.
   */
  async authorize(
    state: KeyState,
    version: number,
    ownerId: string,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
    ask: LeaseAsk | null,
    forward: OwnerLeaseReport | null,
  ): Promise<AuthorizeOutcome> {
    const { cell, leases, events } = this.parts;
    const record = identityOf(state.record);
    const own = decide(state, cell.meters.counters, { ...check, consume: false }, policy, now);
    const owner = this.owner(state, ownerId);
    const limits = keyLimits(state, policy);
    if (own.decision.code !== "valid") {
      if (check.consume) await this.countOwned(check, own.decision.code, now);
      // The isolate's previous lease still goes back to the owner's object.
      if (forward) await this.giveBack(state, ownerId, limits, forward);
      return { decision: own.decision, record };
    }
    const counted = async () => {
      const counters = cell.meters.counters;
      const keyCredits = counters.credits ? currentCredits(counters.credits, now) : null;
      // A lease of an owned key draws on the owner's object, which counts every window of it.
      const leasable =
        ask !== null && check.consume && keyCredits === null && leases.mayLend(ask.holder, policy, now);
      const outcome = await owner.meter({
        keyId: state.record.id,
        keyLimits: limits,
        keyWindows: counters.windows,
        keyVersion: copyVersion(this.ownerCopy, this.ownerName(state, ownerId), counters.windows),
        keyCredits,
        cost: check.cost,
        take: check.consume,
        report: forward,
        lease: leasable
          ? {
              holder: `${state.record.id}/${ask.holder}`,
              wanted: ask.wanted,
              maxMs: policy.leaseMs ?? 0,
              expiresAt: state.record.expiresAt,
              creditsLowThreshold: policy.creditsLowThreshold ?? null,
            }
          : null,
      });
      const charged = check.consume && outcome.code === "valid" && keyCredits !== null ? check.cost : null;
      await this.takeOwned(this.ownerName(state, ownerId), {
        windows: outcome.keyWindows,
        version: outcome.keyVersion ?? null,
        charged,
      });
      if (check.consume) await this.countOwned(check, outcome.code, now);
      return outcome;
    };
    const outcome = await (cell.meters.counters.credits && check.consume
      ? this.creditTurns.run(counted)
      : counted());
    const credits = outcome.credits;
    const decision = {
      ...own.decision,
      code: outcome.code,
      usage: {
        windows: outcome.windows,
        credits: credits ? { remaining: credits.remaining, refill: credits.refill } : null,
        retryAfter: outcome.retryAfter,
      },
    };
    if (check.consume) {
      // The balance charged (the key's own, or the owner's) as it stood before this request.
      const charged = outcome.code === "valid" ? check.cost : 0;
      const creditsBefore = credits ? { ...credits, remaining: credits.remaining + charged } : null;
      const raised = events.recordCounted({
        record: state.record,
        creditsBefore,
        decision,
        cost: check.cost,
        threshold: policy.creditsLowThreshold,
        now,
      });
      if (raised) await events.schedule(now);
    }
    const lease = ask ? await this.passOn(ask, state, version, ownerId, limits, outcome, now) : null;
    return { decision, record, lease };
  }

  /** Gives a report of a lease the owner granted back to the owner's object, and takes its answer. */
  async giveBack(
    state: KeyState,
    ownerId: string,
    limits: [Window, number][],
    report: OwnerLeaseReport,
  ): Promise<void> {
    const back = await this.owner(state, ownerId).release(state.record.id, limits, report);
    await this.takeOwned(this.ownerName(state, ownerId), back && { ...back, charged: null });
  }

  /**
   * Passes the owner's lease on to the isolate, with the key's and the owner's windows as they
   * stood after the grant. The owner's object answered after an await: a change stored here
   * meanwhile (a revoke, a narrowing: the cell's version moved) or a change waiting for leases
   * to drain must not be outrun by a lease carrying the state read before it. Such a lease is
   * handed straight back, unused.
   */
  private async passOn(
    ask: LeaseAsk,
    state: KeyState,
    version: number,
    ownerId: string,
    limits: [Window, number][],
    outcome: OwnerMeterOutcome,
    now: number,
  ): Promise<LentLease | null> {
    const lease = outcome.lease;
    if (!lease) return null;
    const { cell, leases } = this.parts;
    const holder = `${state.record.id}/${ask.holder}`;
    if (cell.version !== version || !leases.granting) {
      await this.giveBack(state, ownerId, limits, { holder, leaseId: lease.id, unused: lease.budget });
      return null;
    }
    const keyCounters: Counters = { windows: outcome.keyWindows, credits: null };
    return leases.passOn(ask.holder, state, lease, keyCounters, now);
  }

  /** Records an owned key's request here: its outcome. */
  private async countOwned(check: GateCheck, code: string, now: number): Promise<void> {
    const { cell, usage } = this.parts;
    const { counters, activity } = cell.meters;
    await cell.setMeters({ counters, activity: recordDecision(activity, check, code, now) }, false);
    await usage.schedule(now);
  }

  /**
   * Takes an answer of the owner's object into the key's copy of its windows (by version: the
   * owner's object is their authority, so a give-back it made is kept), and charges the key's
   * own credits if the request was charged to them.
   */
  private async takeOwned(
    owner: string,
    answer: { windows: WindowStates; version: number | null; charged: number | null } | null,
  ): Promise<void> {
    if (!answer) return;
    const { cell, storage, now } = this.parts;
    const { counters, activity } = cell.meters;
    const taken = takeAnswer(this.ownerCopy, owner, counters.windows, answer);
    const balance = counters.credits ? currentCredits(counters.credits, now()) : null;
    const next = {
      windows: taken.windows,
      // Charged on the balance as it is now: an admin change made meanwhile is kept.
      credits:
        balance && answer.charged !== null
          ? { ...balance, remaining: Math.max(0, balance.remaining - answer.charged) }
          : counters.credits,
    };
    if (taken.copy !== this.ownerCopy) {
      this.ownerCopy = taken.copy;
      storage.put(OWNER_COPY, taken.copy, { allowUnconfirmed: true });
    }
    if (next.windows !== counters.windows || next.credits !== counters.credits) {
      await cell.setMeters({ counters: next, activity }, false);
    }
  }

  private owner(state: StoredState, ownerId: string): OwnerGateApi {
    return this.parts.owners(state.record.workspaceId, ownerId);
  }

  private ownerName(state: StoredState, ownerId: string): string {
    return `${state.record.workspaceId}/${ownerId}`;
  }
}
