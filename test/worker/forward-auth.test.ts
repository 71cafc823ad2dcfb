/**
 * Forward-auth (SPEC 5) with the headers each proxy sends: Traefik and Caddy
 * (`X-Forwarded-*`), nginx (`X-Original-*`, `?compat=nginx`) and Envoy (path after
 * `P/v1/authorize`).
 */
import { exports } from "cloudflare:workers";
import { verify } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { IDENTITY_HEADERS } from "../../src/gateway/identity";
import { SIGNING_SECRET } from "../fixtures/policy";
import { admin, createKey, createWorkspace, expectProblem } from "./helpers";

const AUTHORIZE = "http://portcullis.internal/_portcullis/v1/authorize";

function ask(url: string, headers: Record<string, string>, method = "GET") {
  return exports.default.fetch(new Request(url, { method, headers }));
}

function traefik(uri: string, key: string | null, extra: Record<string, string> = {}) {
  return ask(AUTHORIZE, {
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
  it("answers 200 with the identity headers and a verifiable assertion (Traefik, Caddy)", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { ownerId: "o-1" });
    const response = await traefik("/api/products?page=1", key);
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
  });

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

  it("applies requireHttps to X-Forwarded-Proto and Host", async () => {
    const plain = await traefik("/public/x", null, { "X-Forwarded-Proto": "http" });
    await expectProblem(plain, 403, "https_required");
    const local = await traefik("/public/x", null, {
      "X-Forwarded-Proto": "http",
      "X-Forwarded-Host": "localhost:8080",
    });
    expect(local.status).toBe(200);
  });

  it("takes the client IP from X-Real-IP, else the last X-Forwarded-For entry", async () => {
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
    expect(
      (await traefik("/api/products", key, { "X-Real-IP": "10.9.3.3", "X-Forwarded-For": "1.2.3.4" })).status,
    ).toBe(200);
  });

  it("nginx: reads X-Original-*, and with ?compat=nginx turns every non-401 denial into 403", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"] });
    const nginx = (uri: string, method: string, credential: string | null, compat = true) =>
      ask(`${AUTHORIZE}${compat ? "?compat=nginx" : ""}`, {
        "X-Original-URI": uri,
        "X-Original-Method": method,
        "X-Forwarded-Host": "127.0.0.1",
        ...(credential ? { "X-API-Key": credential } : {}),
      });
    expect((await nginx("/api/products", "GET", key)).headers.get("x-portcullis-key-id")).toBe(id);
    await expectProblem(await nginx("/api/products", "POST", key), 403, "insufficient_permissions");
    await expectProblem(await nginx("/nowhere", "GET", key), 403, "route_not_found");
    await expectProblem(await nginx("/nowhere", "GET", key, false), 404, "route_not_found");
    await expectProblem(await nginx("/a%2fb", "GET", key), 403, "bad_request");
    await expectProblem(await nginx("/api/products", "GET", null), 401, "missing_credential");
    await admin("POST", `/keys/${id}/revoke`);
    await expectProblem(await nginx("/api/products", "GET", key), 401, "key_revoked");
  });

  it("Envoy: the original path follows P/v1/authorize, with the original method", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"] });
    const envoy = (path: string, method: string) =>
      ask(`${AUTHORIZE}${path}`, { Authorization: `Bearer ${key}`, "X-Forwarded-Proto": "https" }, method);
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

  it("sends every identity header on an allowed key, empty where it does not apply", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await traefik("/api/products", key);
    expect(response.headers.get("x-portcullis-owner-id")).toBe("");
    expect(response.headers.get("x-portcullis-plan")).toBe("");
    expect(response.headers.get("x-portcullis-key-type")).toBe("server");
  });
});
