/**
 * Forward-auth (docs/headers.md) with the headers each proxy sends: Traefik and Caddy
 * (`X-Forwarded-*`, `?proxy=traefik|caddy`), nginx (`X-Original-*` and `X-Real-IP`,
 * `?proxy=nginx`) and Envoy (the original path after `P/v1/authorize`). Spoofed headers of
 * other rows are in test/security/forward-auth-spoofing.test.ts.
 */
import { exports } from "cloudflare:workers";
import { verify } from "hono/jwt";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { IDENTITY_HEADERS } from "../../src/edge/identity";
import { SESSION_AUDIENCE, SESSION_ISSUER, SESSION_SECRET, SIGNING_SECRET } from "../fixtures/policy";
import { admin, createKey, createWorkspace, expectProblem } from "./helpers";

const AUTHORIZE = "http://portcullis.internal/_portcullis/v1/authorize";

function ask(url: string, headers: Record<string, string>, method = "GET") {
  return exports.default.fetch(new Request(url, { method, headers }));
}

function traefik(uri: string, key: string | null, extra: Record<string, string> = {}, proxy = "traefik") {
  return ask(`${AUTHORIZE}?proxy=${proxy}`, {
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.com",
    "X-Forwarded-Uri": uri,
    "X-Forwarded-For": "203.0.113.7",
    ...(key ? { Authorization: `Bearer ${key}` } : {}),
    ...extra,
  });
}

describe("forward-auth", () => {
  it.each(["traefik", "caddy"])(
    "%s: answers 200 with the identity headers and a verifiable assertion",
    async (proxy) => {
      const ws = await createWorkspace();
      const { key, id } = await createKey(ws, { ownerId: "o-1" });
      const response = await traefik("/api/products?page=1", key, {}, proxy);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
      expect(Object.fromEntries(response.headers)).toMatchObject({
        "x-portcullis-key-id": id,
        "x-portcullis-workspace-id": ws,
        "x-portcullis-key-type": "server",
        "x-portcullis-owner-id": "o-1",
        "x-portcullis-permissions": "products:read products:write",
      });
      const claims = await verify(
        response.headers.get("x-portcullis-assertion") ?? "",
        SIGNING_SECRET,
        "HS256",
      );
      expect(claims).toMatchObject({
        iss: "portcullis",
        sub: id,
        keyId: id,
        method: "GET",
        path: "/api/products",
      });
      expect((claims.exp as number) - (claims.iat as number)).toBe(60);
    },
  );

  it("decides on the forwarded method and URI, not its own", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: ["products:read"] });
    const post = await traefik("/api/products", key, { "X-Forwarded-Method": "POST" });
    await expectProblem(post, 403, "insufficient_permissions");
    expect((await traefik("/api/products", key)).status).toBe(200);
    await expectProblem(await traefik("/nowhere", key), 404, "route_not_found");
  });

  it("carries X-Portcullis-Code on every denial", async () => {
    const cases: [Response, number, string][] = [
      [await traefik("/api/products", null), 401, "missing_credential"],
      [await traefik("/api/products", "sk_test_nope"), 401, "malformed_key"],
      [await traefik("/public/..%2fapi", null), 400, "bad_request"],
    ];
    for (const [response, status, code] of cases) await expectProblem(response, status, code);
  });

  it("applies requireHttps to the reported scheme and host", async () => {
    const plain = await traefik("/public/x", null, { "X-Forwarded-Proto": "http" });
    await expectProblem(plain, 403, "https_required");
    const local = await traefik("/public/x", null, {
      "X-Forwarded-Proto": "http",
      "X-Forwarded-Host": "localhost:8080",
    });
    expect(local.status).toBe(200);
  });

  it("takes the client IP from the last X-Forwarded-For entry (Traefik, Caddy)", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { ipAllowlist: ["10.9.0.0/16"] });
    expect((await traefik("/api/products", key, { "X-Forwarded-For": "1.2.3.4, 10.9.1.1" })).status).toBe(
      200,
    );
    await expectProblem(
      await traefik("/api/products", key, { "X-Forwarded-For": "10.9.1.1, 1.2.3.4" }),
      403,
      "ip_not_allowed",
    );
  });

  it("nginx: reads X-Original-* and X-Real-IP; every denial but a 401 is a 403", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"], ipAllowlist: ["10.9.0.0/16"] });
    const nginx = (uri: string, method: string, credential: string | null, ip = "10.9.3.3") =>
      ask(`${AUTHORIZE}?proxy=nginx`, {
        "X-Original-URI": uri,
        "X-Original-Method": method,
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "127.0.0.1",
        "X-Real-IP": ip,
        ...(credential ? { "X-API-Key": credential } : {}),
      });
    expect((await nginx("/api/products", "GET", key)).headers.get("x-portcullis-key-id")).toBe(id);
    await expectProblem(await nginx("/api/products", "GET", key, "1.2.3.4"), 403, "ip_not_allowed");
    await expectProblem(await nginx("/api/products", "POST", key), 403, "insufficient_permissions");
    await expectProblem(await nginx("/nowhere", "GET", key), 403, "route_not_found");
    await expectProblem(await nginx("/a%2fb", "GET", key), 403, "bad_request");
    const missing = await nginx("/api/products", "GET", null);
    await expectProblem(missing, 401, "missing_credential");
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="portcullis"');
    await admin("POST", `/keys/${id}/revoke`);
    await expectProblem(await nginx("/api/products", "GET", key), 401, "key_revoked");
  });

  it("Envoy: the original path follows P/v1/authorize, with the original method", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"] });
    const envoy = (path: string, method: string) =>
      ask(
        `${AUTHORIZE}${path}`,
        { Authorization: `Bearer ${key}`, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7" },
        method,
      );
    const allowed = await envoy("/api/products?x=1", "GET");
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-portcullis-key-id")).toBe(id);
    await expectProblem(await envoy("/api/products", "POST"), 403, "insufficient_permissions");
    await expectProblem(await envoy("/public/..%2fapi/products", "GET"), 400, "bad_request");
  });

  it("allows public routes, with every identity header present and empty", async () => {
    const response = await traefik("/public/status", null);
    expect(response.status).toBe(200);
    for (const name of IDENTITY_HEADERS) expect(response.headers.get(name), name).toBe("");
  });

  it("sends every identity header on an allowed key, empty where it does not apply, and the rate-limit headers", async () => {
    const ws = await createWorkspace("limited", "burst");
    const { key } = await createKey(ws);
    const response = await traefik("/api/products", key);
    expect(response.status).toBe(200);
    for (const name of IDENTITY_HEADERS) expect(response.headers.has(name), name).toBe(true);
    expect(response.headers.get("x-portcullis-owner-id")).toBe("");
    expect(response.headers.get("x-portcullis-subject")).toBe("");
    expect(response.headers.get("x-portcullis-plan")).toBe("burst");
    expect(response.headers.get("x-portcullis-key-type")).toBe("server");
    expect(response.headers.get("ratelimit-policy")).toBe(
      '"second";q=1;w=1, "minute";q=10;w=60, "day";q=300;w=86400',
    );
    expect(response.headers.get("ratelimit")).toMatch(/^"second";r=0;t=\d+$/);
  });

  it("sends a session's subject, with the key headers empty", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ permissions: "dashboard:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user_42")
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(SESSION_SECRET));
    const response = await traefik("/dashboard/home", token);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-portcullis-subject")).toBe("user_42");
    expect(response.headers.get("x-portcullis-key-id")).toBe("");
    expect(response.headers.get("x-portcullis-workspace-id")).toBe("");
    expect(response.headers.get("x-portcullis-permissions")).toBe("dashboard:read");
  });
});
