/**
 * The gateway in front of an origin: rows 1 and 8-10 of docs/decisions.md, path safety, credential
 * sources, forwarding details, decision-only mode and origin failures.
 */
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { admin, call, createKey, createWorkspace, direct, expectProblem, type Json } from "./helpers";

async function echoOf(response: Response): Promise<Json> {
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

function withPolicy(fields: Json): { POLICY: string } {
  return { POLICY: JSON.stringify({ ...TEST_POLICY, ...fields }) };
}

describe("permissions and key types", () => {
  it("row 10: requires every permission of the route, with wildcards", async () => {
    const ws = await createWorkspace();
    const reader = await createKey(ws, { permissions: ["products:read"] });
    await expectProblem(
      await call("/api/products", { key: reader.key, method: "POST" }),
      403,
      "insufficient_permissions",
    );
    expect((await call("/api/products", { key: reader.key })).status).toBe(200);
    const wildcard = await createKey(ws, { permissions: ["products:*"] });
    expect((await call("/api/products", { key: wildcard.key, method: "POST" })).status).toBe(200);
    const star = await createKey(ws, { permissions: ["*"] });
    expect((await call("/api/reports", { key: star.key })).status).toBe(200);
  });

  it("row 10: anyPermissions needs one of them", async () => {
    const ws = await createWorkspace();
    const policy = withPolicy({ routes: [{ path: "/either", anyPermissions: ["a:read", "b:read"] }] });
    const neither = await createKey(ws, { permissions: ["c:read"] });
    const one = await createKey(ws, { permissions: ["b:read"] });
    const request = (key: string) =>
      new Request("https://h.test/either", { headers: { Authorization: `Bearer ${key}` } });
    await expectProblem(await direct(request(neither.key), policy), 403, "insufficient_permissions");
    expect((await direct(request(one.key), policy)).status).toBe(200);
  });

  it("row 10: plan permissions count, and the key type's ceiling caps what a key holds", async () => {
    const ws = await createWorkspace();
    const onPro = await createKey(ws, { plan: "pro", permissions: [] });
    expect((await call("/api/reports", { key: onPro.key })).status).toBe(200);
    const onFree = await createKey(ws, { plan: "free", permissions: [] });
    await expectProblem(await call("/api/reports", { key: onFree.key }), 403, "insufficient_permissions");
    // A browser key on the pro plan still cannot exceed its type's ceiling (products:read).
    const browser = await createKey(ws, { type: "browser", plan: "pro" });
    await expectProblem(await call("/api/reports", { key: browser.key }), 403, "insufficient_permissions");
  });

  it("row 9: wrong key type, and admin keys are never accepted on protected routes", async () => {
    const ws = await createWorkspace();
    const browser = await createKey(ws, { type: "browser" });
    await expectProblem(await call("/api/server-only/x", { key: browser.key }), 403, "wrong_key_type");
    const server = await createKey(ws);
    expect((await call("/api/server-only/x", { key: server.key })).status).toBe(200);
    const adminKey = await createKey(ws, { type: "admin", permissions: ["*"] });
    await expectProblem(await call("/api/anything", { key: adminKey.key }), 403, "wrong_key_type");
  });

  it("row 8: the client IP (CF-Connecting-IP) must be in the key's allowlist", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"] });
    const from = (ip?: string) =>
      call("/api/products", { key, headers: ip ? { "CF-Connecting-IP": ip } : {} });
    expect((await from("203.0.113.9")).status).toBe(200);
    expect((await from("2001:db8::5")).status).toBe(200);
    await expectProblem(await from("198.51.100.1"), 403, "ip_not_allowed");
    await expectProblem(await from(), 403, "ip_not_allowed");
  });

  it("rows in order: a revoked key on the wrong route is key_revoked, not wrong_key_type", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { type: "browser" });
    await admin("POST", `/keys/${id}/revoke`);
    await expectProblem(await call("/api/server-only/x", { key }), 401, "key_revoked");
  });
});

describe("row 1: requireHttps", () => {
  it("refuses plain HTTP, whatever X-Forwarded-Proto says on the proxy path", async () => {
    const plain = new Request("http://api.example.test/public/x", {
      headers: { "X-Forwarded-Proto": "https" },
    });
    await expectProblem(await direct(plain), 403, "https_required");
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const keyed = new Request("http://api.example.test/api/products", {
      headers: { Authorization: `Bearer ${key}` },
    });
    await expectProblem(await direct(keyed), 403, "https_required");
  });

  it("always allows http://localhost and 127.0.0.1, and anything when requireHttps is false", async () => {
    expect((await direct(new Request("http://localhost:8787/public/x"))).status).toBe(200);
    expect((await direct(new Request("http://127.0.0.1/public/x"))).status).toBe(200);
    const relaxed = withPolicy({ requireHttps: false });
    expect((await direct(new Request("http://api.example.test/public/x"), relaxed)).status).toBe(200);
  });

  it("checks the path and the route before HTTPS", async () => {
    await expectProblem(await direct(new Request("http://api.example.test/nowhere")), 404, "route_not_found");
    await expectProblem(await direct(new Request("http://api.example.test/a%2fb")), 400, "bad_request");
  });
});

describe("path safety", () => {
  it("never lets /public/..%2fadmin reach /admin unauthenticated", async () => {
    await expectProblem(await call("/public/..%2fadmin"), 400, "bad_request");
    await expectProblem(await call("/public/..%2Fapi/products"), 400, "bad_request");
    await expectProblem(await call("/public/%2e%2e/api/products"), 401, "missing_credential");
    await expectProblem(await call("/public/../api/products"), 401, "missing_credential");
  });

  it("forwards exactly the normalised path that was matched", async () => {
    expect((await echoOf(await call("/public//a/./b/../c"))).path).toBe("/public/a/c");
    expect((await echoOf(await call("/public/%41%62"))).path).toBe("/public/Ab");
  });

  it("with allowEncodedSlashes, keeps the encoded slash inside its segment", async () => {
    const response = await direct(
      new Request("https://h.test/public/..%2fadmin"),
      withPolicy({ allowEncodedSlashes: true }),
    );
    expect((await echoOf(response)).path).toBe("/public/..%2Fadmin");
  });

  it("refuses NUL and backslashes encoded in a segment", async () => {
    await expectProblem(await call("/public/a%00b"), 400, "bad_request");
    await expectProblem(await call("/public/a%5cb"), 400, "bad_request");
  });
});

describe("credential sources", () => {
  it("reads a query credential and removes it from the forwarded query", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const policy = withPolicy({ credentials: ["bearer", "query:api_key"] });
    const response = await direct(new Request(`https://h.test/api/products?a=1&api_key=${key}&b=2`), policy);
    const echo = await echoOf(response);
    expect(echo.query).toBe("a=1&b=2");
    expect(JSON.stringify(echo)).not.toContain(key);
  });

  it("answers 400 ambiguous_credentials for two different credentials", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws);
    const b = await createKey(ws);
    const response = await call("/api/products", { key: a.key, headers: { "X-API-Key": b.key } });
    await expectProblem(response, 400, "ambiguous_credentials");
  });

  it("uses a route's own sources instead of the policy's", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const policy = withPolicy({
      routes: [{ path: "/messages", credentials: ["x-api-key"] }, { path: "/*" }],
    });
    const bearer = { Authorization: `Bearer ${key}` };
    await expectProblem(
      await direct(new Request("https://h.test/messages", { headers: bearer }), policy),
      401,
      "missing_credential",
    );
    expect(
      (await direct(new Request("https://h.test/messages", { headers: { "X-API-Key": key } }), policy))
        .status,
    ).toBe(200);
    expect((await direct(new Request("https://h.test/other", { headers: bearer }), policy)).status).toBe(200);
  });

  it("passes the credential on when hideCredentials is false", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const request = new Request("https://h.test/api/products", {
      headers: { Authorization: `Bearer ${key}` },
    });
    const echo = await echoOf(await direct(request, withPolicy({ hideCredentials: false })));
    expect(echo.headers.authorization).toBe(`Bearer ${key}`);
  });

  it("treats a two-dot bearer on a key-only route as malformed_key", async () => {
    await expectProblem(
      await call("/api/products", { key: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }),
      401,
      "malformed_key",
    );
  });
});

describe("forwarding", () => {
  it("removes every inbound X-Portcullis-* header, on public routes too", async () => {
    const spoofed = {
      "X-Portcullis-Key-Id": "key_fake",
      "x-portcullis-permissions": "*",
      "X-Portcullis-Assertion": "x.y.z",
    };
    const echo = await echoOf(await call("/public/x", { headers: spoofed }));
    expect(Object.keys(echo.headers).filter((name) => name.startsWith("x-portcullis-"))).toEqual([]);
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const keyed = await echoOf(await call("/api/products", { key, headers: spoofed }));
    expect(keyed.headers["x-portcullis-key-id"]).toBe(id);
    expect(keyed.headers["x-portcullis-permissions"]).toBe("products:read products:write");
    expect(keyed.headers["x-portcullis-assertion"]).not.toBe("x.y.z");
  });

  it("sets X-Forwarded-For from CF-Connecting-IP, and the plan header when the key has a plan", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { plan: "pro" });
    const echo = await echoOf(
      await call("/api/products", { key, headers: { "CF-Connecting-IP": "203.0.113.5" } }),
    );
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.5");
    expect(echo.headers["x-portcullis-plan"]).toBe("pro");
  });

  it("answers 502 origin_unreachable when the origin cannot be reached", async () => {
    const response = await direct(
      new Request("https://h.test/public/x"),
      withPolicy({ origin: "http://127.0.0.1:9" }),
    );
    await expectProblem(response, 502, "origin_unreachable");
  });

  it("in decision-only mode answers an allowed request with the verify body", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const decisionOnly = { POLICY: JSON.stringify({ ...TEST_POLICY, origin: undefined }) };
    const response = await direct(
      new Request("https://h.test/api/products", { headers: { Authorization: `Bearer ${key}` } }),
      decisionOnly,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      valid: true,
      code: "valid",
      keyId: id,
      workspaceId: ws,
      type: "server",
    });
    await expectProblem(
      await direct(new Request("https://h.test/api/products"), decisionOnly),
      401,
      "missing_credential",
    );
  });
});

describe("unmatched", () => {
  it("allow-authenticated needs a valid key, public needs none", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const authenticated = withPolicy({ routes: [], unmatched: "allow-authenticated" });
    await expectProblem(
      await direct(new Request("https://h.test/any"), authenticated),
      401,
      "missing_credential",
    );
    const keyed = new Request("https://h.test/any", { headers: { Authorization: `Bearer ${key}` } });
    expect((await direct(keyed, authenticated)).status).toBe(200);
    expect(
      (await direct(new Request("https://h.test/any"), withPolicy({ routes: [], unmatched: "public" })))
        .status,
    ).toBe(200);
  });
});
