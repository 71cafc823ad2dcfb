/**
 * Workspaces: created by root, read and renamed or re-planned by root or their own admin keys.
 * Each change is written with its audit entry in one D1 batch.
 */

import type { GateDirectory } from "../key-client/client";
import { newId } from "../keys/random";
import type { Policy } from "../policy/schema";
import { Refusal } from "../refusals";
import { AuditStore } from "../storage/audit";
import { commit } from "../storage/guard";
import { KeyStore } from "../storage/keys";
import { UsageStore } from "../storage/usage";
import { type Workspace, WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";
import { pushToKeys } from "./fan-out";
import { checkPlan } from "./policy-checks";
import { type UsageItem, type UsageQuery, usageReport } from "./usage-range";

export interface WorkspaceChange {
  name?: string;
  plan?: string | null;
}

export class WorkspaceService {
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;

  private readonly keys: KeyStore;

  constructor(
    private readonly db: D1Database,
    private readonly policy: Policy,
    private readonly gates: GateDirectory,
  ) {
    this.workspaces = new WorkspaceStore(db);
    this.audit = new AuditStore(db);
    this.keys = new KeyStore(db);
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
      createdAt: now,
      updatedAt: now,
    };
    await commit(this.db, [
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

  async list(
    context: AdminContext,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: Workspace[]; cursor: string | null }> {
    const after =
      cursor === undefined ? null : decodeCursor(cursor, (v): v is string => typeof v === "string");
    const items = await this.workspaces.list(context.workspaceId, after, limit);
    const last = items.at(-1);
    return { items, cursor: items.length === limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * Usage summed over the workspace's keys, by UTC day or hour, from D1: as of the keys' last
   * write-behind (at most 30 s behind).
   */
  async usage(context: AdminContext, id: string, query: UsageQuery): Promise<UsageItem[]> {
    await this.get(context, id);
    return usageReport(query, Date.now(), (from, to) =>
      new UsageStore(this.db).workspaceTotals(id, query.granularity, from, to),
    );
  }

  async update(context: AdminContext, id: string, change: WorkspaceChange): Promise<Workspace> {
    checkPlan(this.policy, change.plan);
    const before = await this.get(context, id);
    const after: Workspace = {
      ...before,
      name: change.name ?? before.name,
      plan: change.plan === undefined ? before.plan : change.plan,
      updatedAt: Date.now(),
    };
    await commit(this.db, [
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
    // The workspace's plan is part of every key's plan chain: push it to the keys' objects.
    if (after.plan !== before.plan) {
      await pushToKeys(this.gates, await this.keys.idsInWorkspace(id), { workspacePlan: after.plan });
    }
    return after;
  }
}
