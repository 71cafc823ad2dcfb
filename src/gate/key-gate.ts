/**
 * KeyGate: one Durable Object per key, addressed by the key's SHA-256. It is the authority on
 * the key's state: every verification asks it, so a revoke or disable is in force for every
 * isolate the moment it is stored here. Admin writes to the key pass through it too, one at a
 * time, and it writes D1 in the order the consistency rule of SPEC 6 asks for.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { onlyRestricts } from "../keys/change";
import type { KeyRecord } from "../keys/record";
import { type Actor, type AuditAction, type AuditEntry, AuditStore } from "../storage/audit";
import { KeyStore } from "../storage/keys";
import { permissionsByRole, RoleStore } from "../storage/roles";
import type { KeyGateApi } from "./client";
import { decide, type GateCheck, type GatePolicy, type GateState, type KeyDecision } from "./decide";

/** Storage key of the `GateState`. */
const STATE = "state";
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

/** Who asked for an admin change, for the audit entry. */
export interface ChangeContext {
  actor: Actor;
  requestId: string;
  /** Id of the audit entry to write. */
  auditId: string;
}

/** Context a key's decision needs besides its record, changed by workspace and role edits. */
export interface ContextChange {
  workspacePlan?: string | null;
  /** New permissions of a role, or null when the role was deleted. */
  role?: { name: string; permissions: string[] | null };
}

/** The fields `PATCH /keys/:id` may change. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | "name"
    | "ownerId"
    | "permissions"
    | "roles"
    | "meta"
    | "plan"
    | "limits"
    | "expiresAt"
    | "enabled"
    | "ipAllowlist"
  >
>;

/** The decision and the record it was made on; null when this object holds no key. */
export type AuthorizeOutcome = { decision: KeyDecision; record: KeyRecord } | null;

export type WriteOutcome =
  | { ok: true; record: KeyRecord }
  | { ok: false; code: "not_found" | "key_revoked" | "conflict" | "unavailable" };

interface StoredState extends GateState {
  /** DELETE was called: the key answers `key_revoked` for ever. */
  deleted: boolean;
}

interface PendingWrite {
  record: KeyRecord;
  audit: AuditEntry;
  deleted: boolean;
}

export class KeyGate extends DurableObject<Env> implements KeyGateApi {
  private state: StoredState | null = null;
  /** Admin writes run one after another; verifications are never blocked by them. */
  private writes: Promise<unknown> = Promise.resolve();
  private keys: KeyStore;
  private audit: AuditStore;
  private roles: RoleStore;
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.keys = new KeyStore(env.DB);
    this.audit = new AuditStore(env.DB);
    this.roles = new RoleStore(env.DB);
    ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<StoredState>(STATE)) ?? null;
    });
  }

  /** Decides one request for this key (rows 5-10 of SPEC 4.1). */
  async authorize(check: GateCheck, policy: GatePolicy): Promise<AuthorizeOutcome> {
    if (!this.state) return null;
    const now = this.now();
    const state = await this.freshRoles(this.state, now);
    return { decision: decide(state, check, policy, now), record: state.record };
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

  /** The key's current record, or null when this object holds none. */
  async read(): Promise<KeyRecord | null> {
    return this.state?.deleted ? null : (this.state?.record ?? null);
  }

  /** Stores a new key: D1 first (a new key widens), then here. */
  async create(
    initial: GateState,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      if (this.state) return { ok: false, code: "conflict" };
      if (await this.keys.hashExists(hash)) return { ok: false, code: "conflict" };
      const entry = this.auditEntry(initial.record, action, null, initial.record, context);
      await this.env.DB.batch([this.keys.insert(initial.record, hash), this.audit.insert(entry)]);
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
      const record = this.state?.deleted ? null : this.state?.record;
      if (!record) return { ok: false, code: "not_found" };
      if (record.revokedAt !== null) return { ok: true, record };
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

  /** Retries a D1 write that failed after its restriction was put in force here. */
  override async alarm(): Promise<void> {
    const pending = await this.ctx.storage.get<PendingWrite>(REPAIR);
    if (!pending) return;
    try {
      await this.env.DB.batch(this.statements(pending));
      await this.ctx.storage.delete(REPAIR);
    } catch (error) {
      console.error(
        JSON.stringify({ event: "repair_failed", keyId: pending.record.id, error: String(error) }),
      );
      await this.ctx.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
    }
  }

  private change(
    context: ChangeContext,
    action: AuditAction,
    next: (record: KeyRecord, now: number) => KeyRecord,
    extra: Partial<GateState>,
    options: { allowRevoked?: boolean; deleted?: boolean } = {},
  ): Promise<WriteOutcome> {
    return this.serialize(async () => {
      const record = this.state?.deleted ? null : this.state?.record;
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
    extra: Partial<GateState> = {},
  ): Promise<WriteOutcome> {
    const state = this.state as StoredState;
    const after = next(before, this.now());
    const pending: PendingWrite = {
      record: after,
      audit: this.auditEntry(after, action, before, deleted ? null : after, context),
      deleted,
    };
    const nextState: StoredState = { ...state, ...extra, record: after, deleted };
    if (deleted || onlyRestricts(before, after)) {
      await this.persist(nextState);
      try {
        await this.env.DB.batch(this.statements(pending));
      } catch (error) {
        await this.ctx.storage.put(REPAIR, pending);
        await this.ctx.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
        console.error(JSON.stringify({ event: "d1_write_failed", keyId: after.id, error: String(error) }));
        return { ok: false, code: "unavailable" };
      }
    } else {
      try {
        await this.env.DB.batch(this.statements(pending));
      } catch (error) {
        console.error(JSON.stringify({ event: "d1_write_failed", keyId: after.id, error: String(error) }));
        return { ok: false, code: "unavailable" };
      }
      await this.persist(nextState);
    }
    return { ok: true, record: after };
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
