/**
 * The decision for one key and one request, rows 5-13 of docs/decisions.md, as a pure function of the
 * key's state, its counters, the route's requirements and the clock. It runs inside the key's
 * Durable Object, next to the counters, so that one call both decides and counts.
 */
import { ipAllowed } from "../keys/ip-allowlist";
import { capPermissions, meet, type PermissionCheck, satisfies } from "../keys/permissions";
import { type KeyRecord, lifecycleCode } from "../keys/record";
import type { CreditState } from "../limits/credits";
import { type MeterCode, meter } from "../limits/meter";
import { effectiveLimits, type Window, type WindowStates, type WindowStatus } from "../limits/windows";
import type { KeyTypePolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import { ADMIN_KEY_TYPE, type Limits } from "../policy/schema";

/**
 * What a decision needs besides counters: the key's record and its context (docs/consistency.md#context),
 * as its workspace's context shard lends it (or, when the key's object fails, as D1 has it).
 */
export interface GateState {
  record: KeyRecord;
  /** The plan of the key's workspace. */
  workspacePlan: string | null;
  /** Permissions of each role the key holds, by role name. */
  rolePermissions: Record<string, string[]>;
  /** Names of the roles of the key's owner (docs/consistency.md#owners); absent = none. */
  ownerRoles?: string[];
  /** Permissions of each of the owner's roles, by role name; absent = none. */
  ownerRolePermissions?: Record<string, string[]>;
}

/** What the request asks of the key. */
export interface GateCheck extends PermissionCheck {
  /** Key types the route accepts; null = any type but `admin`. Only admin surfaces list `admin`. */
  keyTypes: readonly string[] | null;
  /** Client IP for the key's allowlist; null = unknown (denied by any allowlist). */
  ip: string | null;
  /** Only keys of this workspace exist for the caller (an admin key's verify); null = any. */
  workspaceId: string | null;
  /** Credits the request costs when allowed. */
  cost: number;
  /** Count the request; false for the self endpoint, which reads the counters and is never refused by them. */
  consume: boolean;
  /**
   * Id of the rotated key the request presented, when a successor is asked to count it: the
   * successor counts it on the limits both keys share, and the predecessor's usage records it.
   */
  presented?: string;
}

/** What a key's Durable Object counts: the state of each window, and the credit balance. */
export interface Counters {
  windows: WindowStates;
  credits: CreditState | null;
}

export type DenyCode =
  | "invalid_key"
  | "key_revoked"
  | "key_disabled"
  | "key_expired"
  | "ip_not_allowed"
  | "wrong_key_type"
  | "insufficient_permissions"
  | Exclude<MeterCode, "valid">;

/** Where the key stands on its limits and credits, after the request. */
export interface Usage {
  windows: WindowStatus[];
  credits: { remaining: number; refill: CreditState["refill"] } | null;
  /** Seconds a refused client should wait, when waiting helps. */
  retryAfter: number | null;
}

export interface KeyDecision {
  code: "valid" | DenyCode;
  /** Effective permissions: own, roles' and plan's, capped by the key type. */
  permissions: string[];
  /** The plan that applies, by the chain of docs/consistency.md; null = none. */
  plan: string | null;
  usage: Usage;
  /** Status of a `quota_exceeded` answer: the plan's `quotaStatus`. */
  quotaStatus: 409 | 429;
}

export interface Decided {
  decision: KeyDecision;
  /** The counters to keep; unchanged unless the request was counted. */
  counters: Counters;
}

/**
 * `key.plan ?? workspace.plan ?? keyType.plan ?? defaultPlan`; unknown names fall through.
 * Names are looked up as own entries only: a plan called `constructor` exists only if defined.
 */
export function resolvePlan(state: GateState, policy: KeyTypePolicy): string | null {
  return firstPlan([state.record.plan, state.workspacePlan, policy.typePlan, policy.defaultPlan], policy);
}

/** The first name of `chain` that is a plan of the policy. */
function firstPlan(chain: readonly (string | null | undefined)[], policy: KeyTypePolicy): string | null {
  return (
    chain.find(
      (name): name is string => typeof name === "string" && ownEntry(policy.plans, name) !== undefined,
    ) ?? null
  );
}

/**
 * The limits of the plan a new key of this type would have in a workspace on `workspacePlan`,
 * when it names no plan of its own: the plan chain of `resolvePlan` without the key's link.
 */
export function newKeyPlanLimits(workspacePlan: string | null, policy: KeyTypePolicy): Limits {
  const plan = firstPlan([workspacePlan, policy.typePlan, policy.defaultPlan], policy);
  return plan ? (ownEntry(policy.plans, plan)?.limits ?? {}) : {};
}

/** The limits that apply to the key now: its own, over its plan's. */
export function keyLimits(state: GateState, policy: KeyTypePolicy): [Window, number][] {
  const plan = resolvePlan(state, policy);
  return effectiveLimits(state.record.limits, plan ? ownEntry(policy.plans, plan)?.limits : undefined);
}

/**
 * Own, roles' and plan's permissions within the type's ceiling; for a key of an ownerScoped type,
 * its own and its roles' only where its owner's roles grant them too (docs/consistency.md#owners):
 * ((own ∪ roles') ⊓ owner roles') ∪ plan's. Never for an admin key, whose owner is a label.
 */
export function effectivePermissions(state: GateState, policy: KeyTypePolicy, plan: string | null): string[] {
  const fromRoles = state.record.roles.flatMap((role) => ownEntry(state.rolePermissions, role) ?? []);
  const fromPlan = plan ? (ownEntry(policy.plans, plan)?.permissions ?? []) : [];
  const held = [...state.record.permissions, ...fromRoles];
  const kept =
    policy.ownerScoped && state.record.type !== ADMIN_KEY_TYPE ? meet(held, ownerGrants(state)) : held;
  return capPermissions([...kept, ...fromPlan], policy.allowedPermissions);
}

/** What the key's owner's roles grant; nothing for a key without an owner or an owner without roles. */
function ownerGrants(state: GateState): string[] {
  if (state.record.ownerId === null) return [];
  const permissions = state.ownerRolePermissions ?? {};
  return (state.ownerRoles ?? []).flatMap((role) => ownEntry(permissions, role) ?? []);
}

function typeAccepted(type: string, accepted: readonly string[] | null): boolean {
  if (accepted === null) return type !== ADMIN_KEY_TYPE;
  return accepted.includes(type);
}

/** Where the key stands on its limits and credits now, without counting anything. */
export function currentUsage(
  state: GateState,
  counters: Counters,
  policy: KeyTypePolicy,
  now: number,
): { plan: string | null; usage: Usage } {
  const plan = resolvePlan(state, policy);
  const metered = meter({
    limits: effectiveLimits(state.record.limits, plan ? ownEntry(policy.plans, plan)?.limits : undefined),
    windows: counters.windows,
    credits: counters.credits,
    cost: 0,
    now,
    take: false,
  });
  return {
    plan,
    usage: {
      windows: metered.windows,
      credits: metered.credits
        ? { remaining: metered.credits.remaining, refill: metered.credits.refill }
        : null,
      retryAfter: null,
    },
  };
}

/** A decision made without the key's object: a deleted key's tombstone, the abuse limit. */
export function denial(code: DenyCode, retryAfter: number | null = null): KeyDecision {
  return {
    code,
    permissions: [],
    plan: null,
    quotaStatus: 429,
    usage: { windows: [], credits: null, retryAfter },
  };
}

export function decide(
  state: GateState,
  counters: Counters,
  check: GateCheck,
  policy: KeyTypePolicy,
  now: number,
): Decided {
  const plan = resolvePlan(state, policy);
  const planConfig = plan ? ownEntry(policy.plans, plan) : undefined;
  const permissions = effectivePermissions(state, policy, plan);
  const limits = effectiveLimits(state.record.limits, planConfig?.limits);
  const base = { limits, windows: counters.windows, credits: counters.credits, cost: check.cost, now };
  const result = (code: KeyDecision["code"], metered = meter({ ...base, take: false })): Decided => ({
    decision: {
      code,
      permissions,
      plan,
      quotaStatus: planConfig?.quotaStatus ?? 429,
      usage: {
        windows: metered.windows,
        credits: metered.credits
          ? { remaining: metered.credits.remaining, refill: metered.credits.refill }
          : null,
        retryAfter: metered.retryAfter,
      },
    },
    counters: { windows: metered.nextWindows, credits: metered.credits },
  });
  const { record } = state;

  const lifecycle = lifecycleCode(record, now);
  if (lifecycle) return result(lifecycle);
  if (record.ipAllowlist.length > 0 && (check.ip === null || !ipAllowed(check.ip, record.ipAllowlist))) {
    return result("ip_not_allowed");
  }
  if (!typeAccepted(record.type, check.keyTypes)) return result("wrong_key_type");
  if (!satisfies(permissions, check)) return result("insufficient_permissions");
  if (!check.consume) return result("valid");
  const metered = meter({ ...base, take: true });
  return result(metered.code, metered);
}
