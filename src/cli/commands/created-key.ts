/** How `keys create` and `keys rotate` print a record answered with the key itself. */
import type { components } from "../../client/index.ts";
import { keyRecord, newKeyNotice } from "../format.ts";
import { print, type Session } from "../session.ts";

/** The record, then the key set apart, once; with `--json`, the answer as it came. */
export function printCreated(session: Session, created: components["schemas"]["CreatedKey"]): void {
  const { key, ...record } = created;
  print(session, created, () => `${keyRecord(record, new Date())}\n${newKeyNotice(key)}`);
}
