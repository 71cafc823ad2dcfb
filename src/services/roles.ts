/**
 * Roles: named permission bundles of a workspace. A role edit is written to D1 with its audit
 * entry, then pushed to every key holding the role (after this isolate's own leases of them are
 * handed back, so that it waits only for others'); a key whose push failed re-reads its roles
 * within `ROLE_REFRESH_MS`.
 */
import type { GateDirectory } from "../key-client/client";
import { AuditStore } from "../storage/audit";
import { commit } from "../storage/guard";
import { KeyStore } from "../storage/keys";
import { type Role, RoleStore } from "../storage/roles";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";
import { handBackLeases, type OwnLeases, pushToKeys } from "./fan-out";

export class RoleService {
  private readonly roles: RoleStore;
  private readonly keys: KeyStore;
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;

  constructor(
    private readonly db: D1Database,
    private readonly gates: GateDirectory,
    private readonly own: OwnLeases,
  ) {
    this.roles = new RoleStore(db);
    this.keys = new KeyStore(db);
    this.workspaces = new WorkspaceStore(db);
    this.audit = new AuditStore(db);
  }

  async upsert(
    context: AdminContext,
    input: { workspaceId: string; name: string; permissions: string[] },
  ): Promise<Role> {
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
    await this.push(input.workspaceId, input.name, role.permissions);
    return role;
  }

  async list(context: AdminContext, workspaceId: string): Promise<Role[]> {
    await this.workspace(context, workspaceId);
    return this.roles.list(workspaceId);
  }

  async remove(context: AdminContext, workspaceId: string, name: string): Promise<void> {
    await this.workspace(context, workspaceId);
    const [before] = await this.roles.find(workspaceId, [name]);
    if (!before) throw notFound("role", name);
    await commit(this.db, [
      this.roles.delete(workspaceId, name),
      this.audit.insert(
        auditEntry(context, { workspaceId, action: "role.delete", targetId: name, before, after: null }),
      ),
    ]);
    await this.push(workspaceId, name, null);
  }

  private async push(workspaceId: string, name: string, permissions: string[] | null): Promise<void> {
    const ids = await this.keys.idsInWorkspace(workspaceId, name);
    await handBackLeases(this.gates, ids, this.own);
    await pushToKeys(this.gates, ids, { role: { name, permissions } });
  }

  private async workspace(context: AdminContext, id: string): Promise<void> {
    if (!canSee(context, id) || !(await this.workspaces.find(id))) throw notFound("workspace", id);
  }
}
