/**
 * The CLI's human output as plain text: tables, records, problems, the new key's notice. Pure
 * (no I/O, no clock unless given), so the unit tests read exactly what a person sees.
 */
import type { components, Problem } from "../client/index.ts";

type Key = components["schemas"]["Key"];
type AuditEntry = components["schemas"]["AuditEntry"];
type Cell = string | number | boolean | null | undefined;

/** A value as one cell or line: `-` for nothing, lists comma-separated, objects as JSON. */
export function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length === 0 ? "-" : value.map(text).join(", ");
  if (typeof value === "object") return Object.keys(value).length === 0 ? "-" : JSON.stringify(value);
  return String(value);
}

/** Columns padded to their widest cell; `(none)` for no rows. */
export function table(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return "(none)";
  const cells = [headers, ...rows.map((row) => row.map(text))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join("  "),
    )
    .join("\n");
}

/** One record as `label  value` lines, labels aligned. */
export function fields(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${text(value)}`).join("\n");
}

/** What a key can do now, as a person asks it: revoked, disabled, expired or active. */
export function keyStatus(key: Pick<Key, "revokedAt" | "enabled" | "expiresAt">, now: Date): string {
  if (key.revokedAt !== null) return "revoked";
  if (!key.enabled) return "disabled";
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now.getTime()) return "expired";
  return "active";
}

export function keyRecord(key: Key, now: Date): string {
  return fields([
    ["id", key.id],
    ["status", keyStatus(key, now)],
    ["workspace", key.workspaceId],
    ["type", key.type],
    ["name", key.name],
    ["start", key.start],
    ["owner", key.ownerId],
    ["permissions", key.permissions],
    ["roles", key.roles],
    ["plan", key.plan],
    ["limits", key.limits],
    ["credits", key.credits],
    ["ip allowlist", key.ipAllowlist],
    ["meta", key.meta],
    ["expires", key.expiresAt],
    ["revoked", key.revokedAt],
    ["rotated from", key.rotatedFrom],
    ["last used", key.lastUsedAt],
    ["created", key.createdAt],
    ["updated", key.updatedAt],
  ]);
}

export function keyTable(keys: Key[], now: Date): string {
  return table(
    ["ID", "NAME", "TYPE", "START", "OWNER", "STATUS", "CREATED"],
    keys.map((key) => [
      key.id,
      key.name,
      key.type,
      key.start,
      key.ownerId,
      keyStatus(key, now),
      key.createdAt,
    ]),
  );
}

/** The one time a key is shown: set apart from the record so that nobody misses or misreads it. */
export function newKeyNotice(key: string): string {
  return [
    "",
    "NEW KEY, shown only this once (Portcullis keeps only its hash). Store it now:",
    "",
    `    ${key}`,
    "",
  ].join("\n");
}

/** The line to get the next page, or nothing on the last. */
export function nextPage(cursor: string | null): string | undefined {
  return cursor === null ? undefined : `more: repeat with --cursor ${cursor}`;
}

export function actorOf(entry: AuditEntry): string {
  return entry.actor.id === undefined ? entry.actor.type : `${entry.actor.type}:${entry.actor.id}`;
}

export function auditTable(entries: AuditEntry[]): string {
  return table(
    ["AT", "ACTION", "TARGET", "ACTOR", "WORKSPACE", "REQUEST"],
    entries.map((entry) => [
      entry.at,
      entry.action,
      entry.targetId,
      actorOf(entry),
      entry.workspaceId,
      entry.requestId,
    ]),
  );
}

/** One audit entry as a line of `audit --follow`. */
export function auditLine(entry: AuditEntry): string {
  return [entry.at, entry.action, entry.targetId, actorOf(entry), entry.workspaceId, entry.requestId].join(
    "  ",
  );
}

/** A problem as printed on stderr: what failed, why, which fields, and the id to quote. */
export function problemText(problem: Problem): string {
  const lines = [`error: ${problem.title} (${problem.code}, HTTP ${problem.status})`];
  if (problem.detail) lines.push(`  ${problem.detail}`);
  for (const error of problem.errors ?? []) lines.push(`  field ${error.field}: ${error.message}`);
  if (problem.requestId) lines.push(`  request id: ${problem.requestId}`);
  return lines.join("\n");
}
