/**
 * Workspaces: created by root, read and renamed or re-planned by root or their own admin keys.
 * Each change is written with its audit entry in one D1 batch.
 */

import { failClosed } from "../fail-closed";
import { type ContextDirectory, invalidateContexts } from "../key-client/context-client";
import { workspaceUsage } from "../key-client/usage-rollup-client";
import { newId } from "../keys/random";
import type { Policy } from "../policy/schema";
import { Refusal } from "../refusals";
import { AuditStore } from "../storage/audit";
import { commitUnique } from "../storage/guard";
import { EXTERNAL_ID_COLUMN, type Workspace, WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";
import { checkPlan } from "./policy-checks";
import { type UsageItem, type UsageQuery, usageReport } from "./usage-range";

export interface WorkspaceChange {
  name?: string;
  plan?: string | null;
  externalId?: string | null;
}

/** A second workspace with the same `externalId` (docs/admin-api.md#workspaces). */
function externalIdTaken(): Refusal {
  return new Refusal("conflict", "Another workspace already has this externalId.");
}

/**
 * Writes a workspace change and its audit entry in one batch; the unique index on `externalId`
 * decides between concurrent claims of one id, and the loser writes nothing.
 */
async function commitWorkspace(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  if ((await commitUnique(db, statements, EXTERNAL_ID_COLUMN)) === "conflict") throw externalIdTaken();
}

export class WorkspaceService {
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;

  constructor(
    private readonly db: D1Database,
    private readonly policy: Policy,
    private readonly contexts: ContextDirectory,
    private readonly rollups: Pick<Env, "USAGE_ROLLUP">,
  ) {
    this.workspaces = new WorkspaceStore(db);
    this.audit = new AuditStore(db);
  }

  async create(context: AdminContext, input: WorkspaceChange & { name: string }): Promise<Workspace> {
    if (context.actor.type !== "root") {
      throw new Refusal("insufficient_permissions", "Only the root token can create workspaces.");
    }
    checkPlan(this.policy, input.plan);
    const now = Date.now();
    const workspace: Workspace = {
      id: newId("ws"),
      name: input.name,
      plan: input.plan ?? null,
      externalId: input.externalId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await commitWorkspace(this.db, [
      this.workspaces.insert(workspace),
      this.audit.insert(
        auditEntry(context, {
          at: now,
          workspaceId: workspace.id,
          action: "workspace.create",
          targetId: workspace.id,
          before: null,
          after: workspace,
        }),
      ),
    ]);
    return workspace;
  }

  /** The workspace, if it exists and the caller may see it; else 404. */
  async get(context: AdminContext, id: string): Promise<Workspace> {
    const workspace = canSee(context, id) ? await this.workspaces.find(id) : null;
    if (!workspace) throw notFound("workspace", id);
    return workspace;
  }

  /**
   * A page of the workspaces the caller may see; with `externalId`, the one holding it among
   * them (for an admin key, none unless its own: another workspace's id is not revealed).
   */
  async list(
    context: AdminContext,
    query: { cursor?: string; limit: number; externalId?: string },
  ): Promise<{ items: Workspace[]; cursor: string | null }> {
    const { cursor, limit } = query;
    const after =
      cursor === undefined ? null : decodeCursor(cursor, (v): v is string => typeof v === "string");
    const items = await this.workspaces.list(context.workspaceId, after, limit, query.externalId ?? null);
    const last = items.at(-1);
    return { items, cursor: items.length === limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * Usage summed over the workspace's keys, by UTC day or hour, from its usage shards: as of the
   * keys' last feed (at most 30 s behind; docs/consistency.md#usage).
   */
  async usage(context: AdminContext, id: string, query: UsageQuery): Promise<UsageItem[]> {
    await this.get(context, id);
    return usageReport(query, Date.now(), (from, to) =>
      failClosed(workspaceUsage(this.rollups, id, query.granularity, from, to)),
    );
  }

  /**
   * Changes name, plan or `externalId`. Only root sets or clears `externalId`: it binds the
   * workspace to an organisation of the provider (its portal members land in it), so an admin
   * key may neither claim another organisation's id nor probe which ids are taken.
   */
  async update(context: AdminContext, id: string, change: WorkspaceChange): Promise<Workspace> {
    checkPlan(this.policy, change.plan);
    const before = await this.get(context, id);
    if (change.externalId !== undefined && context.actor.type !== "root") {
      throw new Refusal("insufficient_permissions", "Only the root token sets a workspace's externalId.");
    }
    const after: Workspace = {
      ...before,
      name: change.name ?? before.name,
      plan: change.plan === undefined ? before.plan : change.plan,
      externalId: change.externalId === undefined ? before.externalId : change.externalId,
      updatedAt: Date.now(),
    };
    await commitWorkspace(this.db, [
      this.workspaces.update(after),
      this.audit.insert(
        auditEntry(context, {
          at: after.updatedAt,
          workspaceId: id,
          action: "workspace.update",
          targetId: id,
          before,
          after,
        }),
      ),
    ]);
    // The workspace's plan is part of every key's plan chain: in force for all of them once its
    // context shards answer (docs/consistency.md#context), whatever the number of keys.
    if (after.plan !== before.plan) await invalidateContexts(this.contexts, id, { kind: "workspace" });
    return after;
  }
}
