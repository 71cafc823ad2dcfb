/**
 * A validated policy prepared for the request path: key formats sorted for prefix matching,
 * routes compiled, and the per-key-type view the Durable Object decides with. Built once per
 * isolate and policy.
 */
import { compileFormats, type KeyFormat } from "../keys/format";
import { type CompiledRoute, compileRoutes } from "./routes";
import { ADMIN_KEY_PREFIX, ADMIN_KEY_TYPE, type Plan, type Policy } from "./schema";

/** The parts of the policy a key's decision needs, sent by the Worker with each object call. */
export interface KeyTypePolicy {
  /** `allowedPermissions` of the key's type (absent = no ceiling). */
  allowedPermissions?: string[];
  /** `plan` of the key's type. */
  typePlan?: string;
  plans: Record<string, Plan>;
  defaultPlan?: string;
  /** `leases.ms`: the longest lease of a key's decisions to an isolate; absent or 0 = none. */
  leaseMs?: number;
  /** `creditsLowThreshold`: the object raises `credits.low` at it, and no lease's budget reaches it. */
  creditsLowThreshold?: number;
  /** `ownerScoped` of the key's type: its own and its roles' permissions meet its owner's roles' (docs/consistency.md#owners). */
  ownerScoped?: boolean;
}

export interface CompiledPolicy {
  policy: Policy;
  /** Formats of every key type, the built-in admin type included, longest prefix first. */
  formats: KeyFormat[];
  routes: CompiledRoute[];
  /** The policy view for keys of a type. */
  gatePolicy(type: string): KeyTypePolicy;
}

export const ADMIN_FORMAT: KeyFormat = { type: ADMIN_KEY_TYPE, prefix: ADMIN_KEY_PREFIX, checksum: true };

export function compilePolicy(policy: Policy): CompiledPolicy {
  const formats = compileFormats([
    ADMIN_FORMAT,
    ...Object.entries(policy.keyTypes).map(([type, config]) => ({
      type,
      prefix: config.prefix,
      checksum: config.checksum,
    })),
  ]);
  const views = new Map<string, KeyTypePolicy>();
  for (const [type, config] of Object.entries(policy.keyTypes)) {
    views.set(type, {
      allowedPermissions: config.allowedPermissions,
      typePlan: config.plan,
      plans: policy.plans,
      defaultPlan: policy.defaultPlan,
      leaseMs: policy.leases.ms,
      creditsLowThreshold: policy.creditsLowThreshold,
      ownerScoped: config.ownerScoped,
    });
  }
  // Admin keys are governed by their admin permissions alone: no plan, no ceiling.
  const adminView: KeyTypePolicy = { plans: {}, leaseMs: policy.leases.ms };
  return {
    policy,
    formats,
    routes: compileRoutes(policy),
    gatePolicy: (type) => views.get(type) ?? adminView,
  };
}
