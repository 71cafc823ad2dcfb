/**
 * Real proxies in front of Portcullis' forward-auth: Debian's nginx (`auth_request`) and
 * Debian's Caddy (`forward_auth`), each protecting the test origin.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { admin, type Json, newKey } from "./fixtures";
import { caddyConfig } from "./peers/caddy.conf";
import { nginxConfig } from "./peers/nginx.conf";
import { type Peer, startPeer } from "./peers/start";

const peers: Record<string, Peer> = {};

beforeAll(async () => {
  const portcullis = inject("portcullisUrl");
  const origin = inject("originUrl");
  peers.nginx = await startPeer("nginx", (dir, port) => ({
    file: "nginx.conf",
    config: nginxConfig({ dir, port, portcullis, origin }),
    command: "nginx",
    args: ["-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/error.log`],
  }));
  peers.caddy = await startPeer("caddy", (_dir, port) => ({
    file: "Caddyfile",
    config: caddyConfig({ port, portcullis, origin }),
    command: "caddy",
    args: ["run", "--config", "Caddyfile", "--adapter", "caddyfile"],
  }));
});

afterAll(async () => {
  await Promise.all(Object.values(peers).map((peer) => peer.stop()));
});

describe.each(["nginx", "caddy"])("%s in front of forward-auth", (name) => {
  const through = (path: string, init: RequestInit = {}) => fetch(`${peers[name]?.url}${path}`, init);

  it("lets an allowed request reach the origin with the identity headers and without the key", async () => {
    const { key, id, workspaceId } = await newKey({ ownerId: "owner-7" });
    const response = await through("/api/products?x=1", { headers: { Authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Json;
    expect(seen).toMatchObject({ method: "GET", path: "/api/products", query: "x=1" });
    expect(seen.headers).toMatchObject({
      "x-portcullis-key-id": id,
      "x-portcullis-workspace-id": workspaceId,
      "x-portcullis-key-type": "server",
      "x-portcullis-owner-id": "owner-7",
      "x-portcullis-permissions": "products:read products:write",
    });
    expect(seen.assertion).toMatchObject({ keyId: id, method: "GET", path: "/api/products" });
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(key);
  });

  it("answers 401 without a key and for a revoked key, with X-Portcullis-Code", async () => {
    const missing = await through("/api/products");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("x-portcullis-code")).toBe("missing_credential");
    const { key, id } = await newKey();
    expect((await through("/api/products", { headers: { "X-API-Key": key } })).status).toBe(200);
    await admin("POST", `/keys/${id}/revoke`);
    const revoked = await through("/api/products", { headers: { "X-API-Key": key } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get("x-portcullis-code")).toBe("key_revoked");
  });

  it("answers 403 for a key without the permission", async () => {
    const { key } = await newKey({ permissions: ["products:read"] });
    const response = await through("/api/products", {
      method: "POST",
      headers: { "X-API-Key": key },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-portcullis-code")).toBe("insufficient_permissions");
  });

  it("lets no spoofed identity header through to the origin", async () => {
    const { key, id } = await newKey();
    const response = await through("/api/products", {
      headers: { "X-API-Key": key, "X-Portcullis-Key-Id": "key_spoofed", "X-Portcullis-Plan": "enterprise" },
    });
    const seen = ((await response.json()) as Json).headers;
    expect(seen["x-portcullis-key-id"]).toBe(id);
    // The key has no plan: the header does not reach the origin.
    expect(seen["x-portcullis-plan"] ?? "").toBe("");
  });
});

describe.each(["nginx", "caddy"])("%s on a public route", (name) => {
  it("passes the request without a key and lets no spoofed identity through", async () => {
    const response = await fetch(`${peers[name]?.url}/public/page`, {
      headers: { "X-Portcullis-Key-Id": "key_spoofed" },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).headers["x-portcullis-key-id"] ?? "").toBe("");
  });
});

describe("nginx with an allowed request", () => {
  it("passes Portcullis' rate-limit headers on to the client", async () => {
    const { key } = await newKey({ limits: { minute: 5 } });
    const response = await fetch(`${peers.nginx?.url}/api/products`, { headers: { "X-API-Key": key } });
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit-policy")).toBe('"minute";q=5;w=60');
    expect(response.headers.get("ratelimit")).toMatch(/^"minute";r=4;t=\d+$/);
  });
});

describe("nginx with denials that are not 401", () => {
  it("gets 403 (not 500) for a route Portcullis does not know, with the real code and status", async () => {
    const response = await fetch(`${peers.nginx?.url}/nowhere`);
    expect(response.status).toBe(403);
    expect(response.headers.get("x-portcullis-code")).toBe("route_not_found");
    expect(response.headers.get("x-portcullis-status")).toBe("404");
  });

  it("gets 403 with rate_limited and Retry-After once a key is over its limit", async () => {
    const { key } = await newKey({ limits: { minute: 1 } });
    expect((await fetch(`${peers.nginx?.url}/api/products`, { headers: { "X-API-Key": key } })).status).toBe(
      200,
    );
    const limited = await fetch(`${peers.nginx?.url}/api/products`, { headers: { "X-API-Key": key } });
    expect(limited.status).toBe(403);
    expect(limited.headers.get("x-portcullis-code")).toBe("rate_limited");
    expect(limited.headers.get("x-portcullis-status")).toBe("429");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("caddy with a rate-limited key", () => {
  it("passes Portcullis' 429 with its headers to the client", async () => {
    const { key } = await newKey({ limits: { minute: 1 } });
    expect((await fetch(`${peers.caddy?.url}/api/products`, { headers: { "X-API-Key": key } })).status).toBe(
      200,
    );
    const limited = await fetch(`${peers.caddy?.url}/api/products`, { headers: { "X-API-Key": key } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-portcullis-code")).toBe("rate_limited");
    expect(limited.headers.get("ratelimit")).toMatch(/^"minute";r=0;t=\d+$/);
  });
});
