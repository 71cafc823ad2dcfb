/**
 * WorkspaceContext: the context of a workspace's keys (its plan, its roles' permissions, its
 * owners' settings and roles), in `CONTEXT_SHARDS` Durable Objects per workspace named
 * `<workspaceId>:<shard>` (docs/consistency.md#context). Keys' objects ask it for their context
 * and hold it under a lease; a change to the workspace, a role or an owner reaches the shards
 * only, never the keys: each shard drops what changed, raises its version, and answers once every
 * context it lent before is over. So a change costs `CONTEXT_SHARDS` calls whatever the number of
 * keys, answers within the longest context lease (`leases.ms`), and holds for every request that
 * starts after its answer (invariants I13-I15 of docs/key-object.md).
 *
 * The shard keeps what it read from D1 (the workspace's row, role rows, owner rows: the owners
 * least recently used are dropped past `MAX_OWNERS`), so that a warm workspace costs D1 nothing.
 * It stores only the horizon of its leases, so that a shard that restarts still waits for the
 * contexts it lent before.
 */
import { DurableObject } from "cloudflare:workers";
import type { ContextChange, LentContext, WorkspaceContextApi } from "../key-client/context-client";
import { unavailable } from "../refusals";
import {
  type ContextRows,
  type ContextSubject,
  composeKeyContext,
  type OwnerRow,
  ownerApplies,
} from "../storage/key-context";
import { OwnerStore } from "../storage/owners";
import { type Role, RoleStore } from "../storage/roles";
import { type Workspace, WorkspaceStore } from "../storage/workspaces";

/** Owners kept per shard; the least recently asked is dropped past it. */
export const MAX_OWNERS = 4_096;
/** Role rows kept per shard (a workspace has few roles); the least recently asked is dropped past it. */
const MAX_ROLES = 1_024;
/** Longest context lease, ms: an ask for more gets this much. */
export const MAX_CONTEXT_MS = 60_000;
/** Storage key of the horizon: no context this shard lent ends after it. */
const HORIZON = "horizon";
/** The stored horizon runs this far ahead of the latest lease, ms: one write per step at most. */
const HORIZON_STEP_MS = 1_000;
/** Reads tried when changes keep landing during them, before the ask fails (503 for the key). */
const READ_TRIES = 4;

/** A row as read from D1, or null: known absent. */
interface Rows {
  workspace: Pick<Workspace, "plan"> | null | undefined;
  roles: Map<string, Role | null>;
  owners: Map<string, OwnerRow | null>;
}

export class WorkspaceContext extends DurableObject<Env> implements WorkspaceContextApi {
  /** D1, as this object sees it; tests replace it to count, hold or fail its reads. */
  db: D1Database;
  private workspaceId: string | null = null;
  private rows: Rows = { workspace: undefined, roles: new Map(), owners: new Map() };
  /** Raised by every change: a read begun at an older version is not lent nor kept. */
  private version = 0;
  /** No context lent so far ends after this, by this object's clock (epoch ms). */
  private lentUntil = 0;
  /** The stored horizon (>= lentUntil). */
  private horizon = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = env.DB;
    ctx.blockConcurrencyWhile(async () => {
      // A shard that restarts cannot know what it lent: every context may last to the horizon.
      this.horizon = (await ctx.storage.get<number>(HORIZON)) ?? 0;
      this.lentUntil = this.horizon;
    });
  }

  async lend(subject: ContextSubject, ms: number): Promise<LentContext> {
    this.belongTo(subject.workspaceId);
    const length = Math.min(Math.max(0, Math.floor(ms)), MAX_CONTEXT_MS);
    for (let tries = 0; tries < READ_TRIES; tries++) {
      const version = this.version;
      const kept = this.kept(subject);
      // What was read while a change landed may predate it: neither lent nor kept; read again.
      const rows = kept ?? (await this.read(subject));
      if (this.version !== version) continue;
      if (!kept) this.keep(subject, rows);
      this.lent(Date.now() + length);
      return { context: composeKeyContext(rows, subject), ms: length, version };
    }
    throw unavailable("The key's context keeps changing; retry.");
  }

  async invalidate(workspaceId: string, change: ContextChange): Promise<void> {
    this.belongTo(workspaceId);
    this.version += 1;
    if (change.kind === "workspace") this.rows.workspace = undefined;
    else if (change.kind === "role") this.rows.roles.delete(change.name);
    else this.rows.owners.delete(change.ownerId);
    // Every context lent before ends by `lentUntil`; those lent from now on carry the change.
    // Answer strictly after it: a request that arrives after the answer is past every such end.
    const until = this.lentUntil;
    while (Date.now() <= until) await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 1));
  }

  /** One object per workspace and shard; should another workspace's ask arrive, nothing is shared. */
  private belongTo(workspaceId: string): void {
    if (this.workspaceId === workspaceId) return;
    this.workspaceId = workspaceId;
    this.rows = { workspace: undefined, roles: new Map(), owners: new Map() };
    this.version += 1;
  }

  /** The rows `subject` needs, if all are kept here. */
  private kept(subject: ContextSubject): ContextRows | null {
    const { workspace, roles, owners } = this.rows;
    if (workspace === undefined) return null;
    let owner: OwnerRow | null = null;
    if (subject.ownerId !== null && ownerApplies(subject)) {
      const kept = owners.get(subject.ownerId);
      if (kept === undefined) return null;
      recent(owners, subject.ownerId, kept);
      owner = kept;
    }
    // The key's roles and its owner's: an owner's role is defined like any other.
    const found: Role[] = [];
    for (const name of new Set([...subject.roles, ...(owner?.roles ?? [])])) {
      const role = roles.get(name);
      if (role === undefined) return null;
      if (role) found.push(role);
    }
    return { workspace, roles: found, owner };
  }

  /**
   * The rows `subject` needs: those kept here, and the others read from D1 (at the primary: after
   * a change's write) in one round. Taken from what is kept before the read begins, so the
   * version check in `lend` covers both.
   */
  private async read(subject: ContextSubject): Promise<ContextRows> {
    const { workspaceId } = subject;
    const ownerId = subject.ownerId !== null && ownerApplies(subject) ? subject.ownerId : null;
    const kept = this.rows;
    const keptOwner = ownerId === null ? null : kept.owners.get(ownerId);
    // An owner not kept is read with its roles (one statement finds the rows of both).
    const names = new Set([...subject.roles, ...(keptOwner?.roles ?? [])]);
    // The kept roles are taken now: another ask may drop them from memory during the read.
    const held: Role[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const role = kept.roles.get(name);
      if (role === undefined) missing.push(name);
      else if (role) held.push(role);
    }
    const readOwner = ownerId !== null && keptOwner === undefined;
    const [workspace, found, owner] = await Promise.all([
      kept.workspace !== undefined ? kept.workspace : new WorkspaceStore(this.db).find(workspaceId),
      new RoleStore(this.db).findForKey(workspaceId, missing, readOwner ? ownerId : null),
      readOwner ? new OwnerStore(this.db).find(workspaceId, ownerId) : (keptOwner ?? null),
    ]);
    // A role read now (an owner's, read with its owner) replaces the copy held.
    const roles = new Map(held.map((role) => [role.name, role]));
    for (const role of found) roles.set(role.name, role);
    return { workspace, roles: [...roles.values()], owner };
  }

  /** Keeps rows read at the current version. */
  private keep(subject: ContextSubject, rows: ContextRows): void {
    this.rows.workspace = rows.workspace ? { plan: rows.workspace.plan } : null;
    for (const name of new Set([...subject.roles, ...(rows.owner?.roles ?? [])])) {
      recent(this.rows.roles, name, rows.roles.find((role) => role.name === name) ?? null, MAX_ROLES);
    }
    if (subject.ownerId !== null && ownerApplies(subject)) {
      const { owner } = rows;
      const kept = owner ? { limits: owner.limits, credits: owner.credits, roles: owner.roles } : null;
      recent(this.rows.owners, subject.ownerId, kept, MAX_OWNERS);
    }
  }

  /**
   * Records a context lent until `endsAt`. Past the stored horizon, a new horizon is stored
   * before the answer leaves (the output gate holds it), so that a restart still waits for it.
   */
  private lent(endsAt: number): void {
    this.lentUntil = Math.max(this.lentUntil, endsAt);
    if (endsAt > this.horizon) {
      this.horizon = endsAt + HORIZON_STEP_MS;
      this.ctx.storage.put(HORIZON, this.horizon);
    }
  }
}

/** Sets `key` as the most recent entry of `map`, dropping the oldest past `max`. */
function recent<V>(map: Map<string, V>, key: string, value: V, max = Number.POSITIVE_INFINITY): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}
