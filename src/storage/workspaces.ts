/**
 * D1 queries for workspaces.
 */
import { d1 } from "./guard";

export interface Workspace {
  id: string;
  name: string;
  plan: string | null;
  createdAt: number;
  updatedAt: number;
}

interface WorkspaceRow {
  id: string;
  name: string;
  plan: string | null;
  created_at: number;
  updated_at: number;
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class WorkspaceStore {
  constructor(private readonly db: D1Database) {}

  async find(id: string): Promise<Workspace | null> {
    const row = await d1(() =>
      this.db.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(id).first<WorkspaceRow>(),
    );
    return row ? toWorkspace(row) : null;
  }

  /** Workspaces by id; `only` restricts the list to one workspace (an admin key's own). */
  async list(only: string | null, after: string | null, limit: number): Promise<Workspace[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT * FROM workspaces
         WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR id > ?2)
         ORDER BY id LIMIT ?3`,
        )
        .bind(only, after, limit)
        .all<WorkspaceRow>(),
    );
    return results.map(toWorkspace);
  }

  insert(workspace: Workspace): D1PreparedStatement {
    return this.db
      .prepare("INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind(workspace.id, workspace.name, workspace.plan, workspace.createdAt, workspace.updatedAt);
  }

  update(workspace: Workspace): D1PreparedStatement {
    return this.db
      .prepare("UPDATE workspaces SET name = ?2, plan = ?3, updated_at = ?4 WHERE id = ?1")
      .bind(workspace.id, workspace.name, workspace.plan, workspace.updatedAt);
  }
}
