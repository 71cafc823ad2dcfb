/**
 * The portal JSON API (docs/portal.md): a member's session, its keys' whole life (create, shown
 * once, list, get with windows, rename, disable, rotate, revoke), usage summed exactly over the
 * keys it may see, workspaces created on first use exactly once, and the key maximums exact
 * under concurrent creates.
 */
import { describe, expect, it } from "vitest";
import {
  apiCall,
  keyCount,
  member,
  memberToken,
  organisation,
  portal,
  portalEnv,
  portalFetch,
  portalKey,
  setOwnerRoles,
} from "../security/portal-support";
import { admin, call, createKey, direct, expectProblem, type Json } from "./helpers";

const RECORD_FIELDS = [
  "id",
  "type",
  "name",
  "start",
  "ownerId",
  "permissions",
  "enabled",
  "expiresAt",
  "revokedAt",
  "createdAt",
  "lastUsedAt",
  "createdBy",
  "rotatedFrom",
].sort();

describe("portal: session", () => {
  it("tells the page who the member is, what it may do and what it may create", async () => {
    const ws = await organisation("metered");
    const token = await memberToken(
      { org_id: ws.org, org_role: ["owner", "nonsense"], name: "Ada" },
      { sub: "ada" },
    );
    const { status, json } = await portal("GET", "/session", { token });
    expect(status).toBe(200);
    expect(json.workspace).toEqual({ id: ws.id, name: `Org ${ws.org}`, plan: "metered" });
    expect(json.member).toEqual({ subject: "ada", name: "Ada", roles: ["owner", "nonsense"] });
    expect(json.permissions.sort()).toEqual(["keys:manage", "keys:read", "usage:read"]);
    const server = json.keyTypes.find((type: Json) => type.type === "server");
    expect(server).toEqual({
      type: "server",
      label: "Server",
      ownedBy: "workspace",
      grantable: [
        { permission: "products:read", label: "Read products" },
        { permission: "products:write", label: "Write products" },
      ],
      defaultPermissions: ["products:read", "products:write"],
      limits: [
        { window: "minute", max: 10 },
        { window: "day", max: 20 },
      ],
      canCreate: true,
    });
    expect(json.limits).toEqual({ maxKeysPerWorkspace: 100, maxKeysPerMember: 10, maxLifetimeDays: null });
  });

  it("answers a member with no permission too, and says it can create nothing", async () => {
    const ws = await organisation();
    const { status, json } = await portal("GET", "/session", { token: await member(ws.org, "nobody") });
    expect(status).toBe(200);
    expect(json.permissions).toEqual([]);
    expect(json.keyTypes.every((type: Json) => type.canCreate === false)).toBe(true);
  });
});

describe("portal: a key's life", () => {
  it("creates a key shown once, that works, with a record that hides the provider's settings", async () => {
    const ws = await organisation();
    const token = await memberToken({ org_id: ws.org, org_role: "owner", name: "Ada" }, { sub: "auth0|ada" });
    const response = await portalFetch("POST", "/keys", {
      token,
      body: { type: "server", name: "checkout", permissions: ["products:read"] },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const created = (await response.json()) as Json;
    expect(created.key).toMatch(/^sk_test_/);
    const { key, ...record } = created;
    expect(Object.keys(record).sort()).toEqual(RECORD_FIELDS);
    expect(record).toMatchObject({
      type: "server",
      name: "checkout",
      ownerId: null,
      permissions: ["products:read"],
      enabled: true,
      createdBy: { type: "portal", id: "auth0|ada", name: "Ada" },
    });
    expect((await call("/api/products", { key })).status).toBe(200);
    expect((await call("/api/products", { key, method: "POST" })).status).toBe(403);

    const { json: audit } = await admin("GET", `/audit?workspaceId=${ws.id}`);
    const entry = audit.items.find((item: Json) => item.action === "key.create");
    expect(entry.actor).toEqual({ type: "portal", id: "auth0|ada" });
    expect(JSON.stringify(audit)).not.toContain(key);

    const fetched = await portal("GET", `/keys/${record.id}`, { token });
    expect(fetched.status).toBe(200);
    expect(fetched.json.key).toBeUndefined();
    expect(fetched.json.limits).toEqual([]);
    expect(fetched.json.credits).toBeNull();
    expect(fetched.headers.get("cache-control")).toBeNull();
  });

  it("gives absent permissions the type's defaults that are grantable", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const narrow = portalEnv({
      keyTypes: { server: { ownedBy: "workspace", grantable: ["products:read"] } },
    });
    const created = await portalKey(token, { type: "server", name: "d" }, { env: narrow });
    expect(created.permissions).toEqual(["products:read"]);
  });

  it("lists newest first, only its own with mine=true, and pages", async () => {
    const ws = await organisation();
    const owner = await member(ws.org, "owner", "olga");
    const first = await portalKey(owner, { type: "server", name: "one" });
    const mine = await portalKey(owner, { type: "member", name: "olga's" });
    const other = await portalKey(await member(ws.org, "member", "pat"), { type: "member", name: "pat's" });
    const provider = await createKey(ws.id, { type: "server", name: "provider" });
    const all = await portal("GET", "/keys", { token: owner });
    expect(all.status, all.text).toBe(200);
    expect(all.json.items.map((item: Json) => item.id)).toEqual([provider.id, other.id, mine.id, first.id]);
    expect(Object.keys(all.json.items[0]).sort()).toEqual(RECORD_FIELDS);
    const own = await portal("GET", "/keys?mine=true", { token: owner });
    expect(own.status, own.text).toBe(200);
    expect(own.json.items.map((item: Json) => item.id)).toEqual([mine.id]);
    expect(own.json.items[0].ownerId).toBe("olga");
    const page = await portal("GET", "/keys?limit=2", { token: owner });
    expect(page.json.items).toHaveLength(2);
    const next = await portal("GET", `/keys?limit=2&cursor=${encodeURIComponent(page.json.cursor)}`, {
      token: owner,
    });
    expect(next.status, next.text).toBe(200);
    expect(next.json.items.map((item: Json) => item.id)).toEqual([mine.id, first.id]);
  });

  it("renames, disables, enables, rotates and revokes, each in force at its answer", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "member", "rita");
    await setOwnerRoles(ws.id, "rita", ["viewer"]);
    const created = await portalKey(token, { type: "member", name: "mine" });
    const renamed = await portal("PATCH", `/keys/${created.id}`, { token, body: { name: "renamed" } });
    expect(renamed.json.name).toBe("renamed");
    await portal("PATCH", `/keys/${created.id}`, { token, body: { enabled: false } });
    await expectProblem(await apiCall("/api/products", created.key), 401, "key_disabled");
    await portal("PATCH", `/keys/${created.id}`, { token, body: { enabled: true } });
    expect((await apiCall("/api/products", created.key)).status).toBe(200);

    const rotated = await portalFetch("POST", `/keys/${created.id}/rotate`, { token, body: {} });
    expect(rotated.status).toBe(201);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const successor = (await rotated.json()) as Json;
    expect(successor.rotatedFrom).toBe(created.id);
    expect(successor.ownerId).toBe("rita");
    expect(successor.createdBy).toEqual({ type: "portal", id: "rita" });
    await expectProblem(await apiCall("/api/products", created.key), 401, "key_expired");
    expect((await apiCall("/api/products", successor.key)).status).toBe(200);

    const revoked = await portal("POST", `/keys/${successor.id}/revoke`, { token });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    await expectProblem(await apiCall("/api/products", successor.key), 401, "key_revoked");
    const { json: audit } = await admin("GET", `/audit?workspaceId=${ws.id}`);
    const actions = audit.items
      .filter((item: Json) => item.actor.type === "portal")
      .map((item: Json) => item.action);
    expect(actions).toEqual(expect.arrayContaining(["key.create", "key.update", "key.rotate", "key.revoke"]));
  });

  it("reports a key's usage and sums exactly the keys the member may see", async () => {
    const ws = await organisation();
    const owner = await member(ws.org, "owner", "uma");
    const a = await portalKey(owner, { type: "server", name: "a" });
    const b = await portalKey(await member(ws.org, "member", "ivy"), { type: "member", name: "b" });
    await setOwnerRoles(ws.id, "ivy", ["editor"]);
    const hidden = await createKey(ws.id, { type: "browser", name: "hidden" });
    for (let i = 0; i < 3; i += 1) await apiCall("/api/products", a.key);
    for (let i = 0; i < 2; i += 1) await apiCall("/api/products", b.key);
    await apiCall("/api/products", b.key, { method: "POST" });
    for (let i = 0; i < 5; i += 1) await apiCall("/api/products", hidden.key);
    const keyUsage = await portal("GET", `/keys/${a.id}/usage`, { token: owner });
    expect(keyUsage.status).toBe(200);
    expect(keyUsage.json.items).toHaveLength(30);
    expect(keyUsage.json.items.at(-1).allowed).toBe(3);
    const everything = await portal("GET", "/usage?granularity=hour", { token: owner });
    expect(everything.json.items).toHaveLength(24);
    expect(everything.json.items.at(-1)).toMatchObject({
      allowed: 5,
      denied: { insufficient_permissions: 1 },
    });
    const ivy = await portal("GET", "/usage", { token: await member(ws.org, "member", "ivy") });
    expect(ivy.json.items.at(-1)).toMatchObject({ allowed: 2, denied: { insufficient_permissions: 1 } });
  });
});

describe("portal: workspaces and maximums", () => {
  it("creates one workspace for two concurrent first calls with createWorkspaces", async () => {
    const org = `org_new_${crypto.randomUUID()}`;
    const auto = portalEnv({ createWorkspaces: true, newWorkspacePlan: "pro" });
    const [a, b] = await Promise.all([
      portal("GET", "/session", { token: await member(org, "owner", "first"), env: auto }),
      portal("GET", "/session", { token: await member(org, "owner", "second"), env: auto }),
    ]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    expect(a.json.workspace.id).toBe(b.json.workspace.id);
    expect(a.json.workspace).toMatchObject({ name: org, plan: "pro" });
    const { json } = await admin("GET", `/workspaces?externalId=${org}`);
    expect(json.items).toHaveLength(1);
    const { json: audit } = await admin("GET", `/audit?workspaceId=${a.json.workspace.id}`);
    const creates = audit.items.filter((item: Json) => item.action === "workspace.create");
    expect(creates).toHaveLength(1);
    expect(creates[0].actor.type).toBe("portal");
  });

  it("holds maxKeysPerWorkspace exactly under 20 concurrent creates, counting provider keys", {
    timeout: 180_000,
  }, async () => {
    const ws = await organisation();
    const capped = portalEnv({ maxKeysPerWorkspace: 12 });
    await createKey(ws.id, { type: "server", name: "provider" });
    await createKey(ws.id, { type: "browser", name: "not portal-visible" });
    const token = await member(ws.org, "owner");
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        portal("POST", "/keys", { token, env: capped, body: { type: "server", name: `k${i}` } }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(11);
    const refused = responses.filter((response) => response.status === 409);
    expect(refused).toHaveLength(9);
    expect(refused[0]?.json.code).toBe("limit_reached");
    expect(await keyCount(ws.id)).toBe(13);
    // A rotation is never refused by a maximum; a revoked key frees its place.
    const any = responses.find((response) => response.status === 201)?.json as Json;
    expect((await portal("POST", `/keys/${any.id}/rotate`, { token, env: capped, body: {} })).status).toBe(
      201,
    );
    await expectProblem(
      await portalFetch("POST", "/keys", { token, env: capped, body: { type: "server", name: "more" } }),
      409,
      "limit_reached",
    );
    await portal("POST", `/keys/${any.id}/revoke`, { token, env: capped });
    expect((await admin("POST", "/keys", { workspaceId: ws.id, type: "server" })).status).toBe(201);
  });

  it("holds maxKeysPerMember exactly under 20 concurrent creates", { timeout: 180_000 }, async () => {
    const ws = await organisation();
    const capped = portalEnv({ maxKeysPerMember: 3 });
    const token = await member(ws.org, "member", "max");
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        portal("POST", "/keys", { token, env: capped, body: { type: "member", name: `m${i}` } }),
      ),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(3);
    expect(responses.filter((response) => response.json.code === "limit_reached")).toHaveLength(17);
    const other = await member(ws.org, "member", "min");
    expect(
      (await portal("POST", "/keys", { token: other, env: capped, body: { type: "member", name: "x" } }))
        .status,
    ).toBe(201);
  });
});

describe("portal: policy", () => {
  async function health(portalSettings: Json, extra: Json = {}) {
    const response = await direct(
      new Request("https://api.example.test/_portcullis/health"),
      portalEnv(portalSettings, extra),
    );
    return { status: response.status, body: (await response.json()) as Json };
  }

  it("accepts the test portal", async () => {
    expect((await health({})).status).toBe(200);
  });

  it.each([
    [
      "an admin key type",
      { keyTypes: { admin: { ownedBy: "workspace", grantable: [] } } },
      "portal.keyTypes",
    ],
    [
      "an unknown key type",
      { keyTypes: { nope: { ownedBy: "workspace", grantable: [] } } },
      "portal.keyTypes",
    ],
    ["the admin token as secret", { jwt: { secretEnv: "ADMIN_TOKEN" } }, "portal.jwt"],
    ["the origin signing secret", { jwt: { secretEnv: "ORIGIN_SIGNING_SECRET" } }, "portal.jwt"],
    [
      "both secret and JWKS",
      { jwt: { secretEnv: "PORTAL_SECRET", jwksUrl: "https://x.test/jwks" } },
      "portal.jwt",
    ],
    ["neither secret nor JWKS", { jwt: {} }, "portal.jwt"],
    ["an origin with a path", { origins: ["https://app.test/x"] }, "portal.origins"],
    ["a plain-http origin", { origins: ["http://app.test"] }, "portal.origins"],
    ["a wildcard origin", { origins: ["*"] }, "portal.origins"],
    ["an unknown permission", { everyMember: ["keys:everything"] }, "portal.everyMember"],
  ])("is policy_invalid with %s", async (_name, settings, field) => {
    const { status, body } = await health(settings);
    expect(status).toBe(500);
    expect(body.code).toBe("policy_invalid");
    expect(JSON.stringify(body.errors)).toContain(field);
  });

  it("is policy_invalid when the portal's secret is a webhook's or the leak reports' secret", async () => {
    const webhook = await health(
      { jwt: { secretEnv: "HOOK_SECRET" } },
      { webhooks: [{ url: "https://hooks.test/x", secretEnv: "HOOK_SECRET" }] },
    );
    expect(webhook.status).toBe(500);
    const leaks = await health({ jwt: { secretEnv: "GH_KEYS" } }, { leaks: { githubKeysEnv: "GH_KEYS" } });
    expect(leaks.status).toBe(500);
    const local = await health({
      origins: ["http://localhost:5173", "http://127.0.0.1", "https://a.test:8443"],
    });
    expect(local.status).toBe(200);
  });
});

describe("portal: syncOwnerRoles", () => {
  it("sets the owner roles from a newer token, audited as the member, and keeps them for older ones", async () => {
    const ws = await organisation();
    const sync = portalEnv({
      syncOwnerRoles: true,
      roles: { editor: ["keys:own", "usage:read"], viewer: ["keys:read"] },
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await memberToken(
      { org_id: ws.org, org_role: ["editor", "not-a-role"] },
      { sub: "sol", iat: now + 60 },
    );
    const session = await portal("GET", "/session", { token, env: sync });
    expect(session.status, session.text).toBe(200);
    expect(session.json.member.roles).toEqual(["editor"]);
    const { json: owner } = await admin("GET", `/owners/sol?workspaceId=${ws.id}`);
    expect(owner.roles).toEqual(["editor"]);
    const { json: audit } = await admin("GET", `/audit?workspaceId=${ws.id}`);
    const update = audit.items.find((item: Json) => item.action === "owner.update");
    expect(update.actor).toEqual({ type: "portal", id: "sol" });
    const older = await memberToken({ org_id: ws.org, org_role: "viewer" }, { sub: "sol", iat: now });
    const kept = await portal("GET", "/session", { token: older, env: sync });
    expect(kept.json.member.roles).toEqual(["editor"]);
    expect(kept.json.permissions).toEqual(["keys:own", "usage:read"]);
    const newer = await memberToken({ org_id: ws.org, org_role: "viewer" }, { sub: "sol", iat: now + 120 });
    const demoted = await portal("GET", "/session", { token: newer, env: sync });
    expect(demoted.json.member.roles).toEqual(["viewer"]);
    expect(demoted.json.permissions).toEqual(["keys:read"]);
  });
});
