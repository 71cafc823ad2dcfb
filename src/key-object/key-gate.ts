/**
 * KeyGate: one Durable Object per key, addressed by the key's id. It is the authority on the
 * key's state and the single place where its usage is counted: every verification asks it, so a
 * revoke or disable is in force for every isolate the moment it is stored here, and limits are
 * exact because one object decides and counts each request, one at a time. Admin writes to the
 * key pass through it too, one after another, in the order of the consistency rule of SPEC 6;
 * usage is written behind to D1 by its alarm.
 *
 * One writer discipline: the state is replaced only by code that reads `this.state` after its
 * last await (admin writes are serialised; the role refresh drops its result when any write
 * landed while it read D1), so no write can undo a restriction stored meanwhile.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { onlyRestricts } from "../keys/change";
import { holds } from "../keys/permissions";
import { type Credits, identityOf, type KeyRecord } from "../keys/record";
import { applyCreditOp, creditState, currentCredits } from "../limits/credits";
import type { KeyTypePolicy } from "../policy/compiled";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { type AuditAction, type AuditEntry, AuditStore } from "../storage/audit";
import { KeyStore } from "../storage/keys";
import { permissionsByRole, RoleStore } from "../storage/roles";
import { type DayCounts, UsageStore } from "../storage/usage";
import { WorkspaceStore } from "../storage/workspaces";
import { gateOf, type KeyGateApi } from "./client";
import type {
  AdminScope,
  AuthorizeOutcome,
  ChangeContext,
  ContextChange,
  CreditChange,
  HandOff,
  KeyPatch,
  KeySnapshot,
  WriteOutcome,
} from "./contract";
import { type Counters, decide, denial, type GateCheck, type GateState } from "./decide";
import { type Activity, afterFlush, FLUSH_DELAY_MS, NO_ACTIVITY, recordActivity } from "./usage";

/** Storage key of the `StoredState`, written by admin changes. */
const STATE = "state";
/** Storage key of the `Meters` (counters and activity), written by every counted request. */
const METERS = "meters";
/**
 * Prefix of the D1 writes that failed after a change was put in force here, each under
 * `repair:<sequence>` so that they are retried in order (an older object kept one, `repair`).
 */
const REPAIR_PREFIX = "repair";
/** Set on an object addressed by hash once it handed its key to the id-addressed one. */
const HANDED_OFF = "handedOff";
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
  /** Id of the key this one was rotated into: during the grace period it counts there. */
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

/** How a change reaches D1 and this object, in the order of SPEC 6. */
interface ChangePlan {
  /** The change only restricts the key: in force here first, then written to D1. */
  restricts: boolean;
  /** What D1 receives: the record after the change and its audit entry. */
  pending: PendingWrite;
  /** Stores the change here, from the state as it is when called. */
  store: () => Promise<KeyRecord>;
  /** Revoke, disable, delete: answered 2xx once in force here, D1 following when it can. */
  confirmWithoutD1: boolean;
}

export class KeyGate extends DurableObject<Env> implements KeyGateApi {
  private state: StoredState | null = null;
  /** Counts replacements of `state`, so that a read begun before one can tell it is stale. */
  private version = 0;
  private meters: Meters = { counters: { windows: {}, credits: null }, activity: NO_ACTIVITY };
  /** Admin writes (and D1 repairs) run one after another; verifications are never blocked by them. */
  private writes: Promise<unknown> = Promise.resolve();
  private repairSequence = 0;
  /** This object was addressed by hash and gave its key to the id-addressed one. */
  private handedOff = false;
  private flushScheduled = false;
  /** The role refresh under way, shared by the requests that arrive meanwhile. */
  private refreshing: Promise<void> | null = null;
  /** D1, as this object sees it; tests replace it to inject failures at each step of a write. */
  db: D1Database;
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = env.DB;
    ctx.blockConcurrencyWhile(async () => {
      this.handedOff = (await ctx.storage.get<boolean>(HANDED_OFF)) === true;
      this.state = this.handedOff ? null : ((await ctx.storage.get<StoredState>(STATE)) ?? null);
      this.meters = (await ctx.storage.get<Meters>(METERS)) ?? this.meters;
      this.flushScheduled = (await ctx.storage.getAlarm()) !== null;
      const repairs = await ctx.storage.list({ prefix: `${REPAIR_PREFIX}:`, reverse: true, limit: 1 });
      const [last] = repairs.keys();
      this.repairSequence = last ? Number(last.slice(REPAIR_PREFIX.length + 1)) : 0;
    });
  }

  private get keys() {
    return new KeyStore(this.db);
  }

  /**
   * Decides one request for this key (rows 5-13 of SPEC 4.1) and, when `check.consume`, counts
   * it. Reading the state and counters, deciding and replacing the counters happen with no
   * await in between, so concurrent requests are counted exactly and see every stored change.
   */
  async authorize(check: GateCheck, policy: KeyTypePolicy): Promise<AuthorizeOutcome> {
    if (this.state && !this.state.deleted) await this.refreshRoles();
    const state = this.state;
    if (!state) return null;
    // Another workspace's key does not exist for the caller: nothing is counted or recorded.
    if (check.workspaceId !== null && state.record.workspaceId !== check.workspaceId) {
      return { decision: denial("invalid_key"), record: identityOf(state.record) };
    }
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
    policy: KeyTypePolicy,
  ): Promise<AuthorizeOutcome> {
    const own = decide(state, this.meters.counters, { ...check, consume: false }, policy, this.now());
    if (own.decision.code !== "valid") return { decision: own.decision, record: identityOf(state.record) };
    const shared = await gateOf(this.env, successor).authorize(check, policy);
    if (!shared) return null;
    return { decision: shared.decision, record: identityOf(state.record) };
  }

  /**
   * Takes over the key `keyId` with hash `hash` when this object holds nothing: the counters and
   * pending writes of the object that held it when objects were addressed by hash, if any, and
   * the record and its context from D1. False when D1 shows no such live key.
   */
  async adopt(keyId: string, hash: string): Promise<boolean> {
    return this.serialize(async () => {
      if (this.state) return true;
      const stored = await this.keys.findByHash(hash);
      if (!stored || stored.deleted || stored.record.id !== keyId) return false;
      const handed = await gateOf(this.env, hash).handOff();
      const [workspace, roles] = await Promise.all([
        new WorkspaceStore(this.db).find(stored.record.workspaceId),
        new RoleStore(this.db).find(stored.record.workspaceId, stored.record.roles),
      ]);
      const previous = handed?.state as StoredState | undefined;
      let successor: string | undefined;
      if (previous?.successor) {
        successor = (await this.keys.findByHash(previous.successor))?.record.id;
        if (!successor) return false;
      }
      if (this.state) return true;
      const now = this.now();
      const credits = stored.record.credits ? creditState(stored.record.credits, now) : null;
      this.meters = (handed?.meters as Meters | undefined) ?? {
        counters: { windows: {}, credits },
        activity: NO_ACTIVITY,
      };
      await this.ctx.storage.put(METERS, this.meters);
      for (const pending of (handed?.repairs ?? []) as PendingWrite[]) await this.queueRepair(pending);
      const record = previous?.record ?? stored.record;
      await this.persist({
        record,
        workspacePlan: workspace?.plan ?? null,
        rolePermissions: permissionsByRole(roles),
        rolesCheckedAt: now,
        deleted: previous?.deleted ?? false,
        ...(successor && { successor }),
      });
      return true;
    });
  }

  /**
   * Gives this (hash-addressed) object's key away: it answers as holding nothing from now on.
   * Its storage is kept, so that an adoption that failed half-way can ask again.
   */
  async handOff(): Promise<HandOff | null> {
    return this.serialize(async () => {
      const state = await this.ctx.storage.get<StoredState>(STATE);
      if (!state) return null;
      const meters = (await this.ctx.storage.get<Meters>(METERS)) ?? this.meters;
      const repairs = await this.ctx.storage.list<PendingWrite>({ prefix: REPAIR_PREFIX });
      this.handedOff = true;
      this.state = null;
      this.version += 1;
      await this.ctx.storage.put(HANDED_OFF, true);
      return { state, meters, repairs: [...repairs.values()] };
    });
  }

  /** The key as it stands: record with live balance and last use, context and counters. */
  async snapshot(scope: AdminScope): Promise<KeySnapshot | "absent" | null> {
    if (!this.state) return "absent";
    const state = this.visible(scope);
    if (!state) return null;
    return {
      record: this.view(state.record),
      workspacePlan: state.workspacePlan,
      rolePermissions: state.rolePermissions,
      counters: this.meters.counters,
      rotated: state.successor !== undefined,
      at: this.now(),
    };
  }

  /** Usage totals of the days not yet written behind to D1 (absolute, by UTC date). */
  async recentActivity(scope: AdminScope): Promise<Record<string, DayCounts> | null> {
    return this.visible(scope) ? this.meters.activity.days : null;
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
      const entry = auditEntry(initial.record, action, null, initial.record, context);
      await this.db.batch([this.keys.insert(initial.record, hash), new AuditStore(this.db).insert(entry)]);
      const now = this.now();
      const credits = initial.record.credits ? creditState(initial.record.credits, now) : null;
      this.meters = { counters: inherited ?? { windows: {}, credits }, activity: NO_ACTIVITY };
      await this.ctx.storage.put(METERS, this.meters);
      await this.persist({ ...initial, deleted: false });
      return { ok: true, record: initial.record, d1Pending: false };
    });
  }

  /** Changes the key's settings; `rolePermissions` comes with a change of `roles`. */
  async update(
    scope: AdminScope,
    patch: KeyPatch,
    rolePermissions: Record<string, string[]> | null,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    return this.change(scope, context, "key.update", (state, now) => {
      const { record } = state;
      // A rotated key ends with its grace period: its expiry may come earlier, never later.
      if (state.successor && patch.expiresAt !== undefined) {
        const limit = record.expiresAt ?? Number.POSITIVE_INFINITY;
        if (patch.expiresAt === null || patch.expiresAt > limit) return "conflict";
      }
      return {
        record: { ...record, ...patch, updatedAt: now },
        extra: rolePermissions ? { rolePermissions, rolesCheckedAt: now } : {},
        confirmWithoutD1: onlyDisables(patch),
      };
    });
  }

  /** Revokes for good; revoking a revoked key changes nothing and returns it as it is. */
  async revoke(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      scope,
      context,
      "key.revoke",
      (state, now) =>
        state.record.revokedAt !== null
          ? "unchanged"
          : { record: { ...state.record, revokedAt: now, updatedAt: now }, confirmWithoutD1: true },
      { allowRevoked: true },
    );
  }

  /** Revokes and forgets the key; its hash stays reserved in D1. */
  async remove(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      scope,
      context,
      "key.delete",
      (state, now) => ({
        record: { ...state.record, revokedAt: state.record.revokedAt ?? now, updatedAt: now },
        deleted: true,
        confirmWithoutD1: true,
      }),
      { allowRevoked: true },
    );
  }

  /** Ends this key's life at `expiresAt` and sends its counting to `successorId` meanwhile. */
  async retire(successorId: string, expiresAt: number, context: ChangeContext): Promise<WriteOutcome> {
    return this.change({ workspaceId: null, permissions: null }, context, "key.rotate", (state, now) => ({
      record: {
        ...state.record,
        expiresAt: Math.min(state.record.expiresAt ?? expiresAt, expiresAt),
        updatedAt: now,
      },
      extra: { successor: successorId },
      confirmWithoutD1: false,
    }));
  }

  /**
   * Sets, raises or lowers the credit balance at once. A lower balance is a restriction (here
   * first), a higher one a widening (D1 first). The operation is applied to the balance as it
   * stands when it is stored here, so that requests counted meanwhile are not lost.
   */
  async changeCredits(
    scope: AdminScope,
    change: CreditChange,
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const state = this.visible(scope);
      if (!state) return { ok: false, code: this.state ? "not_found" : "absent" };
      const refused = this.refusal(state, scope, {});
      if (refused) return refused;
      const balance = (now: number) => {
        const current = this.meters.counters.credits
          ? currentCredits(this.meters.counters.credits, now)
          : null;
        const refill = change.refill === undefined ? (current?.refill ?? null) : change.refill;
        return creditState(
          { remaining: applyCreditOp(current?.remaining ?? 0, change.op, change.amount), refill },
          now,
        );
      };
      const withCredits = (record: KeyRecord, credits: Credits, now: number): KeyRecord => ({
        ...record,
        credits: { remaining: credits.remaining, refill: credits.refill },
        updatedAt: now,
      });
      const now = this.now();
      const before = this.view(state.record);
      const planned = withCredits(state.record, balance(now), now);
      return this.commit({
        restricts:
          change.op === "decrement" ||
          (change.op === "set" && change.amount <= (before.credits?.remaining ?? 0)),
        pending: {
          record: planned,
          audit: auditEntry(planned, "key.credits", before, planned, context),
          deleted: false,
        },
        store: async () => {
          const at = this.now();
          const credits = balance(at);
          this.meters = { ...this.meters, counters: { ...this.meters.counters, credits } };
          await this.ctx.storage.put(METERS, this.meters);
          const current = this.state as StoredState;
          const after = withCredits(current.record, credits, at);
          await this.persist({ ...current, record: after });
          return after;
        },
        confirmWithoutD1: false,
      });
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

  /** Retries the D1 writes that followed changes in force here, then writes usage behind. */
  override async alarm(): Promise<void> {
    if (this.handedOff) return;
    const now = this.now();
    const drained = await this.serialize(() => this.drainRepairs());
    if (!drained) {
      await this.ctx.storage.setAlarm(now + REPAIR_RETRY_MS);
      return;
    }
    this.flushScheduled = false;
    await this.flush(now);
  }

  /** Writes the usage totals, the last use and the balance to D1. */
  private async flush(now: number): Promise<void> {
    const record = this.state?.record;
    const written = this.meters;
    if (!record || !written.activity.dirty) return;
    const usage = new UsageStore(this.db);
    const statements = [this.keys.touch(record.id, written.activity.lastUsedAt, this.view(record).credits)];
    for (const [day, counts] of Object.entries(written.activity.days)) {
      for (const [code, count] of Object.entries(counts))
        statements.push(usage.set(record.id, day, code, count));
    }
    try {
      await this.db.batch(statements);
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

  /** The live key, if the caller may see it. */
  private visible(scope: AdminScope): StoredState | null {
    const state = this.state;
    if (!state || state.deleted) return null;
    if (scope.workspaceId !== null && state.record.workspaceId !== scope.workspaceId) return null;
    return state;
  }

  /** Why the caller may not change this key, if it may not. */
  private refusal(
    state: StoredState,
    scope: AdminScope,
    options: { allowRevoked?: boolean },
  ): WriteOutcome | null {
    const { record } = state;
    if (
      record.type === ADMIN_KEY_TYPE &&
      scope.permissions !== null &&
      !record.permissions.every((permission) => holds(scope.permissions as string[], permission))
    ) {
      return { ok: false, code: "forbidden" };
    }
    if (record.revokedAt !== null && !options.allowRevoked) return { ok: false, code: "key_revoked" };
    return null;
  }

  /**
   * One admin change of the key's record. `next` sees the state as it is once the change's turn
   * has come (writes are serialised) and returns the new record, or why there is none.
   */
  private change(
    scope: AdminScope,
    context: ChangeContext,
    action: AuditAction,
    next: (
      state: StoredState,
      now: number,
    ) =>
      | {
          record: KeyRecord;
          extra?: Partial<StoredState>;
          deleted?: boolean;
          confirmWithoutD1: boolean;
        }
      | "unchanged"
      | "conflict",
    options: { allowRevoked?: boolean } = {},
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const state = this.visible(scope);
      if (!state) return { ok: false, code: this.state ? "not_found" : "absent" };
      const refused = this.refusal(state, scope, options);
      if (refused) return refused;
      const planned = next(state, this.now());
      if (planned === "unchanged") return { ok: true, record: this.view(state.record), d1Pending: false };
      if (planned === "conflict") return { ok: false, code: "conflict" };
      const deleted = planned.deleted ?? false;
      const before = this.view(state.record);
      const after = planned.record;
      return this.commit({
        restricts: deleted || onlyRestricts(state.record, after),
        pending: {
          record: after,
          audit: auditEntry(after, action, before, deleted ? null : this.view(after), context),
          deleted,
        },
        store: async () => {
          // Only serialised writes change the record, so `after` still follows from the current
          // state; the rest (role refreshes meanwhile) is taken as it is now.
          await this.persist({ ...(this.state as StoredState), ...planned.extra, record: after, deleted });
          return after;
        },
        confirmWithoutD1: planned.confirmWithoutD1,
      });
    });
  }

  /**
   * The write order of SPEC 6, for every admin change. A restriction is put in force here
   * first, then written to D1; when D1 fails it is queued and retried by the alarm, and the key
   * stays restricted meanwhile (answered 2xx for revoke, disable and delete, else 503: "never
   * less restricted than reported"). Anything else goes to D1 first, after the queued writes so
   * that D1 never goes back to an older record, and is stored here only once D1 has it; a
   * failure changes nothing.
   */
  private async commit(plan: ChangePlan): Promise<WriteOutcome> {
    if (plan.restricts) {
      const record = await plan.store();
      if (await this.writeD1(plan.pending)) return { ok: true, record: this.view(record), d1Pending: false };
      await this.queueRepair(plan.pending);
      return plan.confirmWithoutD1
        ? { ok: true, record: this.view(record), d1Pending: true }
        : { ok: false, code: "unavailable" };
    }
    if (!(await this.drainRepairs()) || !(await this.writeD1(plan.pending))) {
      return { ok: false, code: "unavailable" };
    }
    return { ok: true, record: this.view(await plan.store()), d1Pending: false };
  }

  /** Writes a change and its audit entry to D1; false when D1 failed. */
  private async writeD1(pending: PendingWrite): Promise<boolean> {
    try {
      await this.db.batch(this.statements(pending));
      return true;
    } catch (error) {
      console.error(
        JSON.stringify({ event: "d1_write_failed", keyId: pending.record.id, error: String(error) }),
      );
      return false;
    }
  }

  private async queueRepair(pending: PendingWrite): Promise<void> {
    this.repairSequence += 1;
    await this.ctx.storage.put(`${REPAIR_PREFIX}:${String(this.repairSequence).padStart(12, "0")}`, pending);
    await this.ctx.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
  }

  /**
   * Writes the queued D1 writes, oldest first, removing each once written (a write queued
   * meanwhile stays queued). Runs serialised with admin writes. False when one still failed.
   */
  private async drainRepairs(): Promise<boolean> {
    const queued = await this.ctx.storage.list<PendingWrite>({ prefix: REPAIR_PREFIX });
    for (const [name, pending] of queued) {
      if (!(await this.writeD1(pending))) return false;
      await this.ctx.storage.delete(name);
    }
    return true;
  }

  private statements(pending: PendingWrite): D1PreparedStatement[] {
    const change = pending.deleted
      ? this.keys.tombstone(pending.record.id, pending.record.updatedAt)
      : this.keys.update(pending.record);
    return [change, new AuditStore(this.db).insert(pending.audit)];
  }

  /**
   * Re-reads the roles' permissions from D1 once `ROLE_REFRESH_MS` has passed. The result is
   * dropped when any write replaced the state while D1 was read: that write is newer.
   */
  private refreshRoles(): Promise<void> {
    const state = this.state;
    if (!state || state.record.roles.length === 0 || this.now() - state.rolesCheckedAt < ROLE_REFRESH_MS) {
      return Promise.resolve();
    }
    this.refreshing ??= (async () => {
      const version = this.version;
      const checkedAt = this.now();
      try {
        const roles = await new RoleStore(this.db).find(state.record.workspaceId, state.record.roles);
        if (this.version !== version || !this.state) return;
        await this.persist({
          ...this.state,
          rolePermissions: permissionsByRole(roles),
          rolesCheckedAt: checkedAt,
        });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Replaces the state here at once, then in storage. */
  private async persist(state: StoredState): Promise<void> {
    this.state = state;
    this.version += 1;
    await this.ctx.storage.put(STATE, state);
  }

  private serialize<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write);
    this.writes = result.catch(() => undefined);
    return result;
  }
}

/** A patch that only turns the key off (possibly with other restrictions): a disable. */
function onlyDisables(patch: KeyPatch): boolean {
  return patch.enabled === false;
}

function auditEntry(
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
