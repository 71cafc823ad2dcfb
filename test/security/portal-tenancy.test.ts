/**
 * Attack class: cross-tenant access through the portal (docs/portal.md). A member reaches only
 * the portal-visible keys of the workspace its token's organisation names: another
 * workspace's keys, another member's keys (for `keys:own`), keys of types the portal does not
 * show, and admin keys all answer 404 on every route, and nothing in a path or body chooses
 * the workspace.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, countingGates, createKey, expectProblem } from "../worker/helpers";
import { DEFAULT_ENV, member, organisation, portal, portalFetch, portalKey } from "./portal-support";

/** Every portal route that names a key, with a body where it needs one. */
const KEY_ROUTES: Array<[string, (id: string) => string, unknown?]> = [
  ["GET", (id) => `/keys/${id}`],
  ["PATCH", (id) => `/keys/${id}`, { name: "taken" }],
  ["POST", (id) => `/keys/${id}/rotate`, {}],
  ["POST", (id) => `/keys/${id}/revoke`],
  ["GET", (id) => `/keys/${id}/usage`],
];

async function expectUnreachable(token: string, id: string) {
  for (const [method, path, body] of KEY_ROUTES) {
    const response = await portalFetch(method, path(id), { token, body });
    const problem = await expectProblem(response, 404, "not_found");
    expect(JSON.stringify(problem)).not.toContain("sk_test_");
  }
  const { json } = await admin("GET", `/keys/${id}`);
  expect(json.revokedAt ?? null).toBeNull();
  expect(json.name).not.toBe("taken");
}

describe("portal: cross-tenant access", () => {
  it("answers 404 on every route for another workspace's portal keys, and changes nothing", async () => {
    const mine = await organisation();
    const theirs = await organisation();
    const victim = await portalKey(await member(theirs.org, "owner"), { type: "server", name: "theirs" });
    const attacker = await member(mine.org, "owner");
    await expectUnreachable(attacker, victim.id);
    const listed = await portal("GET", "/keys", { token: attacker });
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((item: { id: string }) => item.id)).not.toContain(victim.id);
  });

  it("answers 404 for keys of types the portal does not show and for admin keys, in the member's own workspace", async () => {
    const mine = await organisation();
    const hidden = await createKey(mine.id, { type: "browser", name: "hidden" });
    const adminKey = await createKey(mine.id, { type: "admin", permissions: ["*"], name: "ops" });
    const token = await member(mine.org, "owner");
    await expectUnreachable(token, hidden.id);
    await expectUnreachable(token, adminKey.id);
    const listed = await portal("GET", "/keys", { token });
    const ids = listed.json.items.map((item: { id: string }) => item.id);
    expect(ids).not.toContain(hidden.id);
    expect(ids).not.toContain(adminKey.id);
  });

  it("keeps another member's own keys from a member who holds only keys:own", async () => {
    const mine = await organisation();
    const alice = await member(mine.org, "member", "alice");
    const bob = await member(mine.org, "member", "bob");
    const alicesKey = await portalKey(alice, { type: "member", name: "alice's" });
    await expectUnreachable(bob, alicesKey.id);
    const listed = await portal("GET", "/keys", { token: bob });
    expect(listed.json.items).toEqual([]);
  });

  it("keeps workspace keys from a member who holds only keys:own", async () => {
    const mine = await organisation();
    const shared = await portalKey(await member(mine.org, "owner"), { type: "server", name: "shared" });
    await expectUnreachable(await member(mine.org, "member", "carol"), shared.id);
  });

  it("answers 404 for ids that are no key's, without asking any object", async () => {
    const mine = await organisation();
    const token = await member(mine.org, "owner");
    const counting = countingGates(env.KEY_GATE);
    const counted = { ...DEFAULT_ENV, KEY_GATE: counting.namespace };
    for (const id of ["nope", "key_short", `key_${"a".repeat(21)}`, "ws_aaaaaaaaaaaaaaaaaaaa", "..%2Fkeys"]) {
      await expectProblem(await portalFetch("GET", `/keys/${id}`, { token, env: counted }), 404, "not_found");
    }
    expect(counting.gets()).toBe(0);
    const unknown = `key_${"Z".repeat(20)}`;
    await expectProblem(await portalFetch("POST", `/keys/${unknown}/revoke`, { token }), 404, "not_found");
  });

  it("lets nothing in the body choose the workspace", async () => {
    const mine = await organisation();
    const theirs = await organisation();
    const token = await member(mine.org, "owner");
    const smuggled = await portal("POST", "/keys", {
      token,
      body: { type: "server", name: "x", workspaceId: theirs.id },
    });
    await expectProblem(
      new Response(smuggled.text, { status: smuggled.status, headers: smuggled.headers }),
      400,
      "bad_request",
    );
    const { json } = await admin("GET", `/keys?workspaceId=${theirs.id}`);
    expect(json.items).toEqual([]);
  });

  it("sums usage over the caller's workspace only", async () => {
    const mine = await organisation();
    const theirs = await organisation();
    const token = await member(mine.org, "owner");
    const usage = await portal("GET", "/usage", { token });
    expect(usage.status).toBe(200);
    const other = await portal("GET", `/usage?workspaceId=${theirs.id}`, { token });
    await expectProblem(
      new Response(other.text, { status: other.status, headers: other.headers }),
      400,
      "bad_request",
    );
  });
});
