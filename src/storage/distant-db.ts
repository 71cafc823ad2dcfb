/**
 * Benchmark only (`BENCH_D1_DELAY_MS`, never set in production): the D1 binding with `delayMs`
 * added before and after each query, to model a primary database far from the location (D1 is
 * one database, in one place). Follows the far object of key-client/client.ts.
 */

const QUERIES = new Set(["first", "all", "run", "raw"]);

export function distantDatabase(db: D1Database, delayMs: number): D1Database {
  const pause = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  const far =
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
        return QUERIES.has(String(property)) ? far(method) : method;
      },
    });
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "prepare") return (sql: string) => statement(target.prepare(sql));
      const method = value.bind(target);
      return property === "batch" || property === "exec" ? far(method) : method;
    },
  });
}
