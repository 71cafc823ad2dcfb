/**
 * The verify path's dependencies for one request, from the Worker's bindings. The set of known
 * key hashes and the abuse guard live for the isolate.
 */
import { distantGateDirectory, gateDirectory } from "../key-client/client";
import { leaseHolder } from "../key-client/lease-holder";
import type { Policy } from "../policy/schema";
import { sessionSecret } from "../sessions/verify-session";
import { distantDatabase } from "../storage/distant-db";
import { readKeyContext } from "../storage/key-context";
import { keyLookupCache } from "../storage/key-lookup-cache";
import { KeyStore, locateKey } from "../storage/keys";
import { AbuseGuard } from "./abuse";
import { KeyLocator, KnownKeys } from "./known-keys";
import { unconfirmed } from "./unconfirmed";
import type { KeyLookup, VerifyDeps } from "./verify-key";

/** What the verify path keeps for the life of an isolate. */
export interface IsolateMemory {
  known: KnownKeys;
  abuse: AbuseGuard;
}

const isolate: IsolateMemory = { known: new KnownKeys(), abuse: new AbuseGuard() };

/** This isolate's memory: the portal counts failed tokens in the same abuse guard as keys. */
export function isolateMemory(): IsolateMemory {
  return isolate;
}

/**
 * Key lookups read a D1 replica (a `first-unconstrained` session, one per lookup: no request
 * reads another's writes through it) and, for a hash it does not show, the primary: the plain
 * binding, which the Sessions API leaves at the primary (docs/consistency.md#the-cold-path).
 */
function keyLookup(db: D1Database, background: (work: Promise<unknown>) => void): KeyLookup {
  const keys = new KeyStore(db);
  const replica =
    typeof db.withSession === "function"
      ? (hash: string) => locateKey(db.withSession("first-unconstrained"), hash)
      : null;
  const locator = new KeyLocator(
    { replica, primary: (hash) => keys.locate(hash) },
    keyLookupCache(),
    background,
  );
  return {
    locate: (hash) => locator.locate(hash),
    forget: (hash) => locator.forget(hash),
    findByHash: (hash) => keys.findByHash(hash),
    contextOf: async (record) => {
      const { workspacePlan, rolePermissions, ownerCredits, ownerRoles, ownerRolePermissions } =
        await readKeyContext(db, record);
      return { workspacePlan, rolePermissions, ownerCredits, ownerRoles, ownerRolePermissions };
    },
  };
}

/**
 * `ctx` keeps the isolate's lease reports running after the response (its `waitUntil`);
 * `memory` is this isolate's unless a test gives another (an isolate that never saw a key).
 */
export function verifyDeps(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  memory: IsolateMemory = isolate,
): VerifyDeps {
  const background = (work: Promise<unknown>) => ctx.waitUntil(work);
  return {
    lookup: keyLookup(
      env.BENCH_D1_DELAY_MS || env.BENCH_D1_REPLICA_DELAY_MS
        ? distantDatabase(
            env.DB,
            Number(env.BENCH_D1_DELAY_MS ?? 0),
            Number(env.BENCH_D1_REPLICA_DELAY_MS ?? env.BENCH_D1_DELAY_MS ?? 0),
          )
        : env.DB,
      background,
    ),
    gates: env.BENCH_OBJECT_DELAY_MS
      ? distantGateDirectory(env.KEY_GATE, Number(env.BENCH_OBJECT_DELAY_MS))
      : gateDirectory(env.KEY_GATE),
    known: memory.known,
    abuse: memory.abuse,
    limiter: env.ABUSE_LIMITER,
    unconfirmed,
    leases: leaseHolder,
    background,
  };
}

/** The verify path's dependencies, and the HS256 secret of session JWTs. */
export interface AccessDeps extends VerifyDeps {
  sessionSecret: string | undefined;
}

/** The verify path's dependencies plus the session secret the policy names. */
export function accessDeps(env: Env, policy: Policy, ctx: Pick<ExecutionContext, "waitUntil">): AccessDeps {
  return { ...verifyDeps(env, ctx), sessionSecret: sessionSecret(env, policy) };
}
