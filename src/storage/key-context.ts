/**
 * A key's context: what a key's decision needs besides its own record (its workspace's plan, its
 * roles' permissions, its owner's settings and roles). Composed in one place (`composeKeyContext`)
 * from the rows it depends on, for the workspace's context objects, which lend it to keys'
 * objects, and for a read from D1 (the decision from D1 when the key's object fails).
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

/** What of an owner's row a key's context depends on. */
export type OwnerRow = Pick<Owner, "limits" | "credits" | "roles">;

/** The rows a key's context is composed from: its workspace, the roles found there, its owner. */
export interface ContextRows {
  workspace: Pick<Workspace, "plan"> | null;
  /** The workspace's definitions of the key's roles and of its owner's roles (those it has). */
  roles: readonly Role[];
  /** The key's owner's row, when it applies to the key (null otherwise, or never set). */
  owner: OwnerRow | null;
}

/** What of a key its context depends on. */
export type ContextSubject = Pick<KeyRecord, "workspaceId" | "roles" | "ownerId" | "type">;

/**
 * A key's context from the rows it depends on, with no I/O: the one place that composes it, for
 * a read from D1 here and for the workspace's context objects (docs/consistency.md#context).
 * A role the key or its owner holds resolves to its workspace's definition, else to the
 * policy's (`roles`, by default the deployment's: an object is handed no policy). An owner never
 * set, or with no roles, grants nothing.
 */
export function composeKeyContext(
  rows: ContextRows,
  record: ContextSubject,
  roles: PolicyRoles = policyRoles(),
): KeyContext {
  const owner = ownerApplies(record) ? rows.owner : null;
  const ownerRoles = owner?.roles ?? [];
  return {
    workspacePlan: rows.workspace?.plan ?? null,
    rolePermissions: resolveRoles(record.roles, rows.roles, roles),
    ownerMetered: ownerMeters(owner),
    ownerCredits: owner?.credits != null,
    ownerRoles,
    ownerRolePermissions: resolveRoles(ownerRoles, rows.roles, roles),
  };
}

/** The key's context as D1 has it now: its rows read (one round), then composed. */
export async function readKeyContext(
  db: D1Database,
  record: ContextSubject,
  roles: PolicyRoles = policyRoles(),
): Promise<KeyContext> {
  const ownerId = record.ownerId !== null && ownerApplies(record) ? record.ownerId : null;
  const [workspace, found, owner] = await Promise.all([
    new WorkspaceStore(db).find(record.workspaceId),
    new RoleStore(db).findForKey(record.workspaceId, record.roles, ownerId),
    ownerId !== null ? new OwnerStore(db).find(record.workspaceId, ownerId) : null,
  ]);
  return composeKeyContext({ workspace, roles: found, owner }, record, roles);
}
