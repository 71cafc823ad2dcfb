/**
 * KeyGate: one Durable Object per key, named by the key's id. It is the authority on the key's
 * state and the single place where its usage is counted: every verification asks it, so a
 * revoke or disable is in force for every isolate the moment it is stored here, and limits are
 * exact because one object decides and counts each request, one at a time. Its jobs, one
 * module each:
 *
 *   deciding        this file (authorize), with the pure decision of decide.ts; a key whose
 *                   owner has limits or credits is counted by the owner's object (owner-gate.ts)
 *   leases          lease-book.ts: decisions lent to isolates, with budgets (docs/consistency.md#leases)
 *   admin changes   admin-changes.ts, in the write order of ordered-writes.ts
 *   usage           usage.ts, written behind to D1 by the alarm
 *   events          events.ts, an outbox moved to D1 and the queue by the alarm
 *   the key's state cell.ts, the one writer of it
 *   upgrade         adoption.ts, from objects named by hash
 */
import { DurableObject } from "cloudflare:workers";
import {
  type Counters,
  decide,
  denial,
  type GateCheck,
  type GateState,
  resolvePlan,
} from "../decision/decide";
import { gateOf, type KeyGateApi } from "../key-client/client";
import type {
  AdminScope,
  AuthorizeOutcome,
  ChangeContext,
  ContextChange,
  CreditChange,
  HandOff,
  KeyPatch,
  KeySnapshot,
  LeaseAsk,
  LeaseGrant,
  LeaseReport,
  RecentActivity,
  WriteOutcome,
} from "../key-client/contract";
import {
  type OwnerGateApi,
  type OwnerLeaseReport,
  type OwnerMeterOutcome,
  ownerGateOf,
} from "../key-client/owner-client";
import type { PortcullisEvent } from "../keys/events";
import { identityOf } from "../keys/record";
import { currentCredits } from "../limits/credits";
import { copyVersion, grantLease, leasePeriods, type OwnerCopy, takeAnswer } from "../limits/lease";
import { effectiveLimits, type Window, type WindowStates } from "../limits/windows";
import type { KeyTypePolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import { ownerApplies, readKeyContext } from "../storage/key-context";
import { KeyChanges } from "./admin-changes";
import { adopt, handOff } from "./adoption";
import { KeyCell, type StoredState } from "./cell";
import { EventOutbox, publish } from "./events";
import { LeaseBook } from "./lease-book";
import { OrderedWrites } from "./ordered-writes";
import { recordActivity, recordDecision, recordLeased, WriteBehind } from "./usage";

/**
 * Longest time a key's copy of its roles' permissions (and of whether its owner has limits or
 * credits) is trusted, ms. Role edits and owner settings are pushed to every key concerned
 * before the admin call returns; this bound covers a push that failed and a key created while
 * its role or owner was being edited.
 */
export const ROLE_REFRESH_MS = 30_000;

/** Storage key of the owner's last answer the key's windows were copied from (`OwnerCopy`). */
const OWNER_COPY = "ownerCopy";

export class KeyGate extends DurableObject<Env> implements KeyGateApi {
  /** D1, as this object sees it; tests replace it to inject failures at each step of a write. */
  db: D1Database;
  /** The events queue, as this object sees it; tests replace it to make it fail. */
  queue: Queue<PortcullisEvent> | undefined;
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();
  /** The object of an owner; tests replace it to make the owner's object fail. */
  owners: (workspaceId: string, ownerId: string) => OwnerGateApi = (workspaceId, ownerId) =>
    ownerGateOf(this.env, workspaceId, ownerId);
  private readonly cell: KeyCell;
  private readonly writes: OrderedWrites;
  private readonly changes: KeyChanges;
  private readonly usage: WriteBehind;
  private readonly leases: LeaseBook;
  private readonly events: EventOutbox;
  /** The role refresh under way, shared by the requests that arrive meanwhile. */
  private refreshing: Promise<void> | null = null;
  /** Requests of an owned key with its own credits, one after another (authorizeOwned). */
  private creditTurns: Promise<unknown> = Promise.resolve();
  /** The owner's answer the key's windows were last copied from (authorizeOwned). */
  private ownerCopy: OwnerCopy | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = env.DB;
    this.queue = env.EVENTS;
    const db = () => this.db;
    const now = () => this.now();
    this.cell = new KeyCell(ctx.storage, now);
    this.writes = new OrderedWrites(ctx.storage, db, now, (events) => publish(this.queue, events));
    this.changes = new KeyChanges(this.cell, this.writes, db, now);
    this.usage = new WriteBehind(ctx.storage, db);
    this.leases = new LeaseBook(ctx.storage, now);
    this.events = new EventOutbox(ctx.storage, db, () => this.queue);
    ctx.blockConcurrencyWhile(async () => {
      await Promise.all([
        this.cell.load(),
        this.writes.load(),
        this.usage.load(),
        this.leases.load(),
        this.events.load(),
        ctx.storage.get<OwnerCopy>(OWNER_COPY).then((copy) => {
          this.ownerCopy = copy ?? null;
        }),
      ]);
    });
  }

  /**
   * Decides one request for this key (rows 5-13 of docs/decisions.md) and, when `check.consume`, counts
   * it; with `ask`, settles the isolate's previous lease and may grant it a new one. Settling,
   * reading the state and counters, deciding, granting and replacing the counters happen with
   * no await in between, so concurrent requests are counted exactly and see every stored change.
   */
  async authorize(
    check: GateCheck,
    policy: KeyTypePolicy,
    ask: LeaseAsk | null = null,
  ): Promise<AuthorizeOutcome> {
    if (this.cell.state && !this.cell.state.deleted) await this.refreshRoles();
    while (this.cell.paused) await this.cell.paused;
    const state = this.cell.state;
    if (!state) return null;
    const now = this.now();
    const forward = ask?.report ? this.settle(ask.holder, ask.report, state, policy, now) : null;
    // Another workspace's key does not exist for the caller: nothing is counted or recorded.
    if (check.workspaceId !== null && state.record.workspaceId !== check.workspaceId) {
      return { decision: denial("invalid_key"), record: identityOf(state.record) };
    }
    if (state.successor) return this.authorizeRetired(state, state.successor, check, policy);
    if (state.ownerMetered && state.record.ownerId !== null && ownerApplies(state.record)) {
      return this.authorizeOwned(state, state.record.ownerId, check, policy, now, ask, forward);
    }
    const { decision, counters } = decide(state, this.cell.meters.counters, check, policy, now);
    if (!check.consume) return { decision, record: identityOf(state.record) };
    const activity = recordDecision(this.cell.meters.activity, check, decision.code, now);
    // Events: the outbox write is issued before the counters' write, with no await between.
    const raised = this.events.recordCounted({
      record: state.record,
      creditsBefore: this.cell.meters.counters.credits,
      decision,
      cost: check.cost,
      threshold: policy.creditsLowThreshold,
      now,
    });
    const lease =
      ask && decision.code === "valid" ? this.lend(ask, state, counters, check, policy, now) : null;
    if (lease) {
      this.cell.setMetersBeforeAnswer({ counters: lease.counters, activity });
      this.leases.write();
    } else {
      await this.cell.setMeters({ counters, activity }, false);
    }
    await this.usage.schedule(now);
    if (raised) await this.events.schedule(now);
    return { decision, record: identityOf(state.record), lease: lease?.grant ?? null };
  }

  /**
   * Grants the asking isolate a lease, when the key is leasable now (grantLease) and the
   * isolate holds none: counted as spent here at once, stored before the answer leaves.
   */
  private lend(
    ask: LeaseAsk,
    state: StoredState,
    counters: Counters,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
  ): { grant: LeaseGrant; counters: Counters } | null {
    if (!policy.leaseMs || !this.leases.granting || this.leases.holds(ask.holder, now)) return null;
    const limits = this.limitsOf(state, policy);
    const grant = grantLease({
      limits,
      windows: counters.windows,
      credits: counters.credits,
      now,
      maxMs: policy.leaseMs,
      expiresAt: state.record.expiresAt,
      wantedRequests: ask.wanted,
      cost: check.cost,
      otherHolders: this.leases.othersThan(ask.holder, now),
      creditsLowThreshold: policy.creditsLowThreshold ?? null,
    });
    if (!grant) return null;
    const id = crypto.randomUUID();
    this.leases.grant(ask.holder, {
      id,
      budget: grant.budget,
      periods: leasePeriods(limits, counters.credits, now),
      ms: grant.ms,
      endsAt: now + grant.ms,
    });
    const { record, workspacePlan, rolePermissions, rolesCheckedAt } = state;
    const after = { windows: grant.windows, credits: grant.credits };
    return {
      grant: {
        id,
        ms: grant.ms,
        budget: grant.budget,
        state: { record, workspacePlan, rolePermissions, rolesCheckedAt },
        counters: after,
      },
      counters: after,
    };
  }

  private limitsOf(state: StoredState, policy: KeyTypePolicy) {
    const plan = resolvePlan(state, policy);
    return effectiveLimits(state.record.limits, plan ? ownEntry(policy.plans, plan)?.limits : undefined);
  }

  /** Takes back what a lease did not use and counts what it decided. */
  private settle(
    holder: string,
    report: LeaseReport,
    state: StoredState,
    policy: KeyTypePolicy,
    now: number,
  ): OwnerLeaseReport | null {
    const { counters, activity } = this.cell.meters;
    const limits = this.limitsOf(state, policy);
    // A lease whose budget is the owner's goes back there: the caller forwards the report.
    const viaOwner = this.leases.find(holder, report.leaseId)?.viaOwner === true;
    if (viaOwner) this.leases.end(holder, report.leaseId);
    const meters = {
      counters: viaOwner
        ? counters
        : this.leases.settle(holder, report.leaseId, report.unused, limits, counters, now),
      activity: recordLeased(activity, report.counts, report.lastUsedAt, now),
    };
    this.cell.setMetersBeforeAnswer(meters);
    this.leases.write();
    return viaOwner
      ? { holder: `${state.record.id}/${holder}`, leaseId: report.leaseId, unused: report.unused }
      : null;
  }

  /** An isolate stopped deciding alone (its lease ended, or it changes the key): settles its lease. */
  async release(holder: string, report: LeaseReport, policy: KeyTypePolicy): Promise<void> {
    const state = this.cell.state;
    if (!state) return;
    const now = this.now();
    const forward = this.settle(holder, report, state, policy, now);
    await this.usage.schedule(now);
    if (forward && state.record.ownerId !== null) {
      const { workspaceId, ownerId } = state.record;
      const back = await this.owners(workspaceId, ownerId).release(
        state.record.id,
        this.limitsOf(state, policy),
        forward,
      );
      await this.takeOwned(`${workspaceId}/${ownerId}`, back && { ...back, charged: null });
    }
  }

  /**
   * A rotated key in its grace period: its own state decides rows 5-10 (so it expires when the
   * grace ends), and its successor counts it, so both keys draw on one set of limits, quotas
   * and credits. Every decision is recorded in this key's usage, the key the request presented
   * (the first of a chain of rotations records it).
   */
  private async authorizeRetired(
    state: StoredState,
    successor: string,
    check: GateCheck,
    policy: KeyTypePolicy,
  ): Promise<AuthorizeOutcome> {
    const own = decide(state, this.cell.meters.counters, { ...check, consume: false }, policy, this.now());
    let decision = own.decision;
    if (decision.code === "valid") {
      const presented = check.presented ?? state.record.id;
      const shared = await gateOf(this.env, successor).authorize({ ...check, presented }, policy);
      if (!shared) return null;
      decision = shared.decision;
    }
    if (check.consume && check.presented === undefined) {
      const now = this.now();
      const activity = recordActivity(this.cell.meters.activity, decision.code, now);
      await this.cell.setMeters({ ...this.cell.meters, activity }, false);
      await this.usage.schedule(now);
    }
    return { decision, record: identityOf(state.record) };
  }

  /**
   * A key whose owner has limits or credits (docs/consistency.md#owners): its own state decides rows 5-10, then the
   * owner's object counts rows 11-13 over the key's windows and the owner's at once, and this
   * object keeps a copy of the key's windows (where counting resumes if the key changes owner).
   * A key's own balance is charged here: requests that carry it to the owner's decision take
   * turns, so that no two draw on the same balance.
   */
  private async authorizeOwned(
    state: StoredState,
    ownerId: string,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
    ask: LeaseAsk | null,
    forward: OwnerLeaseReport | null,
  ): Promise<AuthorizeOutcome> {
    const record = identityOf(state.record);
    const own = decide(state, this.cell.meters.counters, { ...check, consume: false }, policy, now);
    const owner = this.owners(state.record.workspaceId, ownerId);
    const ownerName = `${state.record.workspaceId}/${ownerId}`;
    const limits = this.limitsOf(state, policy);
    if (own.decision.code !== "valid") {
      if (check.consume) await this.countOwned(check, own.decision.code, now);
      // The isolate's previous lease still goes back to the owner's object.
      if (forward) {
        const back = await owner.release(state.record.id, limits, forward);
        await this.takeOwned(ownerName, back && { ...back, charged: null });
      }
      return { decision: own.decision, record };
    }
    const counted = async () => {
      const counters = this.cell.meters.counters;
      const keyCredits = counters.credits ? currentCredits(counters.credits, now) : null;
      // A lease of an owned key draws on the owner's object, which counts every window of it.
      const leasable =
        ask !== null &&
        check.consume &&
        keyCredits === null &&
        !!policy.leaseMs &&
        this.leases.granting &&
        !this.leases.holds(ask.holder, now);
      const outcome = await owner.meter({
        keyId: state.record.id,
        keyLimits: limits,
        keyWindows: counters.windows,
        keyVersion: copyVersion(this.ownerCopy, ownerName, counters.windows),
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
      await this.takeOwned(ownerName, {
        windows: outcome.keyWindows,
        version: outcome.keyVersion ?? null,
        charged,
      });
      if (check.consume) await this.countOwned(check, outcome.code, now);
      return outcome;
    };
    const outcome = await (this.cell.meters.counters.credits && check.consume
      ? this.inTurn(counted)
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
      const raised = this.events.recordCounted({
        record: state.record,
        creditsBefore,
        decision,
        cost: check.cost,
        threshold: policy.creditsLowThreshold,
        now,
      });
      if (raised) await this.events.schedule(now);
    }
    const lease = ask ? await this.passOn(ask, state, owner, ownerName, limits, outcome, now) : null;
    return { decision, record, lease };
  }

  /**
   * Records the owner's lease here (so that every change to the key fences it) and passes it on
   * to the isolate, with the key's and the owner's windows as they stood after the grant.
   */
  private async passOn(
    ask: LeaseAsk,
    state: StoredState,
    owner: OwnerGateApi,
    ownerName: string,
    limits: [Window, number][],
    outcome: OwnerMeterOutcome,
    now: number,
  ): Promise<LeaseGrant | null> {
    const lease = outcome.lease;
    if (!lease) return null;
    // The owner's object answered after an await: a change written here meanwhile (a revoke, a
    // narrowing) or a change waiting for leases to drain must not be outrun by a lease carrying
    // the state read before it. Such a lease is handed straight back, unused.
    if (this.cell.state !== state || !this.leases.granting) {
      const holder = `${state.record.id}/${ask.holder}`;
      const back = await owner.release(state.record.id, limits, {
        holder,
        leaseId: lease.id,
        unused: lease.budget,
      });
      await this.takeOwned(ownerName, back && { ...back, charged: null });
      return null;
    }
    this.leases.grant(ask.holder, {
      id: lease.id,
      budget: lease.budget,
      periods: leasePeriods([], null, now),
      ms: lease.ms,
      endsAt: now + lease.ms,
      viaOwner: true,
    });
    this.leases.write();
    const { record, workspacePlan, rolePermissions, rolesCheckedAt } = state;
    return {
      id: lease.id,
      ms: lease.ms,
      budget: lease.budget,
      state: { record, workspacePlan, rolePermissions, rolesCheckedAt },
      counters: { windows: outcome.keyWindows, credits: null },
      usage: {
        windows: lease.windows,
        credits: lease.credits ? { remaining: lease.credits.remaining, refill: lease.credits.refill } : null,
        retryAfter: null,
      },
    };
  }

  /** Records an owned key's request here: its outcome. */
  private async countOwned(check: GateCheck, code: string, now: number): Promise<void> {
    const { counters, activity } = this.cell.meters;
    await this.cell.setMeters({ counters, activity: recordDecision(activity, check, code, now) }, false);
    await this.usage.schedule(now);
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
    const { counters, activity } = this.cell.meters;
    const taken = takeAnswer(this.ownerCopy, owner, counters.windows, answer);
    const balance = counters.credits ? currentCredits(counters.credits, this.now()) : null;
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
      this.ctx.storage.put(OWNER_COPY, taken.copy, { allowUnconfirmed: true });
    }
    if (next.windows !== counters.windows || next.credits !== counters.credits) {
      await this.cell.setMeters({ counters: next, activity }, false);
    }
  }

  /** Runs `step` after every step before it has finished. */
  private inTurn<T>(step: () => Promise<T>): Promise<T> {
    const result = this.creditTurns.then(step);
    this.creditTurns = result.catch(() => undefined);
    return result;
  }

  /**
   * Re-reads the key's context (roles' permissions, owner's settings, workspace's plan) from D1
   * once `ROLE_REFRESH_MS` has passed. The result is dropped when any write replaced the state
   * while D1 was read: that write is newer.
   */
  private refreshRoles(): Promise<void> {
    const state = this.cell.state;
    if (
      !state ||
      (state.record.roles.length === 0 && !ownerApplies(state.record)) ||
      this.now() - state.rolesCheckedAt < ROLE_REFRESH_MS
    ) {
      return Promise.resolve();
    }
    this.refreshing ??= (async () => {
      const version = this.cell.version;
      const checkedAt = this.now();
      try {
        const { workspacePlan, rolePermissions, ownerMetered } = await readKeyContext(this.db, state.record);
        const current = this.cell.state;
        if (this.cell.version !== version || !current) return;
        await this.cell.persist({
          ...current,
          workspacePlan,
          rolePermissions,
          rolesCheckedAt: checkedAt,
          ownerMetered,
        });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async adopt(keyId: string, hash: string): Promise<boolean> {
    const previous = (name: string) => gateOf(this.env, name);
    return adopt(
      { cell: this.cell, writes: this.writes, db: () => this.db, now: () => this.now(), previous },
      keyId,
      hash,
    );
  }

  async handOff(): Promise<HandOff | null> {
    return handOff(this.cell, this.writes, this.ctx.storage);
  }

  /** The key as it stands: record with live balance and last use, context and counters. */
  async snapshot(scope: AdminScope): Promise<KeySnapshot | "absent" | null> {
    if (!this.cell.state) return "absent";
    const state = this.cell.visible(scope);
    if (!state) return null;
    return {
      record: this.cell.view(state.record),
      workspacePlan: state.workspacePlan,
      rolePermissions: state.rolePermissions,
      counters: this.cell.meters.counters,
      rotated: state.successor !== undefined,
      at: this.now(),
    };
  }

  /** Usage totals of the days not yet written behind to D1 (absolute, by UTC date). */
  async recentActivity(scope: AdminScope): Promise<RecentActivity | null> {
    if (!this.cell.visible(scope)) return null;
    const { days, hours = {} } = this.cell.meters.activity;
    return { days, hours };
  }

  async create(
    initial: GateState,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited: Counters | null = null,
  ): Promise<WriteOutcome> {
    return this.changes.create(initial, hash, action, context, inherited);
  }

  async update(
    scope: AdminScope,
    patch: KeyPatch,
    rolePermissions: Record<string, string[]> | null,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    return this.fenced(this.changes.update(scope, patch, rolePermissions, context));
  }

  async revoke(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.fenced(this.changes.revoke(scope, context));
  }

  async endGrace(successor: string, context: ChangeContext): Promise<WriteOutcome> {
    return this.fenced(this.changes.endGrace(successor, context));
  }

  async remove(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.fenced(this.changes.remove(scope, context));
  }

  async rotate(
    scope: AdminScope,
    successor: { id: string; hash: string; start: string },
    graceMs: number,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    // Unused budget must be back before the counters go to the successor.
    return this.leases.drained(() =>
      this.changes.rotate(scope, successor, graceMs, context, (id) => gateOf(this.env, id)),
    );
  }

  async changeCredits(
    scope: AdminScope,
    change: CreditChange,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    // Unused budget must be back before the operation applies to the balance: a decrement
    // clamped at zero must not be topped up by a report arriving after it.
    return this.leases.drained(() => this.changes.changeCredits(scope, change, context));
  }

  async updateContext(change: ContextChange): Promise<void> {
    await this.changes.updateContext(change);
    await this.leases.fence();
  }

  /**
   * An admin change answers once it is in force for every request that starts after the
   * answer (docs/consistency.md): here at once, and in every isolate once the leases granted before it are
   * settled or over (at most `leases.ms`).
   */
  private async fenced(change: Promise<WriteOutcome>): Promise<WriteOutcome> {
    const outcome = await change;
    if (outcome.ok) await this.leases.fence();
    return outcome;
  }

  /** Retries the D1 writes that followed changes in force here, moves the event outbox, then writes usage behind. */
  override async alarm(): Promise<void> {
    if (this.cell.handedOff) return;
    if (!(await this.writes.retry())) return;
    await this.events.flush(this.now());
    const record = this.cell.state?.record;
    const view = record ? this.cell.view(record) : null;
    const key = view ? { id: view.id, lastUsedAt: view.lastUsedAt, credits: view.credits } : null;
    await this.usage.flush(this.now(), key, this.cell);
  }
}
