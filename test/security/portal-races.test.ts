/**
 * Attack class: a member's portal change racing the provider's restriction (docs/portal.md,
 * docs/consistency.md). The provider's disable lands between the portal's checks and the key
 * object's write; whatever order the two take, the provider's restriction must stand, for the
 * key and for any successor a rotation makes of it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin } from "../worker/helpers";
import { apiCall, DEFAULT_ENV, member, organisation, portal, portalKey } from "./portal-support";

/**
 * A KEY_GATE binding that runs `meanwhile` once, just before the Worker asks a key's object to
 * `method`: the moment between the portal's checks and the key object's write.
 */
function racingGates(method: string, meanwhile: () => Promise<void>): typeof env.KEY_GATE {
  const namespace = env.KEY_GATE;
  let done = false;
  return {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(namespace.get(id), {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (property !== method || typeof value !== "function" || done) return value;
          return async (...args: unknown[]) => {
            done = true;
            await meanwhile();
            return Reflect.apply(value, target, args);
          };
        },
      }),
  } as unknown as typeof env.KEY_GATE;
}

describe("portal: a rotation racing the provider's disable", () => {
  it("leaves no successor the member can enable", { timeout: 60_000 }, async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "racing" });
    const racing = {
      ...DEFAULT_ENV,
      KEY_GATE: racingGates("rotate", async () => {
        const disabled = await admin("PATCH", `/keys/${key.id}`, { enabled: false });
        expect(disabled.status, disabled.text).toBe(200);
      }),
    };
    const rotated = await portal("POST", `/keys/${key.id}/rotate`, { token, body: {}, env: racing });
    // Refused, or a successor that inherits the disable: either way the disable stands.
    expect([201, 409], rotated.text).toContain(rotated.status);

    // The member tries to enable every key of the workspace it sees.
    const listed = await portal("GET", "/keys", { token });
    expect(listed.status).toBe(200);
    for (const item of listed.json.items as Array<{ id: string }>) {
      await portal("PATCH", `/keys/${item.id}`, { token, body: { enabled: true } });
    }
    const all = await admin("GET", `/keys?workspaceId=${ws.id}`);
    expect(all.status, all.text).toBe(200);
    const items = all.json.items as Array<{ id: string; enabled: boolean; revokedAt: string | null }>;
    expect(items.map((item) => item.id)).toContain(key.id);
    for (const item of items) {
      if (item.revokedAt === null)
        expect(item.enabled, `${item.id} enabled after the provider's disable`).toBe(false);
    }
  });
});

describe("portal: a rotation of a key in use", () => {
  it("is not refused because the key answered requests since the portal read it", {
    timeout: 60_000,
  }, async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "busy", limits: { minute: 1000 } });
    const traffic = Array.from({ length: 20 }, () => apiCall("/api/products", key.key as string));
    const rotated = await portal("POST", `/keys/${key.id}/rotate`, { token, body: {} });
    const statuses = await Promise.all(traffic.map(async (response) => (await response).status));
    expect(
      statuses.every((status) => status === 200 || status === 401),
      statuses.join(),
    ).toBe(true);
    expect(rotated.status, rotated.text).toBe(201);
  });
});

describe("portal: a provider's disable of a key the member disabled", () => {
  it("holds the key disabled even when the provider's patch changes nothing else", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const key = await portalKey(token, { type: "server", name: "held" });
    expect((await portal("PATCH", `/keys/${key.id}`, { token, body: { enabled: false } })).status).toBe(200);
    expect((await admin("PATCH", `/keys/${key.id}`, { enabled: false })).status).toBe(200);
    const enable = await portal("PATCH", `/keys/${key.id}`, { token, body: { enabled: true } });
    expect(enable.status, enable.text).toBe(403);
    expect((await admin("GET", `/keys/${key.id}`)).json.enabled).toBe(false);
  });
});
