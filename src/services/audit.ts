/**
 * Reading the audit log: newest first, a page at a time, only the caller's workspace for an
 * admin key.
 */
import { type AuditEntry, AuditStore } from "../storage/audit";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";

export class AuditService {
  private readonly audit: AuditStore;
  private readonly workspaces: WorkspaceStore;

  constructor(db: D1Database) {
    this.audit = new AuditStore(db);
    this.workspaces = new WorkspaceStore(db);
  }

  async list(
    context: AdminContext,
    query: { workspaceId?: string; cursor?: string; limit: number },
  ): Promise<{ items: AuditEntry[]; cursor: string | null }> {
    const workspaceId = query.workspaceId ?? context.workspaceId;
    if (workspaceId && (!canSee(context, workspaceId) || !(await this.workspaces.find(workspaceId)))) {
      throw notFound("workspace", workspaceId);
    }
    const isSeq = (value: unknown): value is number => Number.isSafeInteger(value);
    const before = query.cursor === undefined ? null : decodeCursor(query.cursor, isSeq);
    const rows = await this.audit.list(workspaceId ?? null, before, query.limit);
    const last = rows.at(-1);
    return {
      items: rows.map((row) => row.entry),
      cursor: rows.length === query.limit && last ? encodeCursor(last.seq) : null,
    };
  }
}
