/**
 * D1 failures surface as `StorageUnavailable`, which the error handler answers with 503
 * `unavailable`: a failing database denies, it never allows.
 */

export class StorageUnavailable extends Error {
  constructor(cause: unknown) {
    super(`storage unavailable: ${String(cause)}`, { cause });
    this.name = "StorageUnavailable";
  }
}

/** Runs one D1 operation, turning its failure into `StorageUnavailable`. */
export async function d1<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new StorageUnavailable(error);
  }
}

/** Writes statements in one atomic D1 batch. */
export function commit(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  return d1(() => db.batch(statements));
}
