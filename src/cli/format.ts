/**
 * The CLI's human output as plain text: tables, records, problems, the new key's notice. Pure
 * (no I/O, no clock unless given), so the unit tests read exactly what a person sees.
 *
 * Every string a server gave passes through `text` (or `terminalSafe`) on its way out: a server
 * may not drive the terminal (docs/cli.md#what-the-cli-trusts).
 */
import type { components } from "../client/index.ts";

type Key = components["schemas"]["Key"];
type WindowStatus = components["schemas"]["WindowStatus"];
type AuditEntry = components["schemas"]["AuditEntry"];
type Cell = string | number | boolean | null | undefined;
/** A problem as printed: the API's, or one of a proxy or an older deployment (no detail, any code). */
export interface PrintedProblem {
  type?: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
}

/**
 * Terminal escape sequences, 7-bit (ESC ...) and 8-bit (C1): a CSI with its parameters and final
 * byte; an OSC, DCS, SOS, PM or APC string up to its terminator (BEL, ESC \ or ST), or to the end
 * when it has none; any other ESC with its intermediate and final bytes.
 */
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding escape sequences is its purpose.
  /(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** Control characters (C0, DEL, C1) but tab and newline. */
const CONTROL = /(?![\n\t])\p{Cc}/gu;
/** Control characters in JSON.stringify's output but its own newlines: DEL and C1 (it escapes C0). */
const JSON_UNESCAPED_CONTROL = /(?!\n)\p{Cc}/gu;

/**
 * Text fit for a terminal: escape sequences and control characters removed, newlines and tabs
 * kept for the layout. Printable text (any other code point) is left as it is.
 */
export function terminalSafe(value: string): string {
  return value.replace(ESCAPE_SEQUENCE, "").replace(CONTROL, "");
}

/** A string on one line: a server's newline must not start a line that looks like the CLI's own. */
function oneLine(value: string): string {
  return terminalSafe(value).replace(/[\n\t]/g, " ");
}

/** A JSON value with every string, keys too, on one terminal-safe line. */
function cleaned(value: unknown): unknown {
  if (typeof value === "string") return oneLine(value);
  if (Array.isArray(value)) return value.map(cleaned);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [oneLine(key), cleaned(item)]));
  }
  return value;
}

/** A value as one cell or line: `-` for nothing, lists comma-separated, objects as JSON. */
export function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length === 0 ? "-" : value.map(text).join(", ");
  if (typeof value === "object") {
    return Object.keys(value).length === 0 ? "-" : JSON.stringify(cleaned(value));
  }
  return oneLine(String(value));
}

/**
 * `--json` output: the answer pretty-printed (or on one line, `indent` 0), with DEL and C1
 * escaped too: the same value, and nothing a terminal would act on.
 */
export function jsonText(answer: unknown, indent = 2): string {
  return JSON.stringify(answer, null, indent).replace(
    JSON_UNESCAPED_CONTROL,
    (control) => `\\u${control.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A URL as it may be printed: whatever stands before its last `@` (a user name, a password) is
 * hidden, whether the URL parses or not.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1***@");
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
    ["created by", key.createdBy],
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

/** A window's live counter, of a key or an owner. */
export function counterLine(window: WindowStatus): string {
  return `counter ${text(window.window)}: ${text(window.remaining)} of ${text(window.limit)} left, resets in ${text(window.reset)} s`;
}

/** The one time a key is shown: set apart from the record so that nobody misses or misreads it. */
export function newKeyNotice(key: string): string {
  return [
    "",
    "NEW KEY, shown only this once (Portcullis keeps only its hash). Store it now:",
    "",
    `    ${text(key)}`,
    "",
  ].join("\n");
}

/** The line to get the next page, or nothing on the last. */
export function nextPage(cursor: string | null): string | undefined {
  return cursor === null ? undefined : `more: repeat with --cursor ${text(cursor)}`;
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
  return [entry.at, entry.action, entry.targetId, actorOf(entry), entry.workspaceId, entry.requestId]
    .map(text)
    .join("  ");
}

/** A problem as printed on stderr: what failed, why, which fields, and the id to quote. */
export function problemText(problem: PrintedProblem): string {
  const lines = [`error: ${text(problem.title)} (${text(problem.code)}, HTTP ${text(problem.status)})`];
  if (problem.detail) lines.push(`  ${text(problem.detail)}`);
  for (const error of problem.errors ?? [])
    lines.push(`  field ${text(error.field)}: ${text(error.message)}`);
  if (problem.requestId) lines.push(`  request id: ${text(problem.requestId)}`);
  return lines.join("\n");
}
