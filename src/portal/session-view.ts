/**
 * `GET /session` (docs/portal.md#session): all the page needs to draw itself, for a member with
 * no permission too.
 */
import { newKeyPlanLimits } from "../decision/decide";
import type { CompiledPolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import type { Portal } from "../policy/portal";
import type { PortalMember } from "../services/portal-session";

/** `ownerId`'s syntax: a member whose subject is not one owns no keys. */
const OWNER_ID = /^[A-Za-z0-9_.:@|-]{1,128}$/;

export function sessionView(compiled: CompiledPolicy, member: PortalMember) {
  const { policy } = compiled;
  const portal = policy.portal as Portal;
  const { workspace } = member;
  const held = new Set(member.permissions);
  const effectivePlan = [workspace.plan, policy.defaultPlan].find(
    (name): name is string => !!name && ownEntry(policy.plans, name) !== undefined,
  );
  const planAllows = !portal.createOnPlans || portal.createOnPlans.includes(effectivePlan ?? "");
  const keyTypes = Object.entries(portal.keyTypes).map(([type, shown]) => {
    const keyType = ownEntry(policy.keyTypes, type);
    const planLimits = newKeyPlanLimits(workspace.plan, compiled.gatePolicy(type));
    const ownedByMember = shown.ownedBy === "member";
    const mayCreate = held.has("keys:manage") || (ownedByMember && held.has("keys:own"));
    return {
      type,
      label: shown.label ?? type,
      ownedBy: shown.ownedBy,
      grantable: shown.grantable.map((permission) => ({
        permission,
        label: (shown.labels && ownEntry(shown.labels, permission)) ?? permission,
      })),
      defaultPermissions: (keyType?.defaultPermissions ?? []).filter((p) => shown.grantable.includes(p)),
      limits: (shown.limits ?? []).map((window) => {
        const max = planLimits[window];
        // 0 is a plan that admits no request in the window, not one without a limit.
        return { window, max: max ?? null };
      }),
      canCreate: mayCreate && planAllows && (!ownedByMember || OWNER_ID.test(member.subject)),
    };
  });
  return {
    workspace: { id: workspace.id, name: workspace.name, plan: workspace.plan },
    member: { subject: member.subject, name: member.name, roles: member.roles },
    permissions: member.permissions,
    keyTypes,
    limits: {
      maxKeysPerWorkspace: portal.maxKeysPerWorkspace,
      maxKeysPerMember: portal.maxKeysPerMember,
      maxLifetimeDays: portal.maxLifetimeDays ?? null,
    },
  };
}
