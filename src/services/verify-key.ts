/**
 * verifyKey: from a credential string to the decision of its key's Durable Object.
 *
 *   malformed (prefix, shape, checksum) -> refused before any storage is touched
 *   hash seen by this isolate            -> one Durable Object call, no D1 read
 *   hash not seen                        -> one D1 read; unknown keys stop there and create no
 *                                           Durable Object, known ones go on to their object
 *
 * A failing dependency throws `unavailable`: nothing is ever allowed because storage failed.
 */

import type { GateDirectory } from "../gate/client";
import { type DenyCode, denial, type GateCheck, type KeyDecision } from "../gate/decide";
import { unavailable } from "../http/errors";
import { parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import type { KeyRecord } from "../keys/record";
import type { CompiledPolicy } from "../policy/compiled";
import type { StoredKey } from "../storage/keys";
import type { KnownKeys } from "./known-keys";

export interface KeyLookup {
  findByHash(hash: string): Promise<StoredKey | null>;
}

export interface VerifyDeps {
  lookup: KeyLookup;
  gates: GateDirectory;
  known: KnownKeys;
}

export type VerifyCode = "valid" | "malformed_key" | "invalid_key" | DenyCode;

export type KeyVerification =
  | { code: "malformed_key" | "invalid_key"; record: null; decision: null }
  | { code: "valid" | DenyCode; record: KeyRecord; decision: KeyDecision };

const NO_KEY = { record: null, decision: null } as const;

async function guarded<T>(dependency: Promise<T>): Promise<T> {
  try {
    return await dependency;
  } catch (error) {
    console.error(JSON.stringify({ event: "dependency_failed", error: String(error) }));
    throw unavailable();
  }
}

export async function verifyKey(
  deps: VerifyDeps,
  compiled: CompiledPolicy,
  credential: string,
  check: GateCheck,
): Promise<KeyVerification> {
  const format = parseKey(credential, compiled.formats);
  if (!format) return { code: "malformed_key", ...NO_KEY };
  const hash = await sha256Hex(credential);
  if (!deps.known.has(hash)) {
    const stored = await guarded(deps.lookup.findByHash(hash));
    if (!stored) return { code: "invalid_key", ...NO_KEY };
    if (stored.deleted) {
      return { code: "key_revoked", record: stored.record, decision: denial("key_revoked") };
    }
    deps.known.add(hash);
  }
  const outcome = await guarded(deps.gates.forHash(hash).authorize(check, compiled.gatePolicy(format.type)));
  if (!outcome) {
    // D1 knows the key but its object holds nothing: never allow on an inconsistency.
    deps.known.delete(hash);
    throw unavailable("The key's state could not be read; the request was denied.");
  }
  return { code: outcome.decision.code, record: outcome.record, decision: outcome.decision };
}
