/**
 * A key's context as D1 has it now: what a key's decision needs besides its own record (its
 * workspace's plan, its roles' permissions, its owner's settings and roles' permissions). One read, shared by every
 * place that builds or refreshes a key's state from D1: creation, adoption, a change of roles or
 * owner, the key's periodic refresh, and the decision from D1 when the key's object fails.
 */
import type { KeyRecord } from "../keys/record";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import type { Owner } from "./owners";
import { OwnerStore } from "./owners";
import { type PolicyRoles, policyRoles, type Role, RoleStore, resolveRoles } from "./roles";
import { type Workspace, WorkspaceStore } from "./workspaces";

export interface KeyContext {
  workspacePlan: string | null;
  /** Permissions of each role the key holds, by role name. */
  rolePermissions: Record<string, string[]>;
  /** The key's owner has limits or credits that apply to it: the owner's object counts it. */
  ownerMetered: boolean;
  /** The key's owner has credits that apply to it. */
  ownerCredits: boolean;
  /** Names of the owner's roles (docs/consistency.md#owners); `[]` when none, never set, or the owner does not apply. */
  ownerRoles: string[];
  /** Permissions of each of the owner's roles that exists, by role name. */
  ownerRolePermissions: Record<string, string[]>;
}

/** What a key's object keeps of its context (the rest is read when a decision is made from D1). */
export type StoredContext = Pick<
  KeyContext,
  "workspacePlan" | "rolePermissions" | "ownerMetered" | "ownerRoles" | "ownerRolePermissions"
>;

export function storedContext(context: KeyContext): StoredContext {
  const { workspacePlan, rolePermissions, ownerMetered, ownerRoles, ownerRolePermissions } = context;
  return { workspacePlan, rolePermissions, ownerMetered, ownerRoles, ownerRolePermissions };
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
 * A key's context from what D1 holds: its workspace, the workspace's role rows (those the key or
 * its owner name; others are ignored), its owner's row and the policy's roles. A role resolves
 * to its workspace's definition, else to the policy's. The owner counts only if it is the key's
 * and applies to it (never to an admin key); an owner never set has no roles, which grant nothing.
 * Pure, so that every way a context reaches a key composes it the same way.
 */
export function composeKeyContext(
  record: Pick<KeyRecord, "roles" | "ownerId" | "type">,
  workspace: Pick<Workspace, "plan"> | null,
  roleRows: readonly Role[],
  owner: Owner | null,
  policyRoles: PolicyRoles,
): KeyContext {
  const applying = owner !== null && ownerApplies(record) && owner.ownerId === record.ownerId ? owner : null;
  const ownerRoles = applying?.roles ?? [];
  return {
    workspacePlan: workspace?.plan ?? null,
    rolePermissions: resolveRoles(record.roles, roleRows, policyRoles),
    ownerMetered: ownerMeters(applying),
    ownerCredits: applying?.credits != null,
    ownerRoles,
    ownerRolePermissions: resolveRoles(ownerRoles, roleRows, policyRoles),
  };
}

/**
 * The key's context as D1 has it now, in one round of reads. A role the key or its owner holds
 * resolves to its workspace's definition, else to the policy's (`roles`, by default the
 * deployment's: a key's object is handed no policy).
 */
export async function readKeyContext(
  db: D1Database,
  record: Pick<KeyRecord, "workspaceId" | "roles" | "ownerId" | "type">,
  roles: PolicyRoles = policyRoles(),
): Promise<KeyContext> {
  const ownerId = record.ownerId !== null && ownerApplies(record) ? record.ownerId : null;
  const [workspace, roleRows, owner] = await Promise.all([
    new WorkspaceStore(db).find(record.workspaceId),
    new RoleStore(db).findForKey(record.workspaceId, record.roles, ownerId),
    ownerId !== null ? new OwnerStore(db).find(record.workspaceId, ownerId) : null,
  ]);
  return composeKeyContext(record, workspace, roleRows, owner, roles);
}
