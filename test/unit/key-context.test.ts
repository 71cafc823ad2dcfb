/**
 * composeKeyContext (docs/consistency.md#owners): the one pure function every way a key's context is built goes
 * through, so that the owner's roles reach a key the same way whoever builds its context.
 */
import { describe, expect, it } from "vitest";
import { composeKeyContext } from "../../src/storage/key-context";
import type { Owner } from "../../src/storage/owners";
import type { Role } from "../../src/storage/roles";

const POLICY_ROLES = { viewer: { permissions: ["tx:read"] }, editor: { permissions: ["tx:*"] } };

function owner(fields: Partial<Owner> = {}): Owner {
  return {
    workspaceId: "ws_1",
    ownerId: "auth0|alice",
    limits: {},
    credits: null,
    roles: [],
    rolesAsOf: null,
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

function role(name: string, permissions: string[]): Role {
  return { workspaceId: "ws_1", name, permissions, createdAt: 0, updatedAt: 0 };
}

const member = { workspaceId: "ws_1", roles: [], ownerId: "auth0|alice", type: "member" };

describe("composeKeyContext", () => {
  it("resolves the owner's roles as the key's: the workspace's definition over the policy's", () => {
    const context = composeKeyContext(
      {
        workspace: { plan: "pro" },
        roles: [role("editor", ["tx:read"]), role("staff", ["tx:write"])],
        owner: owner({ roles: ["editor", "staff", "ghost", "constructor"], limits: { minute: 5 } }),
      },
      { ...member, roles: ["viewer"] },
      POLICY_ROLES,
    );
    expect(context).toEqual({
      workspacePlan: "pro",
      rolePermissions: { viewer: ["tx:read"] },
      ownerMetered: true,
      ownerCredits: false,
      ownerRoles: ["editor", "staff", "ghost", "constructor"],
      ownerRolePermissions: { editor: ["tx:read"], staff: ["tx:write"] },
    });
  });

  it("gives an owner never set, or without roles, no role", () => {
    for (const found of [null, owner()]) {
      const context = composeKeyContext({ workspace: null, roles: [], owner: found }, member, POLICY_ROLES);
      expect(context).toMatchObject({ ownerRoles: [], ownerRolePermissions: {}, ownerMetered: false });
    }
  });

  it("never lets an owner apply to an admin key, nor to a key without one", () => {
    const roles = owner({ roles: ["editor"], credits: { remaining: 5, refill: null } });
    for (const record of [
      { ...member, type: "admin" },
      { ...member, ownerId: null },
    ]) {
      expect(
        composeKeyContext({ workspace: null, roles: [], owner: roles }, record, POLICY_ROLES),
      ).toMatchObject({
        ownerRoles: [],
        ownerRolePermissions: {},
        ownerMetered: false,
        ownerCredits: false,
      });
    }
  });
});
