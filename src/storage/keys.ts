/**
 * D1 queries for key records. Keys are found by the SHA-256 of the whole key; a deleted key
 * leaves a tombstone row so that its hash stays reserved.
 */

import type { Creator, Credits, Json, KeyIdentity, KeyRecord } from "../keys/record";
import type { Limits } from "../policy/schema";
import { d1 } from "./guard";
import { parseJson } from "./json";

interface KeyRow {
  id: string;
  hash: string;
  workspace_id: string;
  type: string;
  start: string;
  name: string | null;
  owner_id: string | null;
  permissions: string;
  roles: string;
  meta: string;
  plan: string | null;
  limits: string;
  credits: string | null;
  ip_allowlist: string;
  enabled: number;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  rotated_from: string | null;
  created_by: string | null;
  deleted_at: number | null;
}

export interface StoredKey {
  record: KeyRecord;
  hash: string;
  /** Deleted through the admin API: the record is gone, the hash stays reserved. */
  deleted: boolean;
}

/**
 * What a key's hash maps to, none of which ever changes while the hash is stored (a deleted
 * key's row stays as its tombstone): the verify path's lookup, kept by isolates and locations.
 */
export interface KeyLocation {
  id: string;
  type: string;
  workspaceId: string;
  /** Deleted: the identity its refusals name. Deletion is final, so this never changes either. */
  tombstone: KeyIdentity | null;
}

interface LocationRow {
  id: string;
  workspace_id: string;
  type: string;
  expires_at: number | null;
  deleted_at: number | null;
}

export interface KeyFilter {
  workspaceId?: string;
  ownerId?: string;
  type?: string;
  /** Only keys of these types (the portal's). */
  types?: string[];
  /** A prefix of the name or of `start`. */
  prefix?: string;
  /** Keyset cursor: the last (created_at, id) of the previous page. */
  after?: { createdAt: number; id: string };
  limit: number;
}

function toStored(row: KeyRow): StoredKey {
  return {
    hash: row.hash,
    deleted: row.deleted_at !== null,
    record: {
      id: row.id,
      workspaceId: row.workspace_id,
      type: row.type,
      name: row.name,
      start: row.start,
      ownerId: row.owner_id,
      permissions: parseJson<string[]>(row.permissions, []),
      roles: parseJson<string[]>(row.roles, []),
      meta: parseJson<Record<string, Json>>(row.meta, {}),
      plan: row.plan,
      limits: parseJson<Limits>(row.limits, {}),
      credits: parseJson<Credits | null>(row.credits, null),
      ipAllowlist: parseJson<string[]>(row.ip_allowlist, []),
      enabled: row.enabled === 1,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastUsedAt: row.last_used_at,
      rotatedFrom: row.rotated_from,
      createdBy: parseJson<Creator | null>(row.created_by, null),
    },
  };
}

/** The mutable columns of a record, in the order of `?2`… in insert and update. */
function columns(record: KeyRecord): unknown[] {
  return [
    record.name,
    record.ownerId,
    JSON.stringify(record.permissions),
    JSON.stringify(record.roles),
    JSON.stringify(record.meta),
    record.plan,
    JSON.stringify(record.limits),
    record.credits === null ? null : JSON.stringify(record.credits),
    JSON.stringify(record.ipAllowlist),
    record.enabled ? 1 : 0,
    record.expiresAt,
    record.revokedAt,
    record.updatedAt,
  ];
}

/**
 * The lookup of a key's hash: only the columns it needs, no record to parse. `db` is the binding
 * (the primary) or a D1 session (which may read a replica: docs/consistency.md#the-cold-path).
 */
export async function locateKey(
  db: Pick<D1Database | D1DatabaseSession, "prepare">,
  hash: string,
): Promise<KeyLocation | null> {
  const row = await d1(() =>
    db
      .prepare("SELECT id, workspace_id, type, expires_at, deleted_at FROM keys WHERE hash = ?1")
      .bind(hash)
      .first<LocationRow>(),
  );
  if (!row) return null;
  const { id, workspace_id: workspaceId, type } = row;
  // A tombstone's record has no owner and no meta (`tombstone` below).
  const tombstone =
    row.deleted_at === null
      ? null
      : { id, workspaceId, type, ownerId: null, meta: {}, expiresAt: row.expires_at };
  return { id, type, workspaceId, tombstone };
}

/**
 * The maximums a portal create keeps (docs/portal.md#maximums): the key is inserted only if the
 * workspace's active keys of `types` number fewer than `maxPerWorkspace` and, for a member's
 * key, the member's active keys of `member.types` fewer than `member.max`, counted in the same
 * D1 statement as the insert, so that concurrent creates cannot pass a maximum together.
 */
export interface CreateCap {
  types: string[];
  maxPerWorkspace: number;
  member: { ownerId: string; types: string[]; max: number } | null;
}

/** The values of `?1`…`?22` of an insert. */
function insertValues(record: KeyRecord, hash: string): unknown[] {
  return [
    ...columns(record),
    record.id,
    hash,
    record.workspaceId,
    record.type,
    record.start,
    record.createdAt,
    record.lastUsedAt,
    record.rotatedFrom,
    // A record of an object made before `createdBy` was recorded has none.
    record.createdBy ? JSON.stringify(record.createdBy) : null,
  ];
}

export class KeyStore {
  constructor(private readonly db: D1Database) {}

  async findByHash(hash: string): Promise<StoredKey | null> {
    const row = await d1(() =>
      this.db.prepare("SELECT * FROM keys WHERE hash = ?1").bind(hash).first<KeyRow>(),
    );
    return row ? toStored(row) : null;
  }

  /** The lookup of a key's hash, at the primary (this binding without a session). */
  locate(hash: string): Promise<KeyLocation | null> {
    return locateKey(this.db, hash);
  }

  async findById(id: string): Promise<StoredKey | null> {
    const row = await d1(() => this.db.prepare("SELECT * FROM keys WHERE id = ?1").bind(id).first<KeyRow>());
    return row ? toStored(row) : null;
  }

  async list(filter: KeyFilter): Promise<KeyRecord[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT * FROM keys
         WHERE deleted_at IS NULL
           AND (?1 IS NULL OR workspace_id = ?1)
           AND (?2 IS NULL OR owner_id = ?2)
           AND (?3 IS NULL OR type = ?3)
                      AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5))
                      AND (?7 IS NULL OR instr(name, ?7) = 1 OR instr(start, ?7) = 1)
           AND (?8 IS NULL OR type IN (SELECT value FROM json_each(?8)))
         ORDER BY created_at DESC, id DESC
         LIMIT ?6`,
        )
        .bind(
          filter.workspaceId ?? null,
          filter.ownerId ?? null,
          filter.type ?? null,
          filter.after?.createdAt ?? null,
          filter.after?.id ?? null,
          filter.limit,
          filter.prefix ?? null,
          filter.types ? JSON.stringify(filter.types) : null,
        )
        .all<KeyRow>(),
    );
    return results.map((row) => toStored(row).record);
  }

  insert(record: KeyRecord, hash: string): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO keys (name, owner_id, permissions, roles, meta, plan, limits, credits,
           ip_allowlist, enabled, expires_at, revoked_at, updated_at,
           id, hash, workspace_id, type, start, created_at, last_used_at, rotated_from, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
           ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)`,
      )
      .bind(...insertValues(record, hash));
  }

  /**
   * Inserts the key only while the maximums of `cap` hold (docs/portal.md#maximums): the count and
   * the insert are one statement, and D1 runs statements one at a time, so concurrent creates
   * cannot pass a maximum together. Active keys are those not revoked, deleted or expired at
   * `now`, and not a predecessor in its rotation grace; disabled ones count.
   */
  insertCapped(record: KeyRecord, hash: string, cap: CreateCap, now: number): D1PreparedStatement {
    const active = `k.workspace_id = ?16 AND k.deleted_at IS NULL AND k.revoked_at IS NULL
           AND (k.expires_at IS NULL OR k.expires_at > ?24)
           AND NOT EXISTS (SELECT 1 FROM keys s WHERE s.rotated_from = k.id)`;
    return this.db
      .prepare(
        `INSERT INTO keys (name, owner_id, permissions, roles, meta, plan, limits, credits,
           ip_allowlist, enabled, expires_at, revoked_at, updated_at,
           id, hash, workspace_id, type, start, created_at, last_used_at, rotated_from, created_by)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
           ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22
         WHERE (SELECT COUNT(*) FROM keys k
                WHERE ${active} AND k.type IN (SELECT value FROM json_each(?23))) < ?25
           AND (?26 IS NULL OR (SELECT COUNT(*) FROM keys k
                WHERE ${active} AND k.owner_id = ?26 AND k.type IN (SELECT value FROM json_each(?27))) < ?28)`,
      )
      .bind(
        ...insertValues(record, hash),
        JSON.stringify(cap.types),
        now,
        cap.maxPerWorkspace,
        cap.member?.ownerId ?? null,
        JSON.stringify(cap.member?.types ?? []),
        cap.member?.max ?? 0,
      );
  }

  update(record: KeyRecord): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE keys SET name = ?1, owner_id = ?2, permissions = ?3, roles = ?4, meta = ?5,
           plan = ?6, limits = ?7, credits = ?8, ip_allowlist = ?9, enabled = ?10,
           expires_at = ?11, revoked_at = ?12, updated_at = ?13
         WHERE id = ?14`,
      )
      .bind(...columns(record), record.id);
  }

  /** The write-behind of a key's object: when it was last used and its credit balance. */
  touch(id: string, lastUsedAt: number | null, credits: Credits | null): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE keys SET credits = ?3,
           last_used_at = CASE WHEN ?2 IS NULL THEN last_used_at ELSE MAX(COALESCE(last_used_at, 0), ?2) END
         WHERE id = ?1`,
      )
      .bind(id, lastUsedAt, credits === null ? null : JSON.stringify(credits));
  }

  /** Removes what the record says about its owner and keeps the hash reserved. */
  tombstone(id: string, at: number): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE keys SET deleted_at = ?2, revoked_at = COALESCE(revoked_at, ?2), updated_at = ?2,
           name = NULL, owner_id = NULL, meta = '{}', permissions = '[]', roles = '[]'
         WHERE id = ?1`,
      )
      .bind(id, at);
  }

  /** Ids of the live keys of a workspace, all or only those holding `role`. */
  async idsInWorkspace(workspaceId: string, role?: string): Promise<string[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT id FROM keys
           WHERE workspace_id = ?1 AND deleted_at IS NULL AND revoked_at IS NULL
             AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(keys.roles) WHERE value = ?2))`,
        )
        .bind(workspaceId, role ?? null)
        .all<{ id: string }>(),
    );
    return results.map((row) => row.id);
  }

  /** Ids of a workspace's keys of `types` (of `ownerId` when given), revoked ones included, deleted ones not; at most `limit`. */
  async idsOfTypes(
    workspaceId: string,
    types: string[],
    ownerId: string | null,
    limit: number,
  ): Promise<string[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT id FROM keys
           WHERE workspace_id = ?1 AND deleted_at IS NULL AND type IN (SELECT value FROM json_each(?2))
             AND (?3 IS NULL OR owner_id = ?3)
           LIMIT ?4`,
        )
        .bind(workspaceId, JSON.stringify(types), ownerId, limit)
        .all<{ id: string }>(),
    );
    return results.map((row) => row.id);
  }

  async hashExists(hash: string): Promise<boolean> {
    const row = await d1(() =>
      this.db.prepare("SELECT 1 AS found FROM keys WHERE hash = ?1").bind(hash).first(),
    );
    return row !== null;
  }
}
