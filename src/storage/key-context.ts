/**
 * A key's context as D1 has it now: what a key's decision needs besides its own record (its
 * workspace's plan, its roles' permissions, its owner's settings). One read, shared by every
 * place that builds or refreshes a key's state from D1: creation, adoption, a change of roles or
 * owner, the key's periodic refresh, and the decision from D1 when the key's object fails.
 */
import type { KeyRecord } from "../keys/record";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import type { Owner } from "./owners";
import { OwnerStore } from "./owners";
import { type PolicyRoles, policyRoles, RoleStore, resolveRoles } from "./roles";
import { WorkspaceStore } from "./workspaces";

export interface KeyContext {
  workspacePlan: string | null;
  /** Permissions of each role the key holds, by role name. */
  rolePermissions: Record<string, string[]>;
  /** The key's owner has limits or credits that apply to it: the owner's object counts it. */
  ownerMetered: boolean;
  /** The key's owner has credits that apply to it. */
  ownerCredits: boolean;
}

/**
 * Whether the settings of the key's owner apply to it (docs/consistency.md#owners): never to an
 * admin key, whose `ownerId` is a label, so that no admin key restricts another through it.
 */
export function ownerApplies(record: Pick<KeyRecord, "type" | "ownerId">): boolean {
  return record.ownerId !== null && record.type !== ADMIN_KEY_TYPE;
}

/** Whether an owner's settings make its object count its keys' requests: limits or credits. */
export function ownerMeters(settings: Pick<Owner, "limits" | "credits"> | null): boolean {
  if (!settings) return false;
  return settings.credits !== null || Object.values(settings.limits).some((limit) => (limit ?? 0) > 0);
}

/**
 * The key's context as D1 has it now. A role the key holds resolves to its workspace's
 * definition, else to the policy's (`roles`, by default the deployment's: a key's object is
 * handed no policy).
 */
export async function readKeyContext(
  db: D1Database,
  record: Pick<KeyRecord, "workspaceId" | "roles" | "ownerId" | "type">,
  roles: PolicyRoles = policyRoles(),
): Promise<KeyContext> {
  const [workspace, found, owner] = await Promise.all([
    new WorkspaceStore(db).find(record.workspaceId),
    new RoleStore(db).find(record.workspaceId, record.roles),
    record.ownerId !== null && ownerApplies(record)
      ? new OwnerStore(db).find(record.workspaceId, record.ownerId)
      : null,
  ]);
  return {
    workspacePlan: workspace?.plan ?? null,
    rolePermissions: resolveRoles(record.roles, found, roles),
    ownerMetered: ownerMeters(owner),
    ownerCredits: owner?.credits != null,
  };
}
