/** `portcullis audit`: the audit log, one page or followed as it grows (`--follow`). */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import type { components } from "../../client/index.ts";
import { AuditList } from "../answers.ts";
import { auditLine, auditTable, jsonText, nextPage } from "../format.ts";
import { integer, seconds } from "../parse.ts";
import { checked, print, printLine, type Session, sessionOf } from "../session.ts";

type AuditEntry = components["schemas"]["AuditEntry"];

interface AuditOptions {
  workspace?: string;
  limit?: number;
  cursor?: string;
  follow?: boolean;
  interval: number;
}

/** Pages read per poll before giving up on reaching an entry already printed. */
const MAX_PAGES_PER_POLL = 10;

/**
 * The entries newer than the newest printed one, oldest first: the log is newest first, so
 * pages are read until one reaches an entry already printed (or there are no more).
 */
async function newEntries(session: Session, workspaceId: string | undefined, printed: Set<string>) {
  const fresh: AuditEntry[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_POLL; page += 1) {
    const answer = await checked(
      AuditList,
      session.api.GET("/_portcullis/admin/v1/audit", {
        params: { query: { workspaceId, limit: 100, cursor } },
      }),
    );
    const reached = answer.items.findIndex((entry) => printed.has(entry.id));
    fresh.push(...(reached === -1 ? answer.items : answer.items.slice(0, reached)));
    if (reached !== -1 || answer.cursor === null) break;
    cursor = answer.cursor;
  }
  return fresh.reverse();
}

/** Prints the latest `limit` entries oldest first, then each new one as it appears, until stopped. */
async function follow(session: Session, options: AuditOptions): Promise<never> {
  const first = await checked(
    AuditList,
    session.api.GET("/_portcullis/admin/v1/audit", {
      params: { query: { workspaceId: options.workspace, limit: options.limit ?? 10 } },
    }),
  );
  const printed = new Set(first.items.map((entry) => entry.id));
  const write = (entry: AuditEntry) => printLine(session.json ? jsonText(entry, 0) : auditLine(entry));
  first.items.toReversed().forEach(write);
  for (;;) {
    await sleep(options.interval * 1000);
    for (const entry of await newEntries(session, options.workspace, printed)) {
      printed.add(entry.id);
      write(entry);
    }
  }
}

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("the audit log of admin changes, newest first; --follow to watch it")
    .option("--workspace <id>", "only this workspace's entries")
    .option("--limit <n>", "at most this many (1 to 100; default 50, with --follow 10)", integer(1))
    .option("--cursor <cursor>", "the page after this cursor")
    .option(
      "-f, --follow",
      "print the latest entries oldest first, then new ones as they come (Ctrl-C stops)",
    )
    .option("--interval <seconds>", "with --follow: seconds between polls", seconds, 2)
    .addHelpText("after", "\nWith --follow and --json, each entry is one JSON line (NDJSON).")
    .action(async (options: AuditOptions, command: Command) => {
      const session = sessionOf(command);
      if (options.follow) await follow(session, options);
      const page = await checked(
        AuditList,
        session.api.GET("/_portcullis/admin/v1/audit", {
          params: { query: { workspaceId: options.workspace, limit: options.limit, cursor: options.cursor } },
        }),
      );
      print(session, page, ({ items, cursor }) =>
        [auditTable(items), nextPage(cursor)].filter((line) => line !== undefined).join("\n"),
      );
    });
}
