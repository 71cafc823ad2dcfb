/**
 * `GET /policy`: the key types, plans, roles and permissions of the policy, read-only, for the
 * forms of admin tools (the console offers these values instead of free text). It shows no
 * secret and nothing but these parts of the policy, and needs `keys:read`.
 */
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/keys/event-types";
import { TEST_POLICY } from "../fixtures/policy";
import { admin, createKey, createWorkspace } from "./helpers";

describe("GET /policy", () => {
  it("lists the key types, the admin type, the plans, the policy roles and every permission named", async () => {
    const { status, json } = await admin("GET", "/policy");
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json.keyTypes).toEqual([
      {
        name: "server",
        prefix: "sk_test",
        defaultPermissions: ["products:read", "products:write"],
        allowedPermissions: null,
        plan: null,
        expiresInSeconds: null,
        ownerScoped: false,
      },
      {
        name: "browser",
        prefix: "pk_test",
        defaultPermissions: ["products:read"],
        allowedPermissions: ["products:read"],
        plan: null,
        expiresInSeconds: null,
        ownerScoped: false,
      },
      {
        name: "legacy",
        prefix: "lg",
        defaultPermissions: null,
        allowedPermissions: null,
        plan: null,
        expiresInSeconds: null,
        ownerScoped: false,
      },
    ]);
    expect(json.adminPermissions).toContain("keys:write");
    expect(json.adminPermissions).toContain("*");
    expect(json.plans.map((plan: { name: string }) => plan.name)).toEqual(Object.keys(TEST_POLICY.plans));
    expect(json.plans[0]).toEqual({
      name: "pro",
      limits: { hour: 1000 },
      quotaStatus: 429,
      permissions: ["reports:read"],
    });
    expect(json.defaultPlan).toBeNull();
    expect(json.roles).toEqual([
      { name: "viewer", permissions: ["products:read"] },
      { name: "editor", permissions: ["products:read", "products:write"] },
    ]);
    expect(json.permissions).toEqual(["dashboard:read", "products:read", "products:write", "reports:read"]);
    expect(json.eventTypes).toEqual([...EVENT_TYPES]);
    // Only these parts: no routes, no origin, no JWT settings, no webhooks.
    expect(Object.keys(json).sort()).toEqual([
      "adminPermissions",
      "defaultPlan",
      "eventTypes",
      "keyTypes",
      "permissions",
      "plans",
      "roles",
    ]);
  });

  it("needs keys:read: an admin key without it is 403, an API key 403, no credential 401", async () => {
    const workspaceId = await createWorkspace("policy-reader");
    const reader = await createKey(workspaceId, { type: "admin", permissions: ["keys:read"] });
    const other = await createKey(workspaceId, { type: "admin", permissions: ["roles:read"] });
    const apiKey = await createKey(workspaceId);
    expect((await admin("GET", "/policy", undefined, reader.key)).status).toBe(200);
    const refused = await admin("GET", "/policy", undefined, other.key);
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe("insufficient_permissions");
    expect((await admin("GET", "/policy", undefined, apiKey.key)).json.code).toBe("wrong_key_type");
    expect((await admin("GET", "/policy", undefined, "")).status).toBe(401);
  });
});
