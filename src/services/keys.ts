/**
 * Key administration (docs/admin-api.md): create, import, list, get, patch, revoke, delete. Input is
 * checked against the policy here; every write then goes through the key's Durable Object,
 * which applies the consistency rule and writes the audit entry with the change.
 */

import { currentUsage, type Usage } from "../decision/decide";
import { failClosed } from "../fail-closed";
import type { GateDirectory, KeyGateApi } from "../key-client/client";
import type {
  AdminScope,
  CreateCap,
  CreditChange,
  KeyPatch,
  KeySnapshot,
  RotationSuccessor,
  WriteOutcome,
} from "../key-client/contract";
import { type LeaseHolder, leaseHolder } from "../key-client/lease-holder";
import { liveMembers } from "../key-client/usage-rollup-client";
import { generateKey, keyStart, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { newId } from "../keys/random";
import { creatorOf, type KeyRecord } from "../keys/record";
import type { CompiledPolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { Refusal, unavailable } from "../refusals";
import { KeyStore } from "../storage/keys";
import { RoleStore } from "../storage/roles";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, canSee, changeContext, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";
import { KeyEntitlements } from "./key-entitlements";
import type { ImportedKey, KeyChange, KeyQuery, NewKey } from "./key-input";
import { badRequest, checkPlan } from "./policy-checks";
import type { UnconfirmedRestrictions } from "./unconfirmed";
import { type UsageItem, type UsageQuery, usageReport } from "./usage-range";

interface ListCursor {
  createdAt: number;
  id: string;
}

function isListCursor(value: unknown): value is ListCursor {
  const cursor = value as ListCursor;
  return (
    typeof cursor === "object" &&
    cursor !== null &&
    typeof cursor.createdAt === "number" &&
    typeof cursor.id === "string"
  );
}

/** docs/admin-api.md: a change to a revoked key is refused with 409, not the 401 a request gets. */
/** A key of an ownerScoped type without an owner (docs/consistency.md#owners): it could hold nothing. */
function ownerRequired(type: string): Refusal {
  return badRequest("ownerId", `keys of type "${type}" are ownerScoped: an ownerId is required`);
}

function revokedConflict(): Refusal {
  return new Refusal("key_revoked", "The key is revoked; a revoked key cannot be changed.", { status: 409 });
}

/** A key as `GET /keys/:id` shows it: its live record and where it stands on its limits. */
export interface Inspection {
  record: KeyRecord;
  plan: string | null;
  usage: Usage;
}

function unwrap(outcome: WriteOutcome, id: string): KeyRecord {
  if (outcome.ok) return outcome.record;
  switch (outcome.code) {
    case "absent":
    case "not_found":
      throw notFound("key", id);
    case "forbidden":
      throw new Refusal(
        "insufficient_permissions",
        "An admin key can change an admin key only if it holds every permission that key holds.",
      );
    case "key_revoked":
      throw revokedConflict();
    case "conflict":
      throw new Refusal(
        "conflict",
        "The change conflicts with the key's state (an existing hash, or a rotated key's expiry moved later).",
      );
    case "unavailable":
      throw unavailable("The change could not be stored; nothing was loosened. Retry the request.");
    case "limit_reached":
      throw new Refusal(
        "limit_reached",
        "Creating this key would exceed the portal's maximum number of keys.",
      );
  }
}

export class KeyService {
  private readonly keys: KeyStore;
  private readonly workspaces: WorkspaceStore;
  private readonly roles: RoleStore;
  private readonly entitlements: KeyEntitlements;

  constructor(
    db: D1Database,
    private readonly compiled: CompiledPolicy,
    private readonly gates: GateDirectory,
    private readonly unconfirmed: UnconfirmedRestrictions,
    private readonly leases: LeaseHolder = leaseHolder,
    /** The workspaces' usage shards, for the live last use in listings; none: D1's alone. */
    private readonly rollups: Pick<Env, "USAGE_ROLLUP"> | null = null,
  ) {
    this.keys = new KeyStore(db);
    this.workspaces = new WorkspaceStore(db);
    this.roles = new RoleStore(db);
    this.entitlements = new KeyEntitlements(compiled, this.roles);
  }

  /** Creates a key; with `cap` (a portal create), only while the portal's maximums hold. */
  async create(
    context: AdminContext,
    input: NewKey,
    cap: CreateCap | null = null,
  ): Promise<{ record: KeyRecord; key: string }> {
    const format = this.entitlements.formatOf(input.type);
    const key = generateKey(format);
    const record = await this.store(
      context,
      input,
      await sha256Hex(key),
      keyStart(key, format),
      "key.create",
      cap,
    );
    return { record, key };
  }

  async import(context: AdminContext, input: ImportedKey): Promise<KeyRecord> {
    const format = this.entitlements.formatOf(input.type);
    let hash: string;
    let start: string;
    if (input.key !== undefined) {
      if (parseKey(input.key, [format]) === null) {
        throw badRequest("key", `not a well-formed key of type "${input.type}" (prefix "${format.prefix}_")`);
      }
      hash = await sha256Hex(input.key);
      start = keyStart(input.key, format);
    } else {
      hash = input.hash as string;
      start = `${format.prefix}_`;
    }
    return this.store(context, input, hash, start, "key.import");
  }

  async list(context: AdminContext, query: KeyQuery): Promise<{ items: KeyRecord[]; cursor: string | null }> {
    if (query.workspaceId && !canSee(context, query.workspaceId))
      throw notFound("workspace", query.workspaceId);
    const items = await this.keys.list({
      workspaceId: context.workspaceId ?? query.workspaceId,
      ownerId: query.ownerId,
      type: query.type,
      types: query.types,
      prefix: query.q,
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor, isListCursor),
      limit: query.limit,
    });
    const last = items.at(-1);
    const cursor =
      items.length === query.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
    return { items: this.rollups ? await withLiveUse(items, this.rollups) : items, cursor };
  }

  /** The key as its Durable Object holds it now: live balance, last use and limits. */
  async get(context: AdminContext, id: string): Promise<Inspection> {
    const snapshot = await this.snapshot(context, id, true);
    // The object answers with the context or fails (503): never a decision without one.
    if (!snapshot.context) throw unavailable("The key's context could not be read.");
    const state = { record: snapshot.record, ...snapshot.context };
    const policy = this.compiled.gatePolicy(snapshot.record.type);
    return { record: snapshot.record, ...currentUsage(state, snapshot.counters, policy, snapshot.at) };
  }

  async changeCredits(context: AdminContext, id: string, change: CreditChange): Promise<KeyRecord> {
    return this.write(id, (gate) => gate.changeCredits(scopeOf(context), change, changeContext(context)));
  }

  /** Usage by UTC day or hour, exact: the key's object keeps it (docs/consistency.md#usage). */
  async usage(context: AdminContext, id: string, query: UsageQuery): Promise<UsageItem[]> {
    return usageReport(query, Date.now(), async (from, to) => {
      const gate = this.gates.forKey(id);
      const read = () => failClosed(gate.usageOf(scopeOf(context), query.granularity, from, to));
      // What this isolate decided under its lease counts in what the object shows. Then one call
      // for a key its object holds and the caller may see; else the snapshot adopts the key (or
      // answers 404), and the object is asked again.
      await this.surrender(id, gate);
      const usage = await read();
      if (usage) return usage;
      await this.snapshot(context, id);
      const adopted = await read();
      if (!adopted) throw notFound("key", id);
      return adopted;
    });
  }

  /**
   * Changes a key's settings. The key is read from its object, not D1, so that a disable works
   * while D1 is down; D1 is read only for the roles a change names.
   */
  async update(
    context: AdminContext,
    id: string,
    change: KeyChange,
    /** Applied only if the key's `updatedAt` is still this (else 409 `conflict`): a portal enable. */
    options: { ifUnchangedSince?: number } = {},
  ): Promise<KeyRecord> {
    const { record } = await this.snapshot(context, id);
    if (record.revokedAt !== null) throw revokedConflict();
    if (record.type === ADMIN_KEY_TYPE && (change.roles?.length || change.plan)) {
      throw badRequest(
        change.plan ? "plan" : "roles",
        "admin keys hold admin permissions only, no roles or plan",
      );
    }
    if (change.ownerId === null && ownEntry(this.compiled.policy.keyTypes, record.type)?.ownerScoped) {
      throw ownerRequired(record.type);
    }
    const rolePermissions = change.roles
      ? await this.entitlements.rolePermissions(record.workspaceId, record.type, change.roles)
      : null;
    if (change.permissions || rolePermissions) {
      const own = change.permissions ?? record.permissions;
      this.entitlements.check(context, record.type, [...own, ...Object.values(rolePermissions ?? {}).flat()]);
    }
    checkPlan(this.compiled.policy, change.plan);
    const patch: KeyPatch = {
      ...(change.name !== undefined && { name: change.name }),
      ...(change.ownerId !== undefined && { ownerId: change.ownerId }),
      ...(change.permissions && { permissions: change.permissions }),
      ...(change.roles && { roles: change.roles }),
      ...(change.meta && { meta: change.meta }),
      ...(change.plan !== undefined && { plan: change.plan }),
      ...(change.limits && { limits: change.limits }),
      ...(change.expiresAt !== undefined && {
        expiresAt: change.expiresAt === null ? null : Date.parse(change.expiresAt),
      }),
      ...(change.enabled !== undefined && { enabled: change.enabled }),
      ...(change.ipAllowlist && { ipAllowlist: change.ipAllowlist }),
    };
    return this.write(id, (gate) =>
      gate.update(scopeOf(context), patch, { ...changeContext(context), ...options }),
    );
  }

  /**
   * A new key with the same settings. During `gracePeriodSeconds` the old key keeps working and
   * draws on the new key's limits, quotas and credits (it hands its counters over); after it, or
   * at once with no grace, the old key is `key_expired`.
   */
  async rotate(
    context: AdminContext,
    id: string,
    gracePeriodSeconds: number,
    /** The latest expiry the successor may have (the portal's `maxLifetimeDays`), epoch ms. */
    expiresBy?: number,
    /** Applied only if the key's `updatedAt` is still this (else 409 `conflict`): a portal rotation. */
    options: { ifUnchangedSince?: number } = {},
  ): Promise<{ record: KeyRecord; key: string }> {
    const old = await this.snapshot(context, id);
    if (old.record.revokedAt !== null) throw revokedConflict();

    if (old.rotated)
      throw new Refusal("conflict", "This key was rotated already; rotate its successor instead.");
    const format = this.entitlements.formatOf(old.record.type);
    const key = generateKey(format);
    const successor: RotationSuccessor = {
      id: newId("key"),
      hash: await sha256Hex(key),
      start: keyStart(key, format),
      ...(expiresBy !== undefined && { expiresBy }),
    };
    const gate = this.gates.forKey(id);
    await this.surrender(id, gate);
    const created = unwrap(
      await failClosed(
        gate.rotate(scopeOf(context), successor, gracePeriodSeconds * 1000, {
          ...changeContext(context),
          ...options,
        }),
      ),
      id,
    );
    return { record: created, key };
  }

  /**
   * Revokes by id through the key's object alone: it succeeds while D1 is down (docs/admin-api.md),
   * and so do its predecessors still in their rotation grace.
   */
  async revoke(context: AdminContext, id: string): Promise<KeyRecord> {
    const record = await this.write(id, (gate) => gate.revoke(scopeOf(context), changeContext(context)));
    await this.endGraces(context, record, {});
    return record;
  }

  /**
   * Revokes by id, as `revoke`; the number of keys this call revoked: the key unless it already
   * was revoked, and its predecessors it revoked.
   */
  async revokeOnce(context: AdminContext, id: string, options: { silent?: boolean } = {}): Promise<number> {
    const outcome = await this.writeOutcome(id, (gate) =>
      gate.revoke(scopeOf(context), { ...changeContext(context), ...options }),
    );
    const record = unwrap(outcome, id);
    const own = outcome.ok && !outcome.unchanged ? 1 : 0;
    return own + (await this.endGraces(context, record, options));
  }

  /**
   * Revokes the predecessors of `record` still in their rotation grace (as `revoke` does after
   * revoking the key): the portal's rotations call it so that only the key just rotated is in its
   * grace, and a chain of rotations never grows (docs/portal.md#routes). The number revoked.
   */
  endPredecessorGraces(context: AdminContext, record: KeyRecord): Promise<number> {
    return this.endGraces(context, record, {});
  }

  /**
   * Revokes the predecessors of a key just revoked or deleted that are still in their rotation
   * grace, each through its own object, newest first (docs/admin-api.md, Rotation): their
   * requests are refused with the key's, and their records say so. Run again on a repeated
   * revoke, so a retry completes what a failure left. The number newly revoked.
   */
  private async endGraces(
    context: AdminContext,
    record: KeyRecord,
    options: { silent?: boolean },
  ): Promise<number> {
    let revoked = 0;
    let successor = record.id;
    let id = record.rotatedFrom;
    while (id !== null) {
      const outcome = await this.writeOutcome(id, (gate) =>
        gate.endGrace(successor, { ...changeContext(context), ...options }),
      );
      // A deleted predecessor is gone already; one whose grace is over reads expired.
      if (!outcome.ok && (outcome.code === "not_found" || outcome.code === "absent")) break;
      const predecessor = unwrap(outcome, id);
      if (predecessor.revokedAt === null) break;
      if (outcome.ok && !outcome.unchanged) revoked += 1;
      successor = id;
      id = predecessor.rotatedFrom;
    }
    return revoked;
  }

  /**
   * Revokes the key with this raw value (a leak report). Unknown, malformed, deleted or another
   * workspace's key: 404; a key already revoked answers its record unchanged.
   */
  async revokeByValue(context: AdminContext, value: string): Promise<KeyRecord> {
    const missing = () => new Refusal("not_found", "No key has this value.");
    if (!parseKey(value, this.compiled.formats)) throw missing();
    const stored = await this.keys.findByHash(await sha256Hex(value));
    if (!stored || stored.deleted || !canSee(context, stored.record.workspaceId)) throw missing();
    return this.revoke(context, stored.record.id);
  }

  async remove(context: AdminContext, id: string): Promise<void> {
    const record = await this.write(id, (gate) => gate.remove(scopeOf(context), changeContext(context)));
    await this.endGraces(context, record, {});
  }

  /**
   * The key as its object holds it (with this isolate's lease reported), if the caller may see
   * it; else 404. With `withContext`, its plan and roles' permissions as a request would be
   * decided under now (docs/consistency.md#context).
   */
  private async snapshot(context: AdminContext, id: string, withContext = false): Promise<KeySnapshot> {
    const gate = this.gates.forKey(id);
    // What this isolate decided under its lease counts in what the object shows.
    await this.surrender(id, gate);
    let snapshot = await failClosed(gate.snapshot(scopeOf(context), withContext));
    if (snapshot === "absent" && (await this.adopt(gate, id))) {
      snapshot = await failClosed(gate.snapshot(scopeOf(context), withContext));
    }
    if (snapshot === null || snapshot === "absent") throw notFound("key", id);
    return snapshot;
  }

  /** Runs one change on the key's object, adopting the key first if its object holds nothing yet. */
  private async write(id: string, change: (gate: KeyGateApi) => Promise<WriteOutcome>): Promise<KeyRecord> {
    return unwrap(await this.writeOutcome(id, change), id);
  }

  private async writeOutcome(
    id: string,
    change: (gate: KeyGateApi) => Promise<WriteOutcome>,
  ): Promise<WriteOutcome> {
    const gate = this.gates.forKey(id);
    await this.surrender(id, gate);
    let outcome = await failClosed(change(gate));
    if (!outcome.ok && outcome.code === "absent" && (await this.adopt(gate, id))) {
      outcome = await failClosed(change(gate));
    }
    if (outcome.ok && outcome.d1Pending) this.unconfirmed.add(id, Date.now());
    return outcome;
  }

  /**
   * Settles this isolate's lease of the key before changing it, so that the change need not
   * wait for that lease to run out (a lease held by another isolate it still waits for). A
   * failure here leaves the lease to run out: the change goes ahead either way.
   */
  private async surrender(id: string, gate: KeyGateApi): Promise<void> {
    await this.leases.surrender(id, gate, (type) => this.compiled.gatePolicy(type)).catch(() => undefined);
  }

  /**
   * An object that holds nothing is either no key at all or a key created before objects were
   * addressed by id: D1 tells which, and the object then takes the key over.
   */
  private async adopt(gate: KeyGateApi, id: string): Promise<boolean> {
    const stored = await this.keys.findById(id);
    if (!stored || stored.deleted) return false;
    return failClosed(gate.adopt(id, stored.hash));
  }

  private async store(
    context: AdminContext,
    input: NewKey,
    hash: string,
    start: string,
    action: "key.create" | "key.import",
    cap: CreateCap | null = null,
  ): Promise<KeyRecord> {
    const workspace = canSee(context, input.workspaceId)
      ? await this.workspaces.find(input.workspaceId)
      : null;
    if (!workspace) throw notFound("workspace", input.workspaceId);
    if (input.type === ADMIN_KEY_TYPE && input.plan) {
      throw badRequest("plan", "admin keys hold admin permissions only, no plan");
    }
    const keyType = ownEntry(this.compiled.policy.keyTypes, input.type);
    if (keyType?.ownerScoped && input.ownerId === undefined) throw ownerRequired(input.type);
    const permissions = input.permissions ?? keyType?.defaultPermissions ?? [];
    const rolePermissions = await this.entitlements.rolePermissions(
      workspace.id,
      input.type,
      input.roles ?? [],
    );
    this.entitlements.check(context, input.type, [...permissions, ...Object.values(rolePermissions).flat()]);
    checkPlan(this.compiled.policy, input.plan);
    const now = Date.now();
    let expiresAt: number | null = null;
    if (input.expiresAt !== undefined) {
      expiresAt = Date.parse(input.expiresAt);
      if (expiresAt <= now) throw badRequest("expiresAt", "must be in the future");
    } else if (keyType?.expiresInSeconds) {
      expiresAt = now + keyType.expiresInSeconds * 1000;
    }
    const record: KeyRecord = {
      id: newId("key"),
      workspaceId: workspace.id,
      type: input.type,
      name: input.name ?? null,
      start,
      ownerId: input.ownerId ?? null,
      permissions,
      roles: input.roles ?? [],
      meta: input.meta ?? {},
      plan: input.plan ?? null,
      limits: input.limits ?? {},
      credits: input.credits ?? null,
      ipAllowlist: input.ipAllowlist ?? [],
      enabled: true,
      expiresAt,
      revokedAt: null,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
      rotatedFrom: null,
      createdBy: creatorOf(context.actor),
    };
    const outcome = await failClosed(
      this.gates.forKey(record.id).create({ record }, hash, action, changeContext(context), null, cap),
    );
    if (!outcome.ok && outcome.code === "conflict")
      throw new Refusal("conflict", "A key with this hash already exists.");
    return unwrap(outcome, record.id);
  }
}

/** What the caller may reach: its workspace, and (for admin keys it changes) its permissions. */
function scopeOf(context: AdminContext): AdminScope {
  return { workspaceId: context.workspaceId, permissions: context.permissions };
}

/**
 * Records of a listing with the last use and balance their objects last fed their shards (at
 * most 30 s behind the object), where D1 holds them only hourly: the later last use of the two,
 * and the shard's balance unless an admin change wrote the record after the shard saw it.
 */
async function withLiveUse(items: KeyRecord[], rollups: Pick<Env, "USAGE_ROLLUP">): Promise<KeyRecord[]> {
  if (items.length === 0) return items;
  const live = await failClosed(liveMembers(rollups, items));
  return items.map((record) => {
    const member = live[record.id];
    if (!member) return record;
    const lastUsedAt =
      member.lastUsedAt === null || (record.lastUsedAt !== null && record.lastUsedAt >= member.lastUsedAt)
        ? record.lastUsedAt
        : member.lastUsedAt;
    const credits =
      member.at >= record.updatedAt && member.credits !== null ? member.credits : record.credits;
    return { ...record, lastUsedAt, credits };
  });
}
