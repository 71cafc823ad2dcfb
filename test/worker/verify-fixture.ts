/**
 * What tests that call `verifyKey` directly share: the test policy compiled, the check of
 * `GET /api/products` as that policy routes it, and a fresh isolate's memory of known keys.
 */
import { compilePolicy } from "../../src/policy/compiled";
import { loadPolicy } from "../../src/policy/load";
import { AbuseGuard } from "../../src/services/abuse";
import type { IsolateMemory } from "../../src/services/deps";
import { KnownKeys } from "../../src/services/known-keys";
import { TEST_POLICY } from "../fixtures/policy";

const loaded = loadPolicy(TEST_POLICY);
if (!loaded.ok) throw new Error("the test policy is invalid");
export const compiled = compilePolicy(loaded.policy);

/** GET /api/products as the test policy routes it, from client address `ip`. */
export function productsCheck(ip: string) {
  return {
    keyTypes: null,
    permissions: ["products:read"],
    anyPermissions: [],
    ip,
    workspaceId: null,
    cost: 1,
    consume: true,
  };
}

/** The memory of an isolate that has seen no key. */
export function newIsolate(): IsolateMemory {
  return { known: new KnownKeys(), abuse: new AbuseGuard() };
}
