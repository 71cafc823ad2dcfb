/**
 * KeyGate: one Durable Object per key, named by the key's id, the authority on the key's state
 * and the single place its usage is counted: a revoke is in force for every isolate the moment
 * it is stored here, and limits are exact because one object decides and counts each request.
 * This file decides and dispatches; each other job is one module of this folder. What it stores,
 * how a lease moves, and the invariants every change keeps (I1...): docs/key-object.md. Usage
 * is kept here and fed to the workspace's usage shards by the alarm (docs/consistency.md#usage).
 */
import { DurableObject } from "cloudflare:workers";
import { type Counters, decide, denial, type GateCheck, type GateState, keyLimits } from "../decision/decide";
import { gateOf, type KeyGateApi } from "../key-client/client";
import { contextObjectOf, contextShard, type WorkspaceContextApi } from "../key-client/context-client";
import type {
  AdminScope,
  AuthorizeOutcome,
  ChangeContext,
  CreateCap,
  CreditChange,
  HandOff,
  KeyPatch,
  KeySnapshot,
  LeaseAsk,
  LeaseReport,
  RotationSuccessor,
  WriteOutcome,
} from "../key-client/contract";
import { type OwnerGateApi, ownerGateOf } from "../key-client/owner-client";
import {
  rollupOf,
  rollupShard,
  type UsageKind,
  type UsageRollupApi,
} from "../key-client/usage-rollup-client";
import type { PortcullisEvent } from "../keys/events";
import { identityOf } from "../keys/record";
import type { KeyTypePolicy } from "../policy/compiled";
import { ownerApplies } from "../storage/key-context";
import { KeyChanges } from "./admin-changes";
import { adopt, handOff } from "./adoption";
import { KeyCell, type KeyState, type StoredState } from "./cell";
import { CONTEXT_TRIES, ContextLease, type HeldContext } from "./context-lease";
import { EventOutbox, publish } from "./events";
import { KeyLeases } from "./key-leases";
import { OrderedWrites } from "./ordered-writes";
import { OwnedMetering } from "./owned-metering";
import { authorizeRetired } from "./retired";
import { recordDecision, UsageBook } from "./usage";
import { dailyUsageDays } from "./usage-periods";

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
  /** The usage shard of this key; tests replace it to make it fail or to count its feeds. */
  rollups: (workspaceId: string, keyId: string) => UsageRollupApi = (workspaceId, keyId) =>
    rollupOf(this.env, workspaceId, rollupShard(keyId));
  /** The context shard of this key; tests replace it to count, hold or fail its answers. */
  contexts: (workspaceId: string, keyId: string) => WorkspaceContextApi = (workspaceId, keyId) =>
    contextObjectOf(this.env, workspaceId, contextShard(keyId));
  private readonly cell: KeyCell;
  private readonly writes: OrderedWrites;
  private readonly changes: KeyChanges;
  private readonly usage: UsageBook;
  private readonly leases: KeyLeases;
  private readonly events: EventOutbox;
  private readonly context: ContextLease;
  private readonly owned: OwnedMetering;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = env.DB;
    this.queue = env.EVENTS;
    const db = () => this.db;
    const now = () => this.now();
    this.cell = new KeyCell(ctx.storage, now);
    this.writes = new OrderedWrites(ctx.storage, db, now, (events) => publish(this.queue, events));
    this.changes = new KeyChanges(this.cell, this.writes, db, now);
    this.usage = new UsageBook(
      ctx.storage,
      db,
      (workspaceId, keyId) => this.rollups(workspaceId, keyId),
      () => dailyUsageDays(env),
    );
    this.leases = new KeyLeases(ctx.storage, this.cell, now);
    this.events = new EventOutbox(ctx.storage, db, () => this.queue);
    this.context = new ContextLease((workspaceId, keyId) => this.contexts(workspaceId, keyId), now);
    const { cell, leases, events, usage } = this;
    const owners = (workspaceId: string, ownerId: string) => this.owners(workspaceId, ownerId);
    this.owned = new OwnedMetering({ storage: ctx.storage, cell, leases, events, usage, now, owners });
    ctx.blockConcurrencyWhile(async () => {
      await Promise.all([
        this.cell.load(),
        this.writes.load(),
        this.usage.load(),
        this.leases.load(),
        this.events.load(),
        this.owned.load(),
      ]);
    });
  }

  /**
   * Decides one request for this key (rows 5-13 of docs/decisions.md) and, when `check.consume`, counts
   * it; with `ask`, settles the isolate's previous lease and may lend it a new one. Settling,
   * reading the state and counters, deciding, lending and committing happen with no await in
   * between (I1 of docs/key-object.md), so concurrent requests are counted exactly and see every
   * stored change.
   */
  async authorize(
    check: GateCheck,
    policy: KeyTypePolicy,
    ask: LeaseAsk | null = null,
  ): Promise<AuthorizeOutcome> {
    const arrival = this.now();
    const ms = policy.leaseMs ?? 0;
    for (let tries = 0; tries < CONTEXT_TRIES; tries++) {
      while (this.cell.paused) await this.cell.paused;
      const { state, version } = this.cell;
      if (!state) return null;
      if (state.deleted)
        return this.decide(deletedState(state), version, check, { ...policy, leaseMs: 0 }, ask);
      // A lease lent now must end with the context (I14): ask anew when little of it is left.
      const held = this.context.usable(state.record, arrival, ask && tries === 0 ? ms / 2 : 0);
      if (held) {
        const now = this.now();
        const leaseMs = Math.max(0, Math.min(ms, Math.floor(held.endsAt - now)));
        return this.decide(withContext(state, held), version, check, { ...policy, leaseMs }, ask);
      }
      await this.context.ask(state.record, arrival, ms);
    }
    throw new Error("The key's context kept changing while it was asked for; the request was denied.");
  }

  /**
   * Decides under `state` (the record with a context that covers this request), with no await
   * since it was read. `policy.leaseMs` is clipped to the context's end: no lease outlives it.
   */
  private decide(
    state: KeyState,
    version: number,
    check: GateCheck,
    policy: KeyTypePolicy,
    ask: LeaseAsk | null,
  ): Promise<AuthorizeOutcome> {
    const now = this.now();
    const forward = ask?.report ? this.leases.settle(ask.holder, ask.report, state, policy, now) : null;
    // Another workspace's key does not exist for the caller: nothing is counted or recorded.
    if (check.workspaceId !== null && state.record.workspaceId !== check.workspaceId) {
      return Promise.resolve({ decision: denial("invalid_key"), record: identityOf(state.record) });
    }
    if (state.successor) {
      const parts = { cell: this.cell, usage: this.usage, now: () => this.now() };
      return authorizeRetired(parts, state, gateOf(this.env, state.successor), check, policy);
    }
    if (state.ownerMetered && state.record.ownerId !== null && ownerApplies(state.record)) {
      const ownerId = state.record.ownerId;
      return this.owned.authorize(state, version, ownerId, check, policy, now, ask, forward);
    }
    return this.authorizeOwn(state, check, policy, now, ask);
  }

  /** A key counted here: decides, counts, may lend, and commits, with no await before the commit. */
  private async authorizeOwn(
    state: KeyState,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
    ask: LeaseAsk | null,
  ): Promise<AuthorizeOutcome> {
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
    const lent =
      ask && decision.code === "valid" ? this.leases.lend(ask, state, counters, check, policy, now) : null;
    if (lent) this.leases.commitBeforeAnswer({ counters: lent.counters, activity });
    else await this.cell.setMeters({ counters, activity }, false);
    await this.usage.schedule(now);
    if (raised) await this.events.schedule(now);
    return { decision, record: identityOf(state.record), lease: lent?.grant ?? null };
  }

  /** An isolate stopped deciding alone (its lease ended, or it changes the key): settles its lease. */
  async release(holder: string, report: LeaseReport, policy: KeyTypePolicy): Promise<void> {
    const stored = this.cell.state;
    if (!stored) return;
    // The budget goes back under the limits it was lent under: those of the context last held
    // (the lease ended with it, I14), whatever its end. A restarted object asks for one.
    let held = this.context.last(stored.record);
    if (!held) {
      await this.context.ask(stored.record, this.now(), 0);
      held = this.cell.state && this.context.last(this.cell.state.record);
    }
    if (!held || !this.cell.state) return;
    const state = withContext(this.cell.state, held);
    const now = this.now();
    const forward = this.leases.settle(holder, report, state, policy, now);
    await this.usage.schedule(now);
    if (forward && state.record.ownerId !== null) {
      await this.owned.giveBack(state, state.record.ownerId, keyLimits(state, policy), forward);
    }
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

  /** With `context`, the key's context as a request arriving now would be decided under. */
  async snapshot(scope: AdminScope, context = false): Promise<KeySnapshot | "absent" | null> {
    if (!context) return this.cell.snapshot(scope);
    const arrival = this.now();
    for (let tries = 0; tries < CONTEXT_TRIES; tries++) {
      const state = this.cell.visible(scope);
      if (!state) return this.cell.snapshot(scope);
      const held = this.context.usable(state.record, arrival);
      if (held) {
        const snapshot = this.cell.snapshot(scope);
        if (snapshot === null || snapshot === "absent") return snapshot;
        const { workspacePlan, rolePermissions } = held.context;
        return { ...snapshot, context: { workspacePlan, rolePermissions } };
      }
      await this.context.ask(state.record, arrival, 0);
    }
    throw new Error("The key's context kept changing while it was asked for.");
  }

  /** The key's usage from `from` to `to` (inclusive labels), exact: kept here, with the live counts. */
  async usageOf(scope: AdminScope, kind: UsageKind, from: string, to: string) {
    const state = this.cell.visible(scope);
    if (!state) return null;
    await this.usage.importOnce(state.record.id, this.now());
    return this.usage.read(kind, from, to, this.cell.meters.activity);
  }

  /** Imports the key's usage kept in D1 by an earlier revision and feeds it on (the scheduled upgrade step). */
  async importUsage(keyId: string): Promise<void> {
    await this.usage.importOnce(keyId, this.now());
    await this.alarm();
  }

  async create(
    initial: Pick<GateState, "record">,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited: Counters | null = null,
    cap: CreateCap | null = null,
  ): Promise<WriteOutcome> {
    const outcome = await this.changes.create(initial, hash, action, context, inherited, cap);
    if (outcome.ok) await this.usage.created(outcome.record.id, outcome.record.workspaceId);
    return outcome;
  }

  async update(scope: AdminScope, patch: KeyPatch, context: ChangeContext): Promise<WriteOutcome> {
    // A Worker of the revision before sends (scope, patch, rolePermissions, context) while a
    // deploy spreads: its role map must not pass for a context (no actor, request or audit id).
    // Nothing is changed and the caller answers 503; its retry reaches a Worker of this revision.
    if (!isChangeContext(context)) return { ok: false, code: "unavailable" };
    return this.leases.fenced(this.changes.update(scope, patch, context));
  }

  async revoke(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.leases.fenced(this.changes.revoke(scope, context));
  }

  async endGrace(successor: string, context: ChangeContext): Promise<WriteOutcome> {
    return this.leases.fenced(this.changes.endGrace(successor, context));
  }

  async remove(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.leases.fenced(this.changes.remove(scope, context));
  }

  async rotate(
    scope: AdminScope,
    successor: RotationSuccessor,
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

  /** Retries the D1 writes that followed changes in force here, moves the event outbox, then moves usage on. */
  override async alarm(): Promise<void> {
    if (this.cell.handedOff) return;
    if (!(await this.writes.retry())) return;
    await this.events.flush(this.now());
    const record = this.cell.state?.record;
    const view = record ? this.cell.view(record) : null;
    const key = view
      ? { id: view.id, workspaceId: view.workspaceId, lastUsedAt: view.lastUsedAt, credits: view.credits }
      : null;
    await this.usage.flush(this.now(), key, this.cell);
  }
}

/** The key's state with the context it is decided under (the object stores none). */
function withContext(state: StoredState, held: HeldContext): KeyState {
  const { workspacePlan, rolePermissions, ownerMetered, ownerRoles, ownerRolePermissions } = held.context;
  return { ...state, workspacePlan, rolePermissions, ownerMetered, ownerRoles, ownerRolePermissions };
}

/** Whether `value` has the actor, request id and audit id every change is written with. */
function isChangeContext(value: unknown): value is ChangeContext {
  const context = value as Partial<ChangeContext> | null;
  return (
    typeof context?.auditId === "string" &&
    typeof context.requestId === "string" &&
    typeof context.actor?.type === "string"
  );
}

/** A deleted key needs no context: it answers `key_revoked` whatever its plan or roles. */
function deletedState(state: StoredState): KeyState {
  return { ...state, workspacePlan: null, rolePermissions: {}, ownerMetered: false };
}
