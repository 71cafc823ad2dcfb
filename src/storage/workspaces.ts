/**
 * D1 queries for workspaces.
 */
import { d1 } from "./guard";

export interface Workspace {
  id: string;
  name: string;
  plan: string | null;
  /** The provider's own id of the organisation the workspace serves; unique, or null. */
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
}

interface WorkspaceRow {
  id: string;
  name: string;
  plan: string | null;
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    externalId: row.external_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The unique index that keeps two workspaces from sharing an `externalId`. */
export const EXTERNAL_ID_COLUMN = "workspaces.external_id";

export class WorkspaceStore {
  constructor(private readonly db: D1Database) {}

  async find(id: string): Promise<Workspace | null> {
    const row = await d1(() =>
      this.db.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(id).first<WorkspaceRow>(),
    );
    return row ? toWorkspace(row) : null;
  }

  /**
   * Workspaces by id; `only` restricts the list to one workspace (an admin key's own), and
   * `externalId` to the one workspace holding it.
   */
  async list(
    only: string | null,
    after: string | null,
    limit: number,
    externalId: string | null = null,
  ): Promise<Workspace[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT * FROM workspaces
         WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR id > ?2) AND (?4 IS NULL OR external_id = ?4)
         ORDER BY id LIMIT ?3`,
        )
        .bind(only, after, limit, externalId)
        .all<WorkspaceRow>(),
    );
    return results.map(toWorkspace);
  }

  async findByExternalId(externalId: string): Promise<Workspace | null> {
    const row = await d1(() =>
      this.db
        .prepare("SELECT * FROM workspaces WHERE external_id = ?1")
        .bind(externalId)
        .first<WorkspaceRow>(),
    );
    return row ? toWorkspace(row) : null;
  }

  /**
   * Inserts the workspace unless one already has its `externalId`: of concurrent first claims,
   * the unique index lets one in and the others write nothing (docs/portal.md#workspaces).
   */
  insertUnlessClaimed(workspace: Workspace): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO workspaces (id, name, plan, created_at, updated_at, external_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (external_id) DO NOTHING`,
      )
      .bind(
        workspace.id,
        workspace.name,
        workspace.plan,
        workspace.createdAt,
        workspace.updatedAt,
        workspace.externalId,
      );
  }

  insert(workspace: Workspace): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO workspaces (id, name, plan, created_at, updated_at, external_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
      )
      .bind(
        workspace.id,
        workspace.name,
        workspace.plan,
        workspace.createdAt,
        workspace.updatedAt,
        workspace.externalId,
      );
  }

  update(workspace: Workspace): D1PreparedStatement {
    return this.db
      .prepare("UPDATE workspaces SET name = ?2, plan = ?3, updated_at = ?4, external_id = ?5 WHERE id = ?1")
      .bind(workspace.id, workspace.name, workspace.plan, workspace.updatedAt, workspace.externalId);
  }
}
