/**
 * Fault injection for tests: D1 bindings and Durable Object namespaces that fail on purpose,
 * in the Worker (passed to `direct`) or inside a key's object (its `db`).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { KeyGate } from "../../src/key-object/key-gate";

export const D1_DOWN = "D1_ERROR: network connection lost";
export const OBJECT_DOWN = "Durable Object is overloaded.";

/** A D1 binding whose batches (writes) fail and, with `reads`, whose queries fail too. */
export function failingDb(options: { reads?: boolean } = {}): D1Database {
  const fail = () => Promise.reject(new Error(D1_DOWN));
  const statement = (real: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(real, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        if (options.reads && ["first", "all", "run", "raw"].includes(String(property))) return fail;
        return Reflect.get(target, property).bind(target);
      },
    });
  return {
    prepare: (sql: string) => statement(env.DB.prepare(sql)),
    batch: fail,
    exec: fail,
  } as unknown as D1Database;
}

/** A namespace whose objects fail every call. */
export function failingObjects(message = OBJECT_DOWN): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => env.KEY_GATE.idFromName(name),
    get: () => new Proxy({}, { get: () => () => Promise.reject(new Error(message)) }),
  } as unknown as typeof env.KEY_GATE;
}

/**
 * A namespace whose objects fail `method` either before running it (`before`: nothing happens)
 * or after it ran (`after`: the change is made but its answer is lost), and pass other calls.
 */
export function objectsFailing(method: string, when: "before" | "after"): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => env.KEY_GATE.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.KEY_GATE.get(id);
      return new Proxy(stub, {
        get(target, property) {
          const real = Reflect.get(target, property);
          if (property !== method) return real;
          return async (...args: unknown[]) => {
            if (when === "after") await (real as (...a: unknown[]) => Promise<unknown>)(...args);
            throw new Error(OBJECT_DOWN);
          };
        },
      });
    },
  } as unknown as typeof env.KEY_GATE;
}

const redirected: KeyGate[] = [];

/** Gives the key object `stub` another D1 binding until `restoreObjectDbs`. */
export async function setObjectDb(stub: DurableObjectStub<KeyGate>, db: D1Database): Promise<void> {
  await runInDurableObject(stub, (instance: KeyGate) => {
    instance.db = db;
    redirected.push(instance);
  });
}

/** A namespace whose objects see `db` as their D1 (set before each call), e.g. to fail new keys' writes. */
export function objectsWithDb(db: D1Database): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => env.KEY_GATE.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.KEY_GATE.get(id);
      return new Proxy(stub, {
        get(target, property) {
          const real = Reflect.get(target, property);
          if (typeof real !== "function") return real;
          return async (...args: unknown[]) => {
            await setObjectDb(target, db);
            return (real as (...a: unknown[]) => Promise<unknown>)(...args);
          };
        },
      });
    },
  } as unknown as typeof env.KEY_GATE;
}

/** Gives every object changed by `setObjectDb` its real D1 back. */
export function restoreObjectDbs(): void {
  for (const instance of redirected.splice(0)) instance.db = env.DB;
}
