/**
 * Attacks on owner roles and ownerScoped keys (docs/consistency.md#owners): a member's key must
 * lose a permission for every request that starts after the demotion answers, whoever holds a
 * lease of it and whether or not its owner has limits; an owner never given roles grants
 * nothing; no admin key is ever restricted through its owner; and no hostile role name or patch
 * can get around the rule.
 *
 * The tests run under the test policy with one more key type, `member`, ownerScoped. "Another
 * isolate" is a service with a lease holder of its own (that holds no lease of the key), as the
 * admin call of another isolate would be: it cannot hand this isolate's lease back, so the key's
 * object must wait for that lease to end.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gateDirectory } from "../../src/key-client/client";
import { contextDirectory } from "../../src/key-client/context-client";
import { LeaseHolder } from "../../src/key-client/lease-holder";
import { ownerGateOf } from "../../src/key-client/owner-client";
import { compilePolicy } from "../../src/policy/compiled";
import { loadPolicy } from "../../src/policy/load";
import type { AdminContext } from "../../src/services/admin-context";
import { KeyService } from "../../src/services/keys";
import { OwnersService } from "../../src/services/owners";
import { unconfirmed } from "../../src/services/unconfirmed";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";
import { ADMIN, BASE, countingDecisions, direct, expectProblem, type Json } from "../worker/helpers";

const SCOPED_POLICY = {
  ...TEST_POLICY,
  keyTypes: {
    ...TEST_POLICY.keyTypes,
    member: {
      prefix: "mk_test",
      ownerScoped: true,
      defaultPermissions: ["products:read", "products:write"],
    },
  },
};
const SCOPED = { POLICY: JSON.stringify(SCOPED_POLICY) };

async function adminCall(method: string, path: string, body?: unknown, token = ROOT_TOKEN) {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await direct(
    new Request(`${ADMIN}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    }),
    SCOPED,
  );
  const text = await response.clone().text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json, response };
}

async function workspace(): Promise<string> {
  const { status, json } = await adminCall("POST", "/workspaces", { name: "owner-roles" });
  expect(status, JSON.stringify(json)).toBe(201);
  return json.id;
}

async function memberKey(ws: string, fields: Json = {}): Promise<{ key: string; id: string }> {
  const { status, json } = await adminCall("POST", "/keys", {
    workspaceId: ws,
    type: "member",
    ownerId: "auth0|alice",
    ...fields,
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return { key: json.key, id: json.id };
}

async function setRoles(ws: string, ownerId: string, roles: unknown) {
  return adminCall("PUT", `/owners/${encodeURIComponent(ownerId)}/roles?workspaceId=${ws}`, { roles });
}

function keyed(key: string, method = "GET", path = "/api/products"): Request {
  return new Request(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${key}` } });
}

function send(key: string, method = "GET", path = "/api/products", overrides: Partial<Env> = {}) {
  return direct(keyed(key, method, path), { ...SCOPED, ...overrides });
}

/**
 * Three requests: the first of a key in an isolate asks for no lease, the second brings this
 * isolate one, the third is decided under it (two object decisions for three requests).
 */
async function leased(key: string, method = "GET", path = "/api/products"): Promise<void> {
  const counting = countingDecisions(env.KEY_GATE);
  for (let i = 0; i < 3; i++) {
    expect((await send(key, method, path, { KEY_GATE: counting.namespace })).status).toBe(200);
  }
  expect(counting.decisions()).toBe(2);
}

const compiled = (() => {
  const loaded = loadPolicy(SCOPED.POLICY);
  if (!loaded.ok) throw new Error(`test policy invalid: ${loaded.message}`);
  return compilePolicy(loaded.policy);
})();

/** The owners service as another isolate runs it: its lease holder holds none of this isolate's leases. */
function elsewhere(): OwnersService {
  const gates = gateDirectory(env.KEY_GATE);
  const holder = new LeaseHolder();
  return new OwnersService(
    env.DB,
    { of: (workspaceId, ownerId) => ownerGateOf(env, workspaceId, ownerId) },
    contextDirectory(env.WORKSPACE_CONTEXT),
    new KeyService(env.DB, compiled, gates, unconfirmed, holder),
    undefined,
  );
}

let requests = 0;
function rootIn(workspaceId: string): AdminContext {
  requests += 1;
  return { actor: { type: "root" }, workspaceId, permissions: ["*"], requestId: `owner-roles-${requests}` };
}

describe("owner roles under attack", { timeout: 60_000 }, () => {
  it("an ownerScoped key whose owner was never given roles holds no permission", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    await expectProblem(await send(key), 403, "insufficient_permissions");
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    // A route that needs no permission still serves it.
    expect((await send(key, "GET", "/api/other")).status).toBe(200);
    // So does an owner given no roles.
    expect((await setRoles(ws, "auth0|alice", [])).status).toBe(200);
    await expectProblem(await send(key), 403, "insufficient_permissions");
  });

  it("keeps only what both the key and its owner's roles grant; the plan's permissions stay", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws, { permissions: ["*"], plan: "pro" });
    await expectProblem(await send(key), 403, "insufficient_permissions");
    expect((await send(key, "GET", "/api/reports")).status).toBe(200);
    expect((await setRoles(ws, "auth0|alice", ["viewer"])).status).toBe(200);
    expect((await send(key)).status).toBe(200);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    // An owner role grants nothing the key itself lacks.
    const narrow = await memberKey(ws, { permissions: ["products:read"] });
    expect((await setRoles(ws, "auth0|alice", ["editor"])).status).toBe(200);
    expect((await send(narrow.key)).status).toBe(200);
    await expectProblem(await send(narrow.key, "POST"), 403, "insufficient_permissions");
  });

  it("a demotion is in force for the next request while this isolate holds a lease (owner with no limits)", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    expect((await setRoles(ws, "auth0|alice", ["editor"])).status).toBe(200);
    await leased(key, "POST");
    const demoted = await setRoles(ws, "auth0|alice", ["viewer"]);
    expect(demoted.status, JSON.stringify(demoted.json)).toBe(200);
    expect(demoted.json.roles).toEqual(["viewer"]);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    expect((await send(key)).status).toBe(200);
  });

  it("a demotion made in another isolate is in force here as soon as it answers, lease held", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    expect((await setRoles(ws, "auth0|alice", ["editor"])).status).toBe(200);
    await leased(key, "POST");
    expect(await elsewhere().setRoles(rootIn(ws), "auth0|alice", [])).toBe(true);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    await expectProblem(await send(key), 403, "insufficient_permissions");
  });

  it("a demotion reaches the keys of an owner with limits as well", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    const put = await adminCall("PUT", `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${ws}`, {
      limits: { hour: 1000 },
    });
    expect(put.status).toBe(200);
    expect((await setRoles(ws, "auth0|alice", ["editor"])).status).toBe(200);
    expect((await send(key, "POST")).status).toBe(200);
    expect(await elsewhere().setRoles(rootIn(ws), "auth0|alice", ["viewer"])).toBe(true);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    expect((await send(key)).status).toBe(200);
  });

  it("an edit of an owner role's permissions is in force for the next request, lease held", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    const staff = { workspaceId: ws, name: "staff", permissions: ["products:read", "products:write"] };
    expect((await adminCall("POST", "/roles", staff)).status).toBe(201);
    expect((await setRoles(ws, "auth0|alice", ["staff"])).status).toBe(200);
    await leased(key, "POST");
    expect((await adminCall("POST", "/roles", { ...staff, permissions: ["products:read"] })).status).toBe(
      201,
    );
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    expect((await send(key)).status).toBe(200);
    // Deleting the workspace role leaves the owner a role that grants nothing.
    expect((await adminCall("DELETE", `/roles/staff?workspaceId=${ws}`)).status).toBe(204);
    await expectProblem(await send(key), 403, "insufficient_permissions");
  });

  it("never restricts an admin key through its owner", async () => {
    const ws = await workspace();
    const created = await adminCall("POST", "/keys", {
      workspaceId: ws,
      type: "admin",
      ownerId: "auth0|alice",
      permissions: ["keys:read", "keys:write"],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const adminKey = created.json.key as string;
    expect((await setRoles(ws, "auth0|alice", [])).status).toBe(200);
    const listed = await adminCall("GET", `/keys?workspaceId=${ws}`, undefined, adminKey);
    expect(listed.status, JSON.stringify(listed.json)).toBe(200);
    // Its own owner's roles change under it, by itself, and it keeps every permission.
    const changed = await adminCall(
      "PUT",
      `/owners/${encodeURIComponent("auth0|alice")}/roles`,
      { roles: ["viewer"] },
      adminKey,
    );
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    expect((await adminCall("GET", `/keys?workspaceId=${ws}`, undefined, adminKey)).status).toBe(200);
  });

  it("lets no admin key set the roles of another workspace's owner, nor without keys:write", async () => {
    const [mine, theirs] = [await workspace(), await workspace()];
    expect((await setRoles(theirs, "auth0|alice", ["viewer"])).status).toBe(200);
    const created = await adminCall("POST", "/keys", {
      workspaceId: mine,
      type: "admin",
      permissions: ["keys:read", "keys:write"],
    });
    const writer = created.json.key as string;
    const across = await adminCall(
      "PUT",
      `/owners/${encodeURIComponent("auth0|alice")}/roles?workspaceId=${theirs}`,
      { roles: ["editor"] },
      writer,
    );
    await expectProblem(across.response, 404, "not_found");
    const reader = await adminCall("POST", "/keys", {
      workspaceId: mine,
      type: "admin",
      permissions: ["keys:read"],
    });
    const readOnly = await adminCall(
      "PUT",
      `/owners/${encodeURIComponent("auth0|alice")}/roles`,
      { roles: ["editor"] },
      reader.json.key as string,
    );
    await expectProblem(readOnly.response, 403, "insufficient_permissions");
    const theirOwner = await adminCall(
      "GET",
      `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${theirs}`,
    );
    expect(theirOwner.json.roles).toEqual(["viewer"]);
    const myOwner = await adminCall(
      "GET",
      `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${mine}`,
    );
    expect(myOwner.json.roles).toEqual([]);
  });

  it("moving an ownerScoped key to an owner with fewer roles is in force for the next request", async () => {
    const ws = await workspace();
    const { key, id } = await memberKey(ws);
    expect((await setRoles(ws, "auth0|alice", ["editor"])).status).toBe(200);
    expect((await setRoles(ws, "auth0|bob", ["viewer"])).status).toBe(200);
    await leased(key, "POST");
    expect((await adminCall("PATCH", `/keys/${id}`, { ownerId: "auth0|bob" })).status).toBe(200);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    expect((await send(key)).status).toBe(200);
  });

  it("refuses hostile role names with 400 and changes nothing", async () => {
    const ws = await workspace();
    expect((await setRoles(ws, "auth0|alice", ["viewer"])).status).toBe(200);
    const hostile: unknown[] = [
      ["__proto__"],
      ["constructor"],
      ["toString"],
      ["..."],
      ["view\u0000er"],
      ["viewer\n"],
      ["a".repeat(65)],
      ["nope"],
      [42],
      "viewer",
      null,
      Array.from({ length: 51 }, (_, i) => `r${i}`),
    ];
    for (const roles of hostile) {
      const refused = await setRoles(ws, "auth0|alice", roles);
      expect(refused.status, JSON.stringify(roles)).toBe(400);
      expect(refused.json.code).toBe("bad_request");
    }
    const extra = await adminCall(
      "PUT",
      `/owners/${encodeURIComponent("auth0|alice")}/roles?workspaceId=${ws}`,
      { roles: ["viewer"], limits: { hour: 1 } },
    );
    expect(extra.status).toBe(400);
    const owner = await adminCall("GET", `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${ws}`);
    expect(owner.json.roles).toEqual(["viewer"]);
    expect(owner.json.limits).toEqual([]);
  });

  it("an ownerScoped key cannot be created, imported or patched without an owner", async () => {
    const ws = await workspace();
    const created = await adminCall("POST", "/keys", { workspaceId: ws, type: "member" });
    await expectProblem(created.response, 400, "bad_request");
    const imported = await adminCall("POST", "/keys/import", {
      workspaceId: ws,
      type: "member",
      hash: "a".repeat(64),
    });
    await expectProblem(imported.response, 400, "bad_request");
    const { id } = await memberKey(ws);
    const patched = await adminCall("PATCH", `/keys/${id}`, { ownerId: null });
    await expectProblem(patched.response, 400, "bad_request");
    const record = await adminCall("GET", `/keys/${id}`);
    expect(record.json.ownerId).toBe("auth0|alice");
  });

  it("PUT /owners leaves roles as they are; a root change dates them 30 s ahead, audited", async () => {
    const ws = await workspace();
    const before = Date.now();
    const set = await setRoles(ws, "auth0|alice", ["viewer", "editor", "viewer"]);
    expect(set.status).toBe(200);
    expect(set.json.roles).toEqual(["viewer", "editor"]);
    const asOf = Date.parse(set.json.rolesAsOf);
    expect(asOf).toBeGreaterThanOrEqual(before + 30_000);
    expect(asOf).toBeLessThanOrEqual(Date.now() + 30_000);
    const put = await adminCall("PUT", `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${ws}`, {
      limits: { minute: 5 },
    });
    expect(put.json.roles).toEqual(["viewer", "editor"]);
    const got = await adminCall("GET", `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${ws}`);
    expect(got.json).toMatchObject({ roles: ["viewer", "editor"], rolesAsOf: set.json.rolesAsOf });
    const never = await adminCall("GET", `/owners/bob?workspaceId=${ws}`);
    expect(never.json).toMatchObject({ roles: [], rolesAsOf: null });
    const audit = await adminCall("GET", `/audit?workspaceId=${ws}`);
    const entry = (audit.json.items as Json[]).find(
      (item) => item.action === "owner.update" && item.after?.roles !== undefined,
    );
    expect(entry).toMatchObject({
      targetId: "auth0|alice",
      before: null,
      after: { roles: ["viewer", "editor"] },
    });
  });

  it("a portal sync applies only a token newer than the roles, and keeps only known role names", async () => {
    const ws = await workspace();
    const { key } = await memberKey(ws);
    const service = elsewhere();
    const start = Date.now();
    expect(await service.setRoles(rootIn(ws), "auth0|alice", ["editor", "ghost"], { asOf: start })).toBe(
      true,
    );
    expect((await send(key, "POST")).status).toBe(200);
    const owner = await adminCall("GET", `/owners/${encodeURIComponent("auth0|alice")}?workspaceId=${ws}`);
    expect(owner.json).toMatchObject({ roles: ["editor"], rolesAsOf: new Date(start).toISOString() });
    // An older token, or one of the same time, changes nothing.
    expect(await service.setRoles(rootIn(ws), "auth0|alice", ["viewer"], { asOf: start - 1 })).toBe(false);
    expect(await service.setRoles(rootIn(ws), "auth0|alice", ["viewer"], { asOf: start })).toBe(false);
    expect((await send(key, "POST")).status).toBe(200);
    // A root change dates the roles 30 s ahead: a token issued just before it cannot undo it.
    expect((await setRoles(ws, "auth0|alice", ["viewer"])).status).toBe(200);
    expect(await service.setRoles(rootIn(ws), "auth0|alice", ["editor"], { asOf: Date.now() })).toBe(false);
    await expectProblem(await send(key, "POST"), 403, "insufficient_permissions");
    // A later token applies.
    expect(await service.setRoles(rootIn(ws), "auth0|alice", ["editor"], { asOf: Date.now() + 60_000 })).toBe(
      true,
    );
    expect((await send(key, "POST")).status).toBe(200);
  });
});
