/**
 * The verify path's dependencies for one request, from the Worker's bindings. The set of known
 * key hashes lives for the isolate.
 */
import type { Env } from "../env";
import { gateDirectory } from "../gate/client";
import { KeyStore } from "../storage/keys";
import { KnownKeys } from "./known-keys";
import type { VerifyDeps } from "./verify-key";

const known = new KnownKeys();

export function verifyDeps(env: Env): VerifyDeps {
  return { lookup: new KeyStore(env.DB), gates: gateDirectory(env.KEY_GATE), known };
}
