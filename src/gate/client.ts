/**
 * How the Worker reaches a key's Durable Object: the object for a key hash, seen through the
 * `KeyGateApi` interface. The verify path and the admin services depend on this interface, not
 * on the namespace binding.
 */
import type { DayCounts } from "../storage/usage";
import type { Counters, GateCheck, GatePolicy, GateState } from "./decide";
import type { KeyGate } from "./key-gate";
import type {
  AuthorizeOutcome,
  ChangeContext,
  ContextChange,
  CreditChange,
  HandOver,
  Inspection,
  KeyPatch,
  WriteOutcome,
} from "./types";

/** The RPC methods of `KeyGate`, which implements this interface. */
export interface KeyGateApi {
  authorize(check: GateCheck, policy: GatePolicy): Promise<AuthorizeOutcome>;
  inspect(policy: GatePolicy): Promise<Inspection | null>;
  recentActivity(): Promise<Record<string, DayCounts>>;
  create(
    initial: GateState,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited?: Counters | null,
  ): Promise<WriteOutcome>;
  handOver(): Promise<HandOver | null>;
  retire(successor: string, expiresAt: number, context: ChangeContext): Promise<WriteOutcome>;
  update(
    patch: KeyPatch,
    rolePermissions: Record<string, string[]> | null,
    context: ChangeContext,
  ): Promise<WriteOutcome>;
  updateContext(change: ContextChange): Promise<void>;
  changeCredits(change: CreditChange, context: ChangeContext): Promise<WriteOutcome>;
  revoke(context: ChangeContext): Promise<WriteOutcome>;
  remove(context: ChangeContext): Promise<WriteOutcome>;
}

export interface GateDirectory {
  /** The Durable Object of the key with this SHA-256 hex. */
  forHash(hash: string): KeyGateApi;
}

/** The object of the key with this hash. */
export function gateOf(env: { KEY_GATE: DurableObjectNamespace<KeyGate> }, hash: string): KeyGateApi {
  // The generated stub types turn each union result into a union of promises; `KeyGate`
  // implements `KeyGateApi`, so the interface states the stub's real signatures.
  return env.KEY_GATE.get(env.KEY_GATE.idFromName(hash)) as unknown as KeyGateApi;
}

export function gateDirectory(namespace: DurableObjectNamespace<KeyGate>): GateDirectory {
  return { forHash: (hash) => gateOf({ KEY_GATE: namespace }, hash) };
}
