/**
 * The decision for one key and one request, rows 5-10 of SPEC 4.1, as a pure function of the
 * key's state, the route's requirements and the clock. It runs inside the key's Durable Object,
 * next to the counters, so that one call both decides and counts.
 */
import { ipAllowed } from "../keys/ip-allowlist";
import { capPermissions, type PermissionCheck, satisfies } from "../keys/permissions";
import { type KeyRecord, lifecycleCode } from "../keys/record";
import { ADMIN_KEY_TYPE, type Plan } from "../policy/schema";

/** What the Durable Object keeps per key besides counters. */
export interface GateState {
  record: KeyRecord;
  /** The plan of the key's workspace, kept here so that the plan chain needs no D1 read. */
  workspacePlan: string | null;
  /** Permissions of each role the key holds, by role name. */
  rolePermissions: Record<string, string[]>;
  /** When `rolePermissions` was last read from D1 or pushed by a role edit, epoch ms. */
  rolesCheckedAt: number;
}

/** The parts of the policy a decision needs, sent by the Worker with each call. */
export interface GatePolicy {
  /** `allowedPermissions` of the key's type (absent = no ceiling). */
  allowedPermissions?: string[];
  /** `plan` of the key's type. */
  typePlan?: string;
  plans: Record<string, Plan>;
  defaultPlan?: string;
}

/** What the request asks of the key. */
export interface GateCheck extends PermissionCheck {
  /** Key types the route accepts; null = any type but `admin`. Only admin surfaces list `admin`. */
  keyTypes: readonly string[] | null;
  /** Client IP for the key's allowlist; null = unknown (denied by any allowlist). */
  ip: string | null;
  /** Only keys of this workspace exist for the caller (an admin key's verify); null = any. */
  workspaceId: string | null;
}

export type DenyCode =
  | "invalid_key"
  | "key_revoked"
  | "key_disabled"
  | "key_expired"
  | "ip_not_allowed"
  | "wrong_key_type"
  | "insufficient_permissions";

export interface KeyDecision {
  code: "valid" | DenyCode;
  /** Effective permissions: own, roles' and plan's, capped by the key type. */
  permissions: string[];
  /** The plan that applies, by the chain of SPEC 4.2; null = none. */
  plan: string | null;
}

/** `key.plan ?? workspace.plan ?? keyType.plan ?? defaultPlan`; unknown names fall through. */
export function resolvePlan(state: GateState, policy: GatePolicy): string | null {
  const chain = [state.record.plan, state.workspacePlan, policy.typePlan, policy.defaultPlan];
  return chain.find((name): name is string => typeof name === "string" && name in policy.plans) ?? null;
}

export function effectivePermissions(state: GateState, policy: GatePolicy, plan: string | null): string[] {
  const fromRoles = state.record.roles.flatMap((role) => state.rolePermissions[role] ?? []);
  const fromPlan = plan ? (policy.plans[plan]?.permissions ?? []) : [];
  return capPermissions([...state.record.permissions, ...fromRoles, ...fromPlan], policy.allowedPermissions);
}

function typeAccepted(type: string, accepted: readonly string[] | null): boolean {
  if (accepted === null) return type !== ADMIN_KEY_TYPE;
  return accepted.includes(type);
}

export function decide(state: GateState, check: GateCheck, policy: GatePolicy, now: number): KeyDecision {
  const plan = resolvePlan(state, policy);
  const permissions = effectivePermissions(state, policy, plan);
  const deny = (code: DenyCode): KeyDecision => ({ code, permissions, plan });
  const { record } = state;

  if (check.workspaceId !== null && record.workspaceId !== check.workspaceId) return deny("invalid_key");
  const lifecycle = lifecycleCode(record, now);
  if (lifecycle) return deny(lifecycle);
  if (record.ipAllowlist.length > 0 && (check.ip === null || !ipAllowed(check.ip, record.ipAllowlist))) {
    return deny("ip_not_allowed");
  }
  if (!typeAccepted(record.type, check.keyTypes)) return deny("wrong_key_type");
  if (!satisfies(permissions, check)) return deny("insufficient_permissions");
  return { code: "valid", permissions, plan };
}
