/**
 * Roles: named permission bundles of a workspace, beside the policy's, which exist in every
 * workspace (docs/policy.md#roles). A role edit is written to D1 with its audit entry, then
 * brought into force through the workspace's context shards (docs/consistency.md#context): a
 * fixed number of calls, whatever the number of keys holding the role. Deleting a workspace
 * role that replaced a policy role brings the policy's back, the same way.
 */
import { type ContextDirectory, invalidateContexts } from "../key-client/context-client";
import { ownEntry } from "../policy/own-entry";
import { Refusal } from "../refusals";
import { AuditStore } from "../storage/audit";
import { commit } from "../storage/guard";
import { type PolicyRoles, type Role, RoleStore } from "../storage/roles";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";

/** A role as the listing shows it: a workspace's, or the policy's (which has no times). */
export interface ListedRole {
  workspaceId: string;
  name: string;
  permissions: string[];
  source: "policy" | "workspace";
  createdAt: number | null;
  updatedAt: number | null;
}

function listed(role: Role): ListedRole {
  return { ...role, source: "workspace" };
}

export class RoleService {
  private readonly roles: RoleStore;
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;

  constructor(
    private readonly db: D1Database,
    private readonly contexts: ContextDirectory,
    private readonly policyRoles: PolicyRoles,
  ) {
    this.roles = new RoleStore(db);
    this.workspaces = new WorkspaceStore(db);
    this.audit = new AuditStore(db);
  }

  async upsert(
    context: AdminContext,
    input: { workspaceId: string; name: string; permissions: string[] },
  ): Promise<ListedRole> {
    await this.workspace(context, input.workspaceId);
    const [before = null] = await this.roles.find(input.workspaceId, [input.name]);
    const now = Date.now();
    const role: Role = { ...input, createdAt: before?.createdAt ?? now, updatedAt: now };
    await commit(this.db, [
      this.roles.upsert(role),
      this.audit.insert(
        auditEntry(context, {
          at: now,
          workspaceId: input.workspaceId,
          action: "role.upsert",
          targetId: input.name,
          before,
          after: role,
        }),
      ),
    ]);
    await invalidateContexts(this.contexts, input.workspaceId, { kind: "role", name: input.name });
    return listed(role);
  }

  /** The workspace's roles and the policy's it does not replace, by name. */
  async list(context: AdminContext, workspaceId: string): Promise<ListedRole[]> {
    await this.workspace(context, workspaceId);
    const own = await this.roles.list(workspaceId);
    const fromPolicy = Object.entries(this.policyRoles)
      .filter(([name]) => !own.some((role) => role.name === name))
      .map(
        ([name, role]): ListedRole => ({
          workspaceId,
          name,
          permissions: role.permissions,
          source: "policy",
          createdAt: null,
          updatedAt: null,
        }),
      );
    return [...own.map(listed), ...fromPolicy].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  /**
   * Deletes a workspace role; keys holding it get the policy's role of its name, if any, else
   * lose it. A policy role that the workspace does not replace is 409: it is the deployment's,
   * changed only by deploying another policy.
   */
  async remove(context: AdminContext, workspaceId: string, name: string): Promise<void> {
    await this.workspace(context, workspaceId);
    const [before] = await this.roles.find(workspaceId, [name]);
    const fromPolicy = ownEntry(this.policyRoles, name);
    if (!before && fromPolicy) {
      throw new Refusal(
        "conflict",
        `Role "${name}" is defined by the policy; a deployment with another policy changes it.`,
      );
    }
    if (!before) throw notFound("role", name);
    await commit(this.db, [
      this.roles.delete(workspaceId, name),
      this.audit.insert(
        auditEntry(context, { workspaceId, action: "role.delete", targetId: name, before, after: null }),
      ),
    ]);
    await invalidateContexts(this.contexts, workspaceId, { kind: "role", name });
  }

  private async workspace(context: AdminContext, id: string): Promise<void> {
    if (!canSee(context, id) || !(await this.workspaces.find(id))) throw notFound("workspace", id);
  }
}
