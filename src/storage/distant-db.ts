/**
 * Benchmark only (`BENCH_D1_DELAY_MS`, `BENCH_D1_REPLICA_DELAY_MS`, never set in production): the
 * D1 binding with a delay added before and after each query, to model a primary database far from
 * the location (D1's primary is in one place): `delayMs` for the plain binding, which reads the
 * primary, and `replicaDelayMs` for its sessions, which may read a replica in the location's
 * region (docs/consistency.md#the-cold-path). Follows the far object of key-client/client.ts.
 */

const QUERIES = new Set(["first", "all", "run", "raw"]);

type Prepares = Pick<D1Database, "prepare" | "batch">;

/** `target` with `delayMs` around each of its queries (statements' and batches). */
function far<T extends Prepares>(target: T, delayMs: number, queries: Set<string>): T {
  const pause = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  const delayed =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await pause();
      const result = await call(...args);
      await pause();
      return result;
    };
  const statement = (real: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(real, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        const method = value.bind(target);
        return QUERIES.has(String(property)) ? delayed(method) : method;
      },
    });
  return new Proxy(target, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "prepare") return (sql: string) => statement(target.prepare(sql));
      const method = value.bind(target);
      return queries.has(String(property)) ? delayed(method) : method;
    },
  });
}

export function distantDatabase(db: D1Database, delayMs: number, replicaDelayMs = delayMs): D1Database {
  const primary = far(db, delayMs, new Set(["batch", "exec"]));
  return new Proxy(primary, {
    get(target, property) {
      if (property !== "withSession") return Reflect.get(target, property);
      return (constraint?: string) => far(db.withSession(constraint), replicaDelayMs, new Set(["batch"]));
    },
  });
}
