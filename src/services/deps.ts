/**
 * The verify path's dependencies for one request, from the Worker's bindings. The set of known
 * key hashes and the abuse guard live for the isolate.
 */
import { distantGateDirectory, gateDirectory } from "../key-client/client";
import { leaseHolder } from "../key-client/lease-holder";
import type { Policy } from "../policy/schema";
import { sessionSecret } from "../sessions/verify-session";
import { readKeyContext } from "../storage/key-context";
import { KeyStore } from "../storage/keys";
import { AbuseGuard } from "./abuse";
import { KnownKeys } from "./known-keys";
import { unconfirmed } from "./unconfirmed";
import type { KeyLookup, VerifyDeps } from "./verify-key";

const known = new KnownKeys();
const abuse = new AbuseGuard();

function keyLookup(db: D1Database): KeyLookup {
  const keys = new KeyStore(db);
  return {
    findByHash: (hash) => keys.findByHash(hash),
    contextOf: async (record) => {
      const { workspacePlan, rolePermissions, ownerCredits } = await readKeyContext(db, record);
      return { workspacePlan, rolePermissions, ownerCredits };
    },
  };
}

/** `ctx` keeps the isolate's lease reports running after the response (its `waitUntil`). */
export function verifyDeps(env: Env, ctx: Pick<ExecutionContext, "waitUntil">): VerifyDeps {
  return {
    lookup: keyLookup(env.DB),
    gates: env.BENCH_OBJECT_DELAY_MS
      ? distantGateDirectory(env.KEY_GATE, Number(env.BENCH_OBJECT_DELAY_MS))
      : gateDirectory(env.KEY_GATE),
    known,
    abuse,
    limiter: env.ABUSE_LIMITER,
    unconfirmed,
    leases: leaseHolder,
    background: (work) => ctx.waitUntil(work),
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
