/**
 * How the Worker reaches a key's Durable Object, seen through the `KeyGateApi` interface. Objects
 * are addressed by the key's id, so that the admin API reaches a key without reading D1 (a revoke
 * works while D1 is down); the verify path maps a key's hash to its id once per isolate.
 */

import type { Counters, GateCheck, GateState } from "../decision/decide";
import type { KeyTypePolicy } from "../policy/compiled";
import type { DayCounts } from "../storage/usage";
import type {
  AdminScope,
  AuthorizeOutcome,
  ChangeContext,
  CreateCap,
  CreditChange,
  HandOff,
  KeyPatch,
  KeySnapshot,
  LeaseAsk,
  LeaseReport,
  RotationSuccessor,
  WriteOutcome,
} from "./contract";

/** The RPC methods of `KeyGate`, which implements this interface. */
export interface KeyGateApi {
  /**
   * Null when this object holds no key yet: the caller may ask it to `adopt` the key. With
   * `ask`, settles the isolate's lease and may grant a new one (docs/consistency.md#leases).
   */
  authorize(check: GateCheck, policy: KeyTypePolicy, ask?: LeaseAsk | null): Promise<AuthorizeOutcome>;
  /** Settles an isolate's lease without a decision: it ended, or the isolate changes the key. */
  release(holder: string, report: LeaseReport, policy: KeyTypePolicy): Promise<void>;
  /** Takes the key over from D1 and, for a key created before objects were addressed by id, from its old object. */
  adopt(keyId: string, hash: string): Promise<boolean>;
  /**
   * Null when the caller may not see the key (or it was deleted); "absent" as in `WriteOutcome`.
   * With `context`, its plan and roles' permissions as a request now would be decided under.
   */
  snapshot(scope: AdminScope, context?: boolean): Promise<KeySnapshot | "absent" | null>;
  /** The key's usage by UTC day or hour from `from` to `to` (inclusive labels); null when not visible. */
  usageOf(
    scope: AdminScope,
    kind: "day" | "hour",
    from: string,
    to: string,
  ): Promise<Record<string, DayCounts> | null>;
  /** Imports the key's usage an earlier revision kept in D1, and feeds it to its workspace's shard. */
  importUsage(keyId: string): Promise<void>;
  /** Creates the key: its record (its context is lent by its workspace's context shard). */
  create(
    initial: Pick<GateState, "record">,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited?: Counters | null,
    cap?: CreateCap | null,
  ): Promise<WriteOutcome>;
  /** Creates the successor (shown once by the caller) and retires this key after `graceMs`. */
  rotate(
    scope: AdminScope,
    successor: RotationSuccessor,
    graceMs: number,
    context: ChangeContext,
  ): Promise<WriteOutcome>;
  update(scope: AdminScope, patch: KeyPatch, context: ChangeContext): Promise<WriteOutcome>;
  changeCredits(scope: AdminScope, change: CreditChange, context: ChangeContext): Promise<WriteOutcome>;
  revoke(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome>;
  /** A rotated key whose successor (this id) was revoked or deleted: revoked if still in its grace. */
  endGrace(successor: string, context: ChangeContext): Promise<WriteOutcome>;
  remove(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome>;
  /** Called on an object addressed by hash (before the upgrade): gives its key away, once. */
  handOff(): Promise<HandOff | null>;
}

export interface GateDirectory {
  /** The Durable Object of the key with this id. */
  forKey(id: string): KeyGateApi;
}

/** The `KEY_GATE` binding, typed from wrangler.toml by `wrangler types`. */
type GateNamespace = Env["KEY_GATE"];

/** The object named `name`: a key id, or a key hash for objects made before the upgrade. */
export function gateOf(env: { KEY_GATE: GateNamespace }, name: string): KeyGateApi {
  // The generated stub types turn each union result into a union of promises; the object
  // implements `KeyGateApi`, so the interface states the stub's real signatures.
  return env.KEY_GATE.get(env.KEY_GATE.idFromName(name)) as unknown as KeyGateApi;
}

export function gateDirectory(namespace: GateNamespace): GateDirectory {
  return { forKey: (id) => gateOf({ KEY_GATE: namespace }, id) };
}

/**
 * The directory with `delayMs` added before and after each call of a key's object: the
 * benchmark's model of an object that lives in another location (env `BENCH_OBJECT_DELAY_MS`).
 */
export function distantGateDirectory(namespace: GateNamespace, delayMs: number): GateDirectory {
  const pause = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  return {
    forKey: (id) => {
      const gate = gateOf({ KEY_GATE: namespace }, id);
      return new Proxy(gate, {
        get(target, property) {
          const method = Reflect.get(target, property);
          if (typeof property !== "string" || typeof method !== "function") return method;
          return async (...args: unknown[]) => {
            await pause();
            const result = await Reflect.apply(method, target, args);
            await pause();
            return result;
          };
        },
      });
    },
  };
}
