/**
 * How the Worker reaches a key's Durable Object: the object for a key hash, seen through the
 * `KeyGateApi` interface. The verify path and the admin services depend on this interface, not
 * on the namespace binding.
 */
import type { DayCounts } from "../storage/usage";
import type { GateCheck, GatePolicy, GateState } from "./decide";
import type { KeyGate } from "./key-gate";
import type {
  AuthorizeOutcome,
  ChangeContext,
  ContextChange,
  CreditChange,
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
  ): Promise<WriteOutcome>;
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

export function gateDirectory(namespace: DurableObjectNamespace<KeyGate>): GateDirectory {
  return {
    // The generated stub types turn each union result into a union of promises; `KeyGate`
    // implements `KeyGateApi`, so the interface states the stub's real signatures.
    forHash: (hash) => namespace.get(namespace.idFromName(hash)) as unknown as KeyGateApi,
  };
}
