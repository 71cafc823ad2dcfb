/**
 * Attack class: escalation through the portal (docs/portal.md). A member gets no more than its
 * portal permissions allow, grants no permission beyond `grantable` (or the type's ceiling),
 * sets no limit beyond its plan, cannot touch provider-made keys beyond revoking them, cannot
 * enable a key the provider disabled, and cannot outlive `maxLifetimeDays` by rotation.
 */
import { describe, expect, it } from "vitest";
import type { KeyGateApi } from "../../src/key-client/client";
import { admin, createKey, expectProblem, type Json, keyObject } from "../worker/helpers";
import {
  apiCall,
  member,
  memberToken,
  organisation,
  PORTAL_POLICY,
  portal,
  portalEnv,
  portalFetch,
  portalKey,
  setOwnerRoles,
} from "./portal-support";

describe("portal: escalation", () => {
  it("keeps keys:own from creating workspace keys, seeing them or changing them", async () => {
    const { org } = await organisation();
    const own = await member(org, "member", "mia");
    await expectProblem(
      await portalFetch("POST", "/keys", { token: own, body: { type: "server", name: "x" } }),
      403,
      "insufficient_permissions",
    );
    const viewer = await member(org, "viewer", "vic");
    await expectProblem(
      await portalFetch("POST", "/keys", { token: viewer, body: { type: "member", name: "x" } }),
      403,
      "insufficient_permissions",
    );
    const shared = await portalKey(await member(org, "owner"), { type: "server", name: "shared" });
    await expectProblem(
      await portalFetch("POST", `/keys/${shared.id}/revoke`, { token: viewer }),
      403,
      "insufficient_permissions",
    );
    const none = await member(org, "stranger", "sam");
    await expectProblem(await portalFetch("GET", "/keys", { token: none }), 403, "insufficient_permissions");
    await expectProblem(await portalFetch("GET", "/usage", { token: none }), 403, "insufficient_permissions");
  });

  it("grants only grantable permissions within the type's ceiling", async () => {
    const { org } = await organisation();
    const token = await member(org, "owner");
    for (const permissions of [["products:*"], ["*"], ["reports:read"], ["products:read", "admin:write"]]) {
      const problem = await expectProblem(
        await portalFetch("POST", "/keys", { token, body: { type: "server", name: "x", permissions } }),
        400,
        "permission_not_allowed",
      );
      expect(problem.errors?.[0]?.field).toBe("permissions");
    }
    const ceiling = portalEnv({
      keyTypes: { browser: { ownedBy: "workspace", grantable: ["products:read", "products:write"] } },
    });
    await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        env: ceiling,
        body: { type: "browser", name: "x", permissions: ["products:write"] },
      }),
      400,
      "permission_not_allowed",
    );
    await expectProblem(
      await portalFetch("POST", "/keys", { token, body: { type: "server", name: "x", permissions: [] } }),
      400,
      "bad_request",
    );
  });

  it("refuses fields a member may not set: roles, meta, plan, ipAllowlist, ownerId, credits", async () => {
    const { org } = await organisation();
    const token = await member(org, "owner");
    for (const extra of [
      { roles: ["editor"] },
      { meta: { tier: "gold" } },
      { plan: "pro" },
      { ipAllowlist: ["0.0.0.0/0"] },
      { ownerId: "someone-else" },
      { credits: { remaining: 1000000 } },
    ]) {
      await expectProblem(
        await portalFetch("POST", "/keys", { token, body: { type: "server", name: "x", ...extra } }),
        400,
        "bad_request",
      );
    }
  });

  it("holds a member's limits to the plan of the key's type when the workspace has none", async () => {
    // The type's own plan is the next link of the plan chain: `GET /session` shows its maxima,
    // and a create beyond them is refused (it used to be checked against the default plan only).
    const typed = portalEnv(
      {},
      {
        keyTypes: {
          ...PORTAL_POLICY.keyTypes,
          server: { ...PORTAL_POLICY.keyTypes.server, plan: "metered" },
        },
      },
    );
    const { org } = await organisation();
    const token = await member(org, "owner");
    const session = await portal("GET", "/session", { token, env: typed });
    const server = session.json.keyTypes.find((type: Json) => type.type === "server");
    expect(server.limits).toEqual([
      { window: "minute", max: 10 },
      { window: "day", max: 20 },
    ]);
    await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        env: typed,
        body: { type: "server", name: "x", limits: { minute: 11 } },
      }),
      400,
      "bad_request",
    );
    const ok = await portal("POST", "/keys", {
      token,
      env: typed,
      body: { type: "server", name: "x", limits: { minute: 10 } },
    });
    expect(ok.status).toBe(201);
  });

  it("sets only the type's listed windows, each at most the plan's value", async () => {
    const { org } = await organisation("metered");
    const token = await member(org, "owner");
    await expectProblem(
      await portalFetch("POST", "/keys", { token, body: { type: "server", name: "x", limits: { hour: 5 } } }),
      400,
      "bad_request",
    );
    await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        body: { type: "server", name: "x", limits: { minute: 11 } },
      }),
      400,
      "bad_request",
    );
    const ok = await portalKey(token, { type: "server", name: "x", limits: { minute: 10, day: 5 } });
    const { json } = await admin("GET", `/keys/${ok.id}`);
    expect(json.limits).toEqual({ minute: 10, day: 5 });
  });

  it("leaves provider-made keys read-only except for revoke", async () => {
    const ws = await organisation();
    const made = await createKey(ws.id, { type: "server", name: "by-root" });
    const token = await member(ws.org, "owner");
    await expectProblem(
      await portalFetch("PATCH", `/keys/${made.id}`, { token, body: { name: "mine now" } }),
      403,
      "insufficient_permissions",
    );
    await expectProblem(
      await portalFetch("POST", `/keys/${made.id}/rotate`, { token, body: {} }),
      403,
      "insufficient_permissions",
    );
    const seen = await portal("GET", `/keys/${made.id}`, { token });
    expect(seen.status).toBe(200);
    const revoked = await portal("POST", `/keys/${made.id}/revoke`, { token });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
  });

  it("cannot enable a key the provider disabled", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "mine" });
    expect((await admin("PATCH", `/keys/${key.id}`, { enabled: false })).status).toBe(200);
    await expectProblem(
      await portalFetch("PATCH", `/keys/${key.id}`, { token, body: { enabled: true } }),
      403,
      "insufficient_permissions",
    );
    expect((await admin("GET", `/keys/${key.id}`)).json.enabled).toBe(false);
    // Nor rotate it: the successor would inherit the disabled state, and could be enabled.
    await expectProblem(
      await portalFetch("POST", `/keys/${key.id}/rotate`, { token, body: {} }),
      403,
      "insufficient_permissions",
    );
    // A key the member disabled itself it may enable again.
    const other = await portalKey(token, { type: "server", name: "other" });
    expect((await portal("PATCH", `/keys/${other.id}`, { token, body: { enabled: false } })).status).toBe(
      200,
    );
    const enabled = await portal("PATCH", `/keys/${other.id}`, { token, body: { enabled: true } });
    expect(enabled.json.enabled).toBe(true);
  });

  it("cannot enable a key the provider disabled again after the member did", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "mine" });
    expect((await portal("PATCH", `/keys/${key.id}`, { token, body: { enabled: false } })).status).toBe(200);
    expect(
      (await admin("PATCH", `/keys/${key.id}`, { enabled: false, name: "held by the provider" })).status,
    ).toBe(200);
    await expectProblem(
      await portalFetch("PATCH", `/keys/${key.id}`, { token, body: { enabled: true } }),
      403,
      "insufficient_permissions",
    );
    expect((await admin("GET", `/keys/${key.id}`)).json.enabled).toBe(false);
  });

  it("cannot rotate past maxLifetimeDays, and a rotation keeps the expiry", async () => {
    const ws = await organisation();
    const env = portalEnv({ maxLifetimeDays: 30 });
    const token = await member(ws.org, "owner");
    const far = new Date(Date.now() + 31 * 86_400_000).toISOString();
    await expectProblem(
      await portalFetch("POST", "/keys", { token, env, body: { type: "server", name: "x", expiresAt: far } }),
      400,
      "bad_request",
    );
    await expectProblem(
      await portalFetch("POST", "/keys", { token, env, body: { type: "server", name: "x" } }),
      400,
      "bad_request",
    );
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString();
    const key = await portalKey(token, { type: "server", name: "x", expiresAt: soon }, { env });
    const rotated = await portal("POST", `/keys/${key.id}/rotate`, { token, env, body: {} });
    expect(rotated.status).toBe(201);
    expect(rotated.json.expiresAt).toBe(key.expiresAt);
    // A key made without an expiry (before the rule) gets one at rotation.
    const unbounded = await portalKey(token, { type: "server", name: "y" });
    const capped = await portal("POST", `/keys/${unbounded.id}/rotate`, { token, env, body: {} });
    expect(capped.status).toBe(201);
    const lifetime = Date.parse(capped.json.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(29 * 86_400_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 86_400_000);
  });

  it("refuses a grace period over 7 days", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "x" });
    await expectProblem(
      await portalFetch("POST", `/keys/${key.id}/rotate`, {
        token,
        body: { gracePeriodSeconds: 8 * 86_400 },
      }),
      400,
      "bad_request",
    );
  });

  it("answers plan_required on create only, for a workspace whose plan is not in createOnPlans", async () => {
    const env = portalEnv({ createOnPlans: ["pro"] });
    const free = await organisation("free");
    const token = await member(free.org, "owner");
    await expectProblem(
      await portalFetch("POST", "/keys", { token, env, body: { type: "server", name: "x" } }),
      403,
      "plan_required",
    );
    expect((await portal("GET", "/keys", { token, env })).status).toBe(200);
    const pro = await organisation("pro");
    const created = await portal("POST", "/keys", {
      token: await member(pro.org, "owner"),
      env,
      body: { type: "server", name: "x" },
    });
    expect(created.status).toBe(201);
  });

  it("refuses a member key for a subject that is not a valid ownerId", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "member", "user with spaces");
    await expectProblem(
      await portalFetch("POST", "/keys", { token, body: { type: "member", name: "x" } }),
      403,
      "insufficient_permissions",
    );
  });
});

describe("portal: escalation beyond the member's owner roles", () => {
  it("refuses a member key a permission its owner roles lack, and the key follows a demotion", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "member", "omar");
    await setOwnerRoles(ws.id, "omar", ["viewer"]);
    const problem = await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        body: { type: "member", name: "x", permissions: ["products:read", "products:write"] },
      }),
      400,
      "permission_not_allowed",
    );
    expect(JSON.stringify(problem.errors)).toContain("products:write");
    await setOwnerRoles(ws.id, "omar", ["editor"]);
    const key = await portalKey(token, {
      type: "member",
      name: "x",
      permissions: ["products:read", "products:write"],
    });
    expect((await apiCall("/api/products", key.key, { method: "POST" })).status).toBe(200);
    await setOwnerRoles(ws.id, "omar", ["viewer"]);
    await expectProblem(
      await apiCall("/api/products", key.key, { method: "POST" }),
      403,
      "insufficient_permissions",
    );
  });

  it("with syncOwnerRoles, an older token cannot undo the provider's demotion", async () => {
    const ws = await organisation();
    const sync = portalEnv({ syncOwnerRoles: true, roles: { editor: ["keys:own"], viewer: [] } });
    const now = Math.floor(Date.now() / 1000);
    const old = await memberToken({ org_id: ws.org, org_role: "editor" }, { sub: "nia", iat: now - 60 });
    const first = await portal("GET", "/session", { token: old, env: sync });
    expect(first.json.member.roles).toEqual(["editor"]);
    expect(first.json.permissions).toEqual(["keys:own"]);
    await setOwnerRoles(ws.id, "nia", ["viewer"]);
    const after = await portal("GET", "/session", { token: old, env: sync });
    expect(after.json.member.roles).toEqual(["viewer"]);
    expect(after.json.permissions).toEqual([]);
    await expectProblem(
      await portalFetch("POST", "/keys", { token: old, env: sync, body: { type: "member", name: "x" } }),
      403,
      "insufficient_permissions",
    );
    const noIat = await memberToken({ org_id: ws.org, org_role: "editor" }, { sub: "nia", iat: null });
    expect((await portal("GET", "/session", { token: noIat, env: sync })).json.member.roles).toEqual([
      "viewer",
    ]);
  });
});

describe("portal: rotation chains", () => {
  it("keep at most the rotated key in its grace: a rotation ends the grace of keys rotated before it", async () => {
    // Each key in grace hands its requests on to its successor: an unbounded chain of portal
    // rotations would multiply the object calls of every request of the oldest key.
    const { org } = await organisation();
    const token = await member(org, "owner");
    const first = await portalKey(token, { type: "server", name: "chain" });
    const second = await portal("POST", `/keys/${first.id}/rotate`, {
      token,
      body: { gracePeriodSeconds: 3_600 },
    });
    expect(second.status).toBe(201);
    expect((await apiCall("/api/products", first.key)).status).toBe(200);
    const third = await portal("POST", `/keys/${second.json.id}/rotate`, {
      token,
      body: { gracePeriodSeconds: 3_600 },
    });
    expect(third.status).toBe(201);
    await expectProblem(await apiCall("/api/products", first.key), 401, "key_revoked");
    expect((await apiCall("/api/products", second.json.key)).status).toBe(200);
    expect((await apiCall("/api/products", third.json.key)).status).toBe(200);
    expect((await admin("GET", `/keys/${first.id}`)).json.revokedAt).not.toBeNull();
  });
});

describe("portal: a token dated in the future", () => {
  it("with syncOwnerRoles, cannot pin its roles against the provider's later demotion", async () => {
    const ws = await organisation();
    const sync = portalEnv({ syncOwnerRoles: true, roles: { editor: ["keys:own"], viewer: [] } });
    // Issued (so it says) an hour from now: its date counts as no later than its arrival.
    const ahead = Math.floor(Date.now() / 1000) + 3_600;
    const future = await memberToken({ org_id: ws.org, org_role: "editor" }, { sub: "fia", iat: ahead });
    expect((await portal("GET", "/session", { token: future, env: sync })).json.member.roles).toEqual([
      "editor",
    ]);
    await setOwnerRoles(ws.id, "fia", ["viewer"]);
    const after = await portal("GET", "/session", { token: future, env: sync });
    expect(after.json.member.roles).toEqual(["viewer"]);
    expect(after.json.permissions).toEqual([]);
  });
});

describe("portal: an enable racing a provider's disable", () => {
  it("is applied by the key's object only if the key is unchanged since the portal checked it", async () => {
    const ws = await organisation();
    const key = await createKey(ws.id, { type: "server" });
    await admin("PATCH", `/keys/${key.id}`, { enabled: false });
    const object = keyObject(key.id) as unknown as KeyGateApi;
    const scope = { workspaceId: ws.id, permissions: [] };
    const context = {
      actor: { type: "portal" as const, id: "user_1" },
      requestId: "r1",
      auditId: "aud_race",
    };
    const stale = await object.update(scope, { enabled: true }, { ...context, ifUnchangedSince: 1 });
    expect(stale).toEqual({ ok: false, code: "conflict" });
    expect((await admin("GET", `/keys/${key.id}`)).json.enabled).toBe(false);
  });
});
