/**
 * Every D1 call goes through `d1`: a failing database denies (503 `unavailable`), it never
 * allows.
 */
import { failClosed } from "../fail-closed";

/** Runs one D1 operation, failing closed (also when the binding throws before it returns). */
export function d1<T>(operation: () => Promise<T>): Promise<T> {
  return failClosed(Promise.resolve().then(operation));
}

/**
 * Writes statements in one atomic D1 batch, as `commit`, but answers "conflict" when the batch
 * broke the unique index on `column` (`table.column`): nothing of it was written.
 */
export async function commitUnique(
  db: D1Database,
  statements: D1PreparedStatement[],
  column: string,
): Promise<D1Result[] | "conflict"> {
  try {
    return await db.batch(statements);
  } catch (error) {
    if (String(error).includes(`UNIQUE constraint failed: ${column}`)) return "conflict";
    return failClosed(Promise.reject(error));
  }
}

/** Writes statements in one atomic D1 batch. */
export function commit(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  return d1(() => db.batch(statements));
}
