/**
 * The audit log (docs/admin-api.md): one entry per admin change, written in the same D1 batch as the
 * change. Entries never hold a secret: records carry only a key's hash-free fields. A change
 * nobody made through the admin API (a GitHub leak report) has a `system` actor.
 */
import type { Creator } from "../keys/record";
import { d1 } from "./guard";
import { parseJson } from "./json";

export type AuditAction =
  | "workspace.create"
  | "workspace.update"
  | "key.create"
  | "key.import"
  | "key.update"
  | "key.credits"
  | "key.revoke"
  | "key.rotate"
  | "key.delete"
  | "role.upsert"
  | "role.delete"
  | "key.leak"
  | "owner.update"
  | "owner.revoke";

/** Who made a change: the creators of keys (root, an admin key, a portal member), or the system. */
export type Actor = Creator | { type: "system"; id: string };

export interface AuditEntry {
  id: string;
  at: number;
  workspaceId: string;
  actor: Actor;
  action: AuditAction;
  targetId: string;
  requestId: string;
  before: unknown;
  after: unknown;
}

interface AuditRow {
  seq: number;
  id: string;
  at: number;
  workspace_id: string;
  actor_type: Actor["type"];
  actor_id: string | null;
  action: AuditAction;
  target_id: string;
  request_id: string;
  before: string | null;
  after: string | null;
}

/** An entry's columns, in the order of `?1`… of the inserts. */
function auditValues(entry: AuditEntry): unknown[] {
  return [
    entry.id,
    entry.at,
    entry.workspaceId,
    entry.actor.type,
    entry.actor.type === "root" ? null : entry.actor.id,
    entry.action,
    entry.targetId,
    entry.requestId,
    entry.before === null ? null : JSON.stringify(entry.before),
    entry.after === null ? null : JSON.stringify(entry.after),
  ];
}

const COLUMNS = "id, at, workspace_id, actor_type, actor_id, action, target_id, request_id, before, after";
const VALUES = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10";

export class AuditStore {
  constructor(private readonly db: D1Database) {}

  /** The entry of a key's creation, written only if the key `keyId` is in D1 (a capped insert went in). */
  insertIfKey(entry: AuditEntry, keyId: string): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT OR IGNORE INTO audit_log (${COLUMNS}) SELECT ${VALUES}
         WHERE EXISTS (SELECT 1 FROM keys WHERE id = ?11)`,
      )
      .bind(...auditValues(entry), keyId);
  }

  /** The entry of a workspace's creation, written only if the workspace `workspaceId` is in D1. */
  insertIfWorkspace(entry: AuditEntry, workspaceId: string): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT OR IGNORE INTO audit_log (${COLUMNS}) SELECT ${VALUES}
         WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?11)`,
      )
      .bind(...auditValues(entry), workspaceId);
  }

  /**
   * Whether someone other than a portal member (root, an admin key, the system for a leak
   * report) left the key disabled: an update of theirs with the key disabled after it since it
   * was last created or enabled. A member may enable again only a key no one else holds disabled.
   */
  async heldDisabled(workspaceId: string, keyId: string): Promise<boolean> {
    const row = await d1(() =>
      this.db
        .prepare(
          `SELECT 1 AS held FROM audit_log
           WHERE workspace_id = ?2 AND target_id = ?1 AND action = 'key.update' AND actor_type != 'portal'
             AND json_extract(after, '$.enabled') = 0
             AND seq > COALESCE((SELECT MAX(seq) FROM audit_log
               WHERE workspace_id = ?2 AND target_id = ?1
                 AND (action IN ('key.create', 'key.import', 'key.rotate')
                   OR (action = 'key.update' AND json_extract(before, '$.enabled') = 0
                     AND json_extract(after, '$.enabled') = 1))), 0)
           LIMIT 1`,
        )
        .bind(keyId, workspaceId)
        .first(),
    );
    return row !== null;
  }

  /** Idempotent by entry id, so that a retried write does not record a change twice. */
  insert(entry: AuditEntry): D1PreparedStatement {
    return this.bound(`INSERT OR IGNORE INTO audit_log (${COLUMNS}) VALUES (${VALUES})`, entry);
  }

  /**
   * The entry of a change written by the statement just before this one in the same batch, only
   * if that statement changed a row (a conditional write that D1 skipped records nothing).
   */
  insertAfterChange(entry: AuditEntry): D1PreparedStatement {
    return this.bound(
      `INSERT OR IGNORE INTO audit_log (${COLUMNS}) SELECT ${VALUES} WHERE changes() > 0`,
      entry,
    );
  }

  private bound(sql: string, entry: AuditEntry): D1PreparedStatement {
    return this.db.prepare(sql).bind(...auditValues(entry));
  }

  /** Newest first; `before` is the `seq` cursor of the previous page. */
  async list(
    workspaceId: string | null,
    before: number | null,
    limit: number,
  ): Promise<{ seq: number; entry: AuditEntry }[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT * FROM audit_log
         WHERE (?1 IS NULL OR workspace_id = ?1) AND (?2 IS NULL OR seq < ?2)
         ORDER BY seq DESC LIMIT ?3`,
        )
        .bind(workspaceId, before, limit)
        .all<AuditRow>(),
    );
    return results.map((row) => ({
      seq: row.seq,
      entry: {
        id: row.id,
        at: row.at,
        workspaceId: row.workspace_id,
        actor: actorOf(row),
        action: row.action,
        targetId: row.target_id,
        requestId: row.request_id,
        before: parseJson<unknown>(row.before, null),
        after: parseJson<unknown>(row.after, null),
      },
    }));
  }
}

function actorOf(row: AuditRow): Actor {
  return row.actor_type === "root" ? { type: "root" } : { type: row.actor_type, id: row.actor_id ?? "" };
}
