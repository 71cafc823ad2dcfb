/**
 * Who is calling the portal (docs/portal.md): the member its token's claims name, the workspace
 * whose `externalId` is the token's organisation (made on first use with `createWorkspaces`,
 * once however many first calls race), and the portal permissions its roles give.
 */
import type { JWTPayload } from "jose";
import { newId } from "../keys/random";
import { ownEntry } from "../policy/own-entry";
import { PORTAL_PERMISSIONS, type Portal, type PortalPermission } from "../policy/portal";
import type { Policy } from "../policy/schema";
import { Refusal } from "../refusals";
import { MAX_CLAIM_LENGTH, readClaim, rolesClaim, stringClaim } from "../sessions/claims";
import { AuditStore } from "../storage/audit";
import { d1 } from "../storage/guard";
import type { OwnerStore } from "../storage/owners";
import { type Workspace, WorkspaceStore } from "../storage/workspaces";
import type { AdminContext } from "./admin-context";
import type { OwnersService } from "./owners";

/** A portal member, as every portal route sees it. */
export interface PortalMember {
  workspace: Workspace;
  subject: string;
  name: string | null;
  roles: string[];
  /** Portal permissions held, `keys:manage` implying `keys:read`; in the table's order. */
  permissions: PortalPermission[];
  /** The token's `iat`, epoch seconds, or null. */
  issuedAt: number | null;
}

/** The provider's ids of organisations, as `externalId` takes them. */
const EXTERNAL_ID = /^[A-Za-z0-9_.:@|-]{1,128}$/;
/** Control characters: a display name holds none. */
const CONTROL = /\p{Cc}/u;
/** Longest display name kept. */
const MAX_NAME_LENGTH = 200;

/** The token's claims as a portal member, or null when a claim is missing or malformed (`invalid_token`). */
export function memberClaims(
  payload: JWTPayload,
  portal: Portal,
): { subject: string; organisation: string; roles: string[]; name: string | null } | null {
  const claims = payload as Record<string, unknown>;
  const subject = stringClaim(claims, portal.subjectClaim);
  const organisation = stringClaim(claims, portal.workspaceClaim);
  const roles = rolesClaim(claims, portal.rolesClaim);
  if (subject === null || organisation === null || roles === null) return null;
  let name: string | null = null;
  if (portal.nameClaim !== undefined) {
    const value = readClaim(claims, portal.nameClaim);
    if (value !== undefined) {
      if (typeof value !== "string" || value.length > MAX_CLAIM_LENGTH) return null;
      name = value.isWellFormed() && !CONTROL.test(value) ? value.slice(0, MAX_NAME_LENGTH) : null;
    }
  }
  return { subject, organisation, roles, name };
}

/** The portal permissions of a member with these roles (unknown roles grant nothing). */
export function portalPermissions(portal: Portal, roles: readonly string[]): PortalPermission[] {
  const held = new Set<PortalPermission>(portal.everyMember);
  for (const role of roles) for (const permission of ownEntry(portal.roles, role) ?? []) held.add(permission);
  if (held.has("keys:manage")) held.add("keys:read");
  return PORTAL_PERMISSIONS.filter((permission) => held.has(permission));
}

/** `ownerId`'s syntax: a subject that is not one has no owner, so no owner roles. */
const OWNER_ID = /^[A-Za-z0-9_.:@|-]{1,128}$/;

/**
 * The member's roles with `syncOwnerRoles` (docs/portal.md#permissions): its owner roles. A
 * token issued after the owner roles' `rolesAsOf` first sets them to its claim's values that
 * name a role (audited as the member); an older token, or one without `iat`, uses them as
 * they are, so that a provider's demotion is never undone by a token issued before it.
 */
export async function syncedRoles(
  owners: Pick<OwnersService, "setRoles">,
  store: Pick<OwnerStore, "find">,
  context: AdminContext,
  claimRoles: readonly string[],
  issuedAt: number | null,
): Promise<string[]> {
  const workspaceId = context.workspaceId as string;
  const subject = context.actor.type === "portal" ? context.actor.id : "";
  if (!OWNER_ID.test(subject)) return [];
  const stored = await store.find(workspaceId, subject);
  // A token dated ahead of its arrival counts as issued on arrival: else its date would outrank
  // every change the provider makes until then (an admin change is dated now + 30 s).
  const asOf = issuedAt === null ? null : Math.min(issuedAt * 1000, Date.now());
  if (asOf === null || (stored?.rolesAsOf != null && asOf <= stored.rolesAsOf)) return stored?.roles ?? [];
  await owners.setRoles(context, subject, claimRoles, { asOf });
  return (await store.find(workspaceId, subject))?.roles ?? [];
}

/** The change context of a member's portal call: an admin change with the `portal` actor. */
export function portalContext(member: PortalMember, requestId: string): AdminContext {
  return {
    actor: { type: "portal", id: member.subject, ...(member.name !== null && { name: member.name }) },
    workspaceId: member.workspace.id,
    // A member holds no admin permission: the key objects refuse it every admin key.
    permissions: [],
    requestId,
  };
}

/**
 * The workspace of `organisation`: found by `externalId`, or, with `createWorkspaces`, created
 * with its audit entry in one batch that the unique index lets in once; every racing first
 * call then reads the one that went in.
 */
export async function memberWorkspace(
  db: D1Database,
  policy: Policy,
  portal: Portal,
  claims: { organisation: string; subject: string },
  requestId: string,
): Promise<Workspace> {
  const store = new WorkspaceStore(db);
  const found = EXTERNAL_ID.test(claims.organisation)
    ? await store.findByExternalId(claims.organisation)
    : null;
  if (found) return found;
  if (!portal.createWorkspaces || !EXTERNAL_ID.test(claims.organisation)) {
    throw new Refusal("workspace_unknown", "The token's organisation has no workspace here.");
  }
  const now = Date.now();
  const plan = portal.newWorkspacePlan;
  const workspace: Workspace = {
    id: newId("ws"),
    name: claims.organisation,
    plan: plan !== undefined && ownEntry(policy.plans, plan) !== undefined ? plan : null,
    externalId: claims.organisation,
    createdAt: now,
    updatedAt: now,
  };
  await d1(() =>
    db.batch([
      store.insertUnlessClaimed(workspace),
      new AuditStore(db).insertIfWorkspace(
        {
          id: newId("aud"),
          at: now,
          workspaceId: workspace.id,
          actor: { type: "portal", id: claims.subject },
          action: "workspace.create",
          targetId: workspace.id,
          requestId,
          before: null,
          after: workspace,
        },
        workspace.id,
      ),
    ]),
  );
  const created = await store.findByExternalId(claims.organisation);
  if (!created) throw new Refusal("workspace_unknown", "The token's organisation has no workspace here.");
  return created;
}
