/**
 * Roles: named permission bundles. A workspace's are D1 rows; the policy's (`policy.roles`) exist
 * in every workspace, and a workspace role of the same name replaces the policy's there
 * (docs/policy.md#roles).
 */
import { ownEntry } from "../policy/own-entry";
import type { Policy } from "../policy/schema";
import { d1 } from "./guard";
import { parseJson } from "./json";

export interface Role {
  workspaceId: string;
  name: string;
  permissions: string[];
  createdAt: number;
  updatedAt: number;
}

interface RoleRow {
  workspace_id: string;
  name: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

function toRole(row: RoleRow): Role {
  return {
    workspaceId: row.workspace_id,
    name: row.name,
    permissions: parseJson<string[]>(row.permissions, []),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class RoleStore {
  constructor(private readonly db: D1Database) {}

  async list(workspaceId: string): Promise<Role[]> {
    const { results } = await d1(() =>
      this.db
        .prepare("SELECT * FROM roles WHERE workspace_id = ?1 ORDER BY name")
        .bind(workspaceId)
        .all<RoleRow>(),
    );
    return results.map(toRole);
  }

  /** The roles of `names` that exist in the workspace. */
  async find(workspaceId: string, names: readonly string[]): Promise<Role[]> {
    if (names.length === 0) return [];
    const { results } = await d1(() =>
      this.db
        .prepare("SELECT * FROM roles WHERE workspace_id = ?1 AND name IN (SELECT value FROM json_each(?2))")
        .bind(workspaceId, JSON.stringify(names))
        .all<RoleRow>(),
    );
    return results.map(toRole);
  }

  /**
   * The workspace's roles a key needs: those of `names` (its own) and, when `ownerId` is given,
   * those its owner holds, in one query.
   */
  async findForKey(workspaceId: string, names: readonly string[], ownerId: string | null): Promise<Role[]> {
    if (names.length === 0 && ownerId === null) return [];
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT * FROM roles WHERE workspace_id = ?1 AND (
             name IN (SELECT value FROM json_each(?2))
             OR name IN (SELECT value FROM owners, json_each(owners.roles)
                         WHERE owners.workspace_id = ?1 AND owners.owner_id = ?3))`,
        )
        .bind(workspaceId, JSON.stringify(names), ownerId)
        .all<RoleRow>(),
    );
    return results.map(toRole);
  }

  upsert(role: Role): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO roles (workspace_id, name, permissions, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (workspace_id, name) DO UPDATE SET permissions = excluded.permissions, updated_at = excluded.updated_at`,
      )
      .bind(role.workspaceId, role.name, JSON.stringify(role.permissions), role.createdAt, role.updatedAt);
  }

  delete(workspaceId: string, name: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM roles WHERE workspace_id = ?1 AND name = ?2").bind(workspaceId, name);
  }
}

/** Permissions of each role, by name, as a key's Durable Object keeps them. */
export function permissionsByRole(roles: readonly Role[]): Record<string, string[]> {
  return Object.fromEntries(roles.map((role) => [role.name, role.permissions]));
}

/** `policy.roles`: roles known in every workspace. */
export type PolicyRoles = Policy["roles"];

/**
 * Where this isolate reads the deployment's `policy.roles` from. The Worker's entry sets it
 * (from the `POLICY` binding), so that a key's object, which is handed no policy, resolves a
 * role as the admin API does; until then there are none, which grants nothing.
 */
let deployedRoles: () => PolicyRoles = () => ({});

export function readPolicyRolesFrom(source: () => PolicyRoles): void {
  deployedRoles = source;
}

/** The deployment's `policy.roles`, as this isolate's `POLICY` has them. */
export function policyRoles(): PolicyRoles {
  return deployedRoles();
}

/**
 * Permissions of each of `names` that is a role of the workspace (`found`, its D1 rows, of which
 * only those of `names` count) or of the policy: the workspace's definition wins. Names that are
 * neither are left out. Names are looked up as own entries only.
 */
export function resolveRoles(
  names: readonly string[],
  found: readonly Role[],
  policy: PolicyRoles,
): Record<string, string[]> {
  const fromPolicy = names.flatMap((name) => {
    const role = ownEntry(policy, name);
    return role ? [[name, role.permissions] as const] : [];
  });
  const named = found.filter((role) => names.includes(role.name));
  return { ...Object.fromEntries(fromPolicy), ...permissionsByRole(named) };
}
