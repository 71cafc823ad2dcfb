/**
 * D1 queries for owners (docs/consistency.md#owners): the settings of each owner set with `PUT /owners`, its
 * roles set with `PUT /owners/:ownerId/roles`, and the keys of an owner. The owner's live
 * counters are in its Durable Object, not here.
 */
import type { Credits } from "../keys/record";
import type { Limits } from "../policy/schema";
import { d1 } from "./guard";
import { parseJson } from "./json";

export interface Owner {
  workspaceId: string;
  ownerId: string;
  limits: Limits;
  credits: Credits | null;
  /** Names of the owner's roles; `[]` when none, or never set. */
  roles: string[];
  /** Epoch ms the roles are as of (a portal token issued at or before it changes nothing); null: never set. */
  rolesAsOf: number | null;
  createdAt: number;
  updatedAt: number;
}

interface OwnerRow {
  workspace_id: string;
  owner_id: string;
  limits: string;
  credits: string | null;
  roles: string;
  roles_as_of: number | null;
  created_at: number;
  updated_at: number;
}

function toOwner(row: OwnerRow): Owner {
  return {
    workspaceId: row.workspace_id,
    ownerId: row.owner_id,
    limits: parseJson<Limits>(row.limits, {}),
    credits: parseJson<Credits | null>(row.credits, null),
    roles: parseJson<string[]>(row.roles, []),
    rolesAsOf: row.roles_as_of,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Live keys: neither deleted nor revoked. */
const LIVE = "deleted_at IS NULL AND revoked_at IS NULL";

export class OwnerStore {
  constructor(private readonly db: D1Database) {}

  async find(workspaceId: string, ownerId: string): Promise<Owner | null> {
    const row = await d1(() =>
      this.db
        .prepare("SELECT * FROM owners WHERE workspace_id = ?1 AND owner_id = ?2")
        .bind(workspaceId, ownerId)
        .first<OwnerRow>(),
    );
    return row ? toOwner(row) : null;
  }

  /** Owners of a workspace by id, after `after`, with the number of their live keys. */
  async list(
    workspaceId: string,
    after: string | null,
    limit: number,
  ): Promise<{ owner: Owner; keyCount: number }[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT owners.*, (SELECT COUNT(*) FROM keys
             WHERE keys.workspace_id = owners.workspace_id AND keys.owner_id = owners.owner_id AND ${LIVE}
           ) AS key_count
           FROM owners WHERE workspace_id = ?1 AND (?2 IS NULL OR owner_id > ?2)
           ORDER BY owner_id LIMIT ?3`,
        )
        .bind(workspaceId, after, limit)
        .all<OwnerRow & { key_count: number }>(),
    );
    return results.map((row) => ({ owner: toOwner(row), keyCount: row.key_count }));
  }

  upsert(owner: Owner): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO owners (workspace_id, owner_id, limits, credits, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (workspace_id, owner_id) DO UPDATE SET
           limits = excluded.limits, credits = excluded.credits, updated_at = excluded.updated_at`,
      )
      .bind(
        owner.workspaceId,
        owner.ownerId,
        JSON.stringify(owner.limits),
        owner.credits === null ? null : JSON.stringify(owner.credits),
        owner.createdAt,
        owner.updatedAt,
      );
  }

  /**
   * Sets the owner's roles and their date, creating the owner with no limits if it was never
   * set. With `onlyIfNewer`, only when the roles are older than `rolesAsOf` (or were never
   * set), checked by D1 itself so that no concurrent change is undone: `changes()` is then 0.
   */
  setRoles(
    owner: Pick<Owner, "workspaceId" | "ownerId" | "roles" | "updatedAt"> & { rolesAsOf: number },
    onlyIfNewer: boolean,
  ): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO owners (workspace_id, owner_id, roles, roles_as_of, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (workspace_id, owner_id) DO UPDATE SET
           roles = excluded.roles, roles_as_of = excluded.roles_as_of, updated_at = excluded.updated_at
         WHERE ?6 = 0 OR owners.roles_as_of IS NULL OR owners.roles_as_of < excluded.roles_as_of`,
      )
      .bind(
        owner.workspaceId,
        owner.ownerId,
        JSON.stringify(owner.roles),
        owner.rolesAsOf,
        owner.updatedAt,
        onlyIfNewer ? 1 : 0,
      );
  }

  /** Ids of the live keys of the workspace's owners whose roles include `role`. */
  async keyIdsWithRole(workspaceId: string, role: string): Promise<string[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT keys.id FROM keys JOIN owners
             ON owners.workspace_id = keys.workspace_id AND owners.owner_id = keys.owner_id
           WHERE keys.workspace_id = ?1 AND keys.deleted_at IS NULL AND keys.revoked_at IS NULL
             AND EXISTS (SELECT 1 FROM json_each(owners.roles) WHERE value = ?2)`,
        )
        .bind(workspaceId, role)
        .all<{ id: string }>(),
    );
    return results.map((row) => row.id);
  }

  /** Ids of the owner's live keys. */
  async keyIds(workspaceId: string, ownerId: string): Promise<string[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(`SELECT id FROM keys WHERE workspace_id = ?1 AND owner_id = ?2 AND ${LIVE}`)
        .bind(workspaceId, ownerId)
        .all<{ id: string }>(),
    );
    return results.map((row) => row.id);
  }
}
