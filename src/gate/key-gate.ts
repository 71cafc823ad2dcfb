/**
 * KeyGate: one Durable Object per key, addressed by the key's SHA-256. It is the authority on
 * the key's state and the single place where its usage is counted: every verification asks it,
 * so a revoke or disable is in force for every isolate the moment it is stored here, and limits
 * are exact because one object decides and counts each request, one at a time. Admin writes to
 * the key pass through it too, one after another, in the order the consistency rule of SPEC 6
 * asks for; usage is written behind to D1 by its alarm.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { onlyRestricts } from "../keys/change";
import { type Credits, identityOf, type KeyRecord } from "../keys/record";
import { applyCreditOp, creditState, currentCredits } from "../limits/credits";
import { type AuditAction, type AuditEntry, AuditStore } from "../storage/audit";
import { KeyStore } from "../storage/keys";
import { permissionsByRole, RoleStore } from "../storage/roles";
import { type DayCounts, UsageStore } from "../storage/usage";
import { type Activity, afterFlush, FLUSH_DELAY_MS, NO_ACTIVITY, recordActivity } from "./activity";
import { gateOf, type KeyGateApi } from "./client";
import {
  type Counters,
  currentUsage,
  decide,
  type GateCheck,
  type GatePolicy,
  type GateState,
} from "./decide";
import type {
  AuthorizeOutcome,
  ChangeContext,
  ContextChange,
  CreditChange,
  HandOver,
  Inspection,
  KeyPatch,
  WriteOutcome,
} from "./types";

/** Storage key of the `GateState`, written by admin changes. */
const STATE = "state";
/** Storage key of the `Meters` (counters and activity), written by every counted request. */
const METERS = "meters";
/** Storage key of a D1 write that failed after a restriction was put in force here. */
const REPAIR = "repair";
/** Delay before retrying a failed D1 write, ms. */
const REPAIR_RETRY_MS = 5_000;
/**
 * Longest time a key's copy of its roles' permissions is trusted, ms. Role edits are pushed to
 * every key holding the role before the admin call returns; this bound covers a push that
 * failed and a key created while its role was being edited.
 */
export const ROLE_REFRESH_MS = 30_000;

interface StoredState extends GateState {
  /** DELETE was called: the key answers `key_revoked` for ever. */
  deleted: boolean;
  /** Hash of the key this one was rotated into: during the grace period it counts there. */
  successor?: string;
}

interface Meters {
  counters: Counters;
  activity: Activity;
}

interface PendingWrite {
  record: KeyRecord;
  audit: AuditEntry;
  deleted: boolean;
}

export class KeyGate extends DurableObject<Env> implements KeyGateApi {
  private state: StoredState | null = null;
  private meters: Meters = { counters: { windows: {}, credits: null }, activity: NO_ACTIVITY };
  /** Admin writes run one after another; verifications are never blocked by them. */
  private writes: Promise<unknown> = Promise.resolve();
  private flushScheduled = false;
  private readonly keys: KeyStore;
  private readonly audit: AuditStore;
  private readonly roles: RoleStore;
  private readonly usage: UsageStore;
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.keys = new KeyStore(env.DB);
    this.audit = new AuditStore(env.DB);
    this.roles = new RoleStore(env.DB);
    this.usage = new UsageStore(env.DB);
    ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<StoredState>(STATE)) ?? null;
      this.meters = (await ctx.storage.get<Meters>(METERS)) ?? this.meters;
      this.flushScheduled = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * Decides one request for this key (rows 5-13 of SPEC 4.1) and, when `check.consume`, counts
   * it. Reading the counters, deciding and replacing them happen with no await in between, so
   * concurrent requests are counted exactly.
   */
  async authorize(check: GateCheck, policy: GatePolicy): Promise<AuthorizeOutcome> {
    if (!this.state) return null;
    const state = await this.freshRoles(this.state, this.now());
    if (state.successor) return this.authorizeRetired(state, state.successor, check, policy);
    const now = this.now();
    const { decision, counters } = decide(state, this.meters.counters, check, policy, now);
    if (check.consume) {
      this.meters = { counters, activity: recordActivity(this.meters.activity, decision.code, now) };
      this.ctx.storage.put(METERS, this.meters, { allowUnconfirmed: true });
      await this.scheduleFlush(now);
    }
    return { decision, record: identityOf(state.record) };
  }

  /**
   * A rotated key in its grace period: its own state decides rows 5-10 (so it expires when the
   * grace ends), and its successor counts it, so both keys draw on one set of limits, quotas
   * and credits.
   */
  private async authorizeRetired(
    state: StoredState,
    successor: string,
    check: GateCheck,
    policy: GatePolicy,
  ): Promise<AuthorizeOutcome> {
    const own = decide(state, this.meters.counters, { ...check, consume: false }, policy, this.now());
    if (own.decision.code !== "valid") return { decision: own.decision, record: identityOf(state.record) };
    const shared = await gateOf(this.env, successor).authorize(check, policy);
    if (!shared) return null;
    return { decision: shared.decision, record: identityOf(state.record) };
  }

  /** What a rotation hands over to the new key: the settings' context and the counters. */
  async handOver(): Promise<HandOver | null> {
    const record = this.live();
    if (!record || !this.state) return null;
    return {
      record: this.view(record),
      workspacePlan: this.state.workspacePlan,
      rolePermissions: this.state.rolePermissions,
      counters: this.meters.counters,
      rotated: this.state.successor !== undefined,
    };
  }

  /** Ends this key's life at `expiresAt` and sends its counting to `successor` meanwhile. */
  async retire(successor: string, expiresAt: number, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      context,
      "key.rotate",
      (record, now) => ({
        ...record,
        expiresAt: Math.min(record.expiresAt ?? expiresAt, expiresAt),
        updatedAt: now,
      }),
      { successor },
    );
  }

  /** The key's current record with its live balance and last use, and where it stands on its limits. */
  async inspect(policy: GatePolicy): Promise<Inspection | null> {
    const record = this.live();
    if (!record) return null;
    return {
      record: this.view(record),
      ...currentUsage(this.state as StoredState, this.meters.counters, policy, this.now()),
    };
  }

  /** Usage totals of the days not yet written behind to D1 (absolute, by UTC date). */
  async recentActivity(): Promise<Record<string, DayCounts>> {
    return this.meters.activity.days;
  }

  /** Stores a new key: D1 first (a new key widens), then here. */
  async create(
    initial: GateState,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited: Counters | null = null,
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      if (this.state) return { ok: false, code: "conflict" };
      if (await this.keys.hashExists(hash)) return { ok: false, code: "conflict" };
      const entry = this.auditEntry(initial.record, action, null, initial.record, context);
      await this.env.DB.batch([this.keys.insert(initial.record, hash), this.audit.insert(entry)]);
      const now = this.now();
      const credits = initial.record.credits ? creditState(initial.record.credits, now) : null;
      this.meters = { counters: inherited ?? { windows: {}, credits }, activity: NO_ACTIVITY };
      await this.ctx.storage.put(METERS, this.meters);
      await this.persist({ ...initial, deleted: false });
      return { ok: true, record: initial.record };
    });
  }

  /** Changes the key's settings; `rolePermissions` comes with a change of `roles`. */
  async update(
    patch: KeyPatch,
    rolePermissions: Record<string, string[]> | null,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    return this.change(
      context,
      "key.update",
      (record, now) => ({ ...record, ...patch, updatedAt: now }),
      rolePermissions ? { rolePermissions, rolesCheckedAt: this.now() } : {},
    );
  }

  /** Revokes for good; revoking a revoked key changes nothing and returns it as it is. */
  async revoke(context: ChangeContext): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const record = this.live();
      if (!record) return { ok: false, code: "not_found" };
      if (record.revokedAt !== null) return { ok: true, record: this.view(record) };
      return this.apply(record, context, "key.revoke", (r, now) => ({
        ...r,
        revokedAt: now,
        updatedAt: now,
      }));
    });
  }

  /** Revokes and forgets the key; its hash stays reserved in D1. */
  async remove(context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      context,
      "key.delete",
      (record, now) => ({ ...record, revokedAt: record.revokedAt ?? now, updatedAt: now }),
      {},
      { allowRevoked: true, deleted: true },
    );
  }

  /**
   * Sets, raises or lowers the credit balance at once. A lower balance is a restriction (here
   * first), a higher one a widening (D1 first). The operation is applied to the balance as it
   * stands when it is stored here, so that requests counted meanwhile are not lost.
   */
  async changeCredits(change: CreditChange, context: ChangeContext): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const record = this.live();
      if (!record) return { ok: false, code: "not_found" };
      if (record.revokedAt !== null) return { ok: false, code: "key_revoked" };
      const now = this.now();
      const before = this.view(record);
      const balance = () => {
        const current = this.meters.counters.credits
          ? currentCredits(this.meters.counters.credits, now)
          : null;
        const refill = change.refill === undefined ? (current?.refill ?? null) : change.refill;
        return creditState(
          { remaining: applyCreditOp(current?.remaining ?? 0, change.op, change.amount), refill },
          now,
        );
      };
      const withCredits = (credits: Credits): KeyRecord => ({ ...record, credits, updatedAt: now });
      const store = async (): Promise<KeyRecord> => {
        const credits = balance();
        this.meters = { ...this.meters, counters: { ...this.meters.counters, credits } };
        await this.ctx.storage.put(METERS, this.meters);
        const after = withCredits({ remaining: credits.remaining, refill: credits.refill });
        await this.persist({ ...(this.state as StoredState), record: after });
        return after;
      };
      const lowers =
        change.op === "decrement" ||
        (change.op === "set" && change.amount <= (before.credits?.remaining ?? 0));
      if (lowers) {
        const after = await store();
        const written = await this.writeD1(after, "key.credits", before, context, false, true);
        return written ? { ok: true, record: this.view(after) } : { ok: false, code: "unavailable" };
      }
      const preview = balance();
      const planned = withCredits({ remaining: preview.remaining, refill: preview.refill });
      if (!(await this.writeD1(planned, "key.credits", before, context, false, false))) {
        return { ok: false, code: "unavailable" };
      }
      return { ok: true, record: this.view(await store()) };
    });
  }

  /** Applies a workspace plan change or a role edit pushed by the admin API. */
  async updateContext(change: ContextChange): Promise<void> {
    await this.serialize(async () => {
      const state = this.state;
      if (!state) return;
      const next: StoredState = { ...state };
      if (change.workspacePlan !== undefined) next.workspacePlan = change.workspacePlan;
      if (change.role) {
        const { [change.role.name]: _, ...others } = state.rolePermissions;
        next.rolePermissions = change.role.permissions
          ? { ...others, [change.role.name]: change.role.permissions }
          : others;
      }
      await this.persist(next);
    });
  }

  /** Retries a D1 write that followed a restriction, and writes usage behind. */
  override async alarm(): Promise<void> {
    const now = this.now();
    const pending = await this.ctx.storage.get<PendingWrite>(REPAIR);
    if (pending) {
      try {
        await this.env.DB.batch(this.statements(pending));
        await this.ctx.storage.delete(REPAIR);
      } catch (error) {
        console.error(
          JSON.stringify({ event: "repair_failed", keyId: pending.record.id, error: String(error) }),
        );
        await this.ctx.storage.setAlarm(now + REPAIR_RETRY_MS);
        return;
      }
    }
    this.flushScheduled = false;
    await this.flush(now);
  }

  /** Writes the usage totals, the last use and the balance to D1. */
  private async flush(now: number): Promise<void> {
    const record = this.state?.record;
    const written = this.meters;
    if (!record || !written.activity.dirty) return;
    const statements = [this.keys.touch(record.id, written.activity.lastUsedAt, this.view(record).credits)];
    for (const [day, counts] of Object.entries(written.activity.days)) {
      for (const [code, count] of Object.entries(counts))
        statements.push(this.usage.set(record.id, day, code, count));
    }
    try {
      await this.env.DB.batch(statements);
    } catch (error) {
      console.error(JSON.stringify({ event: "flush_failed", keyId: record.id, error: String(error) }));
      await this.scheduleFlush(now);
      return;
    }
    // Requests counted while the write was under way keep the activity dirty.
    if (this.meters === written) {
      this.meters = { ...written, activity: afterFlush(written.activity, now) };
      await this.ctx.storage.put(METERS, this.meters);
    } else {
      await this.scheduleFlush(now);
    }
  }

  private async scheduleFlush(now: number): Promise<void> {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    await this.ctx.storage.setAlarm(now + FLUSH_DELAY_MS);
  }

  /** The record as the outside sees it: live balance and last use from the counters. */
  private view(record: KeyRecord): KeyRecord {
    const credits = this.meters.counters.credits;
    return {
      ...record,
      credits: credits
        ? { remaining: currentCredits(credits, this.now()).remaining, refill: credits.refill }
        : null,
      lastUsedAt: this.meters.activity.lastUsedAt ?? record.lastUsedAt,
    };
  }

  private live(): KeyRecord | null {
    return this.state && !this.state.deleted ? this.state.record : null;
  }

  private change(
    context: ChangeContext,
    action: AuditAction,
    next: (record: KeyRecord, now: number) => KeyRecord,
    extra: Partial<StoredState>,
    options: { allowRevoked?: boolean; deleted?: boolean } = {},
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const record = this.live();
      if (!record) return { ok: false, code: "not_found" };
      if (record.revokedAt !== null && !options.allowRevoked) return { ok: false, code: "key_revoked" };
      return this.apply(record, context, action, next, options.deleted ?? false, extra);
    });
  }

  /** Re-reads the roles' permissions from D1 once `ROLE_REFRESH_MS` has passed. */
  private async freshRoles(state: StoredState, now: number): Promise<StoredState> {
    if (state.record.roles.length === 0 || now - state.rolesCheckedAt < ROLE_REFRESH_MS) return state;
    const roles = await this.roles.find(state.record.workspaceId, state.record.roles);
    const next = { ...state, rolePermissions: permissionsByRole(roles), rolesCheckedAt: now };
    await this.persist(next);
    return next;
  }

  /**
   * Writes one change in the order of SPEC 6: a pure restriction here first, then D1 (a failed
   * D1 write is retried by the alarm, and the key stays restricted meanwhile); anything else D1
   * first, then here (a failed D1 write changes nothing).
   */
  private async apply(
    before: KeyRecord,
    context: ChangeContext,
    action: AuditAction,
    next: (record: KeyRecord, now: number) => KeyRecord,
    deleted = false,
    extra: Partial<StoredState> = {},
  ): Promise<WriteOutcome> {
    const after = next(before, this.now());
    const restricts = deleted || onlyRestricts(before, after);
    const store = () => this.persist({ ...(this.state as StoredState), ...extra, record: after, deleted });
    if (restricts) await store();
    if (!(await this.writeD1(after, action, this.view(before), context, deleted, restricts))) {
      return { ok: false, code: "unavailable" };
    }
    if (!restricts) await store();
    return { ok: true, record: this.view(after) };
  }

  /**
   * Writes a change and its audit entry to D1. `inForce`: the change already holds here, so a
   * failure schedules a retry by the alarm instead of being undone. False when the write failed.
   */
  private async writeD1(
    after: KeyRecord,
    action: AuditAction,
    before: KeyRecord,
    context: ChangeContext,
    deleted: boolean,
    inForce: boolean,
  ): Promise<boolean> {
    const pending: PendingWrite = {
      record: after,
      audit: this.auditEntry(after, action, before, deleted ? null : this.view(after), context),
      deleted,
    };
    try {
      await this.env.DB.batch(this.statements(pending));
      return true;
    } catch (error) {
      console.error(JSON.stringify({ event: "d1_write_failed", keyId: after.id, error: String(error) }));
      if (inForce) {
        await this.ctx.storage.put(REPAIR, pending);
        await this.ctx.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
      }
      return false;
    }
  }

  private statements(pending: PendingWrite): D1PreparedStatement[] {
    const change = pending.deleted
      ? this.keys.tombstone(pending.record.id, pending.record.updatedAt)
      : this.keys.update(pending.record);
    return [change, this.audit.insert(pending.audit)];
  }

  private auditEntry(
    record: KeyRecord,
    action: AuditAction,
    before: KeyRecord | null,
    after: KeyRecord | null,
    context: ChangeContext,
  ): AuditEntry {
    return {
      id: context.auditId,
      at: record.updatedAt,
      workspaceId: record.workspaceId,
      actor: context.actor,
      action,
      targetId: record.id,
      requestId: context.requestId,
      before,
      after,
    };
  }

  private async persist(state: StoredState): Promise<void> {
    await this.ctx.storage.put(STATE, state);
    this.state = state;
  }

  private serialize<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
