/**
 * Method overrides (docs/policy.md): an origin may honour `X-HTTP-Method-Override`, `X-HTTP-Method`,
 * `X-Method-Override` or `_method`, so a request carrying one passes only if both its own
 * method and the override pass; it is counted once, is never a CORS preflight, and the
 * assertion names the override.
 */
import { exports } from "cloudflare:workers";
import { verify } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/policy/load";
import { compileRoutes, matchRoute } from "../../src/policy/routes";
import { SIGNING_SECRET, TEST_POLICY } from "../fixtures/policy";
import { admin, call, createKey, createWorkspace, direct, expectProblem, type Json } from "../worker/helpers";

const AUTHORIZE = "http://portcullis.internal/_portcullis/v1/authorize?proxy=traefik";

/** GET /api/items is public, DELETE needs a permission; POST /api/jobs costs more than GET. */
const OVERRIDE_POLICY = {
  POLICY: JSON.stringify({
    ...TEST_POLICY,
    routes: [
      { path: "/api/items", methods: ["GET"], public: true },
      { path: "/api/items", methods: ["DELETE"], permissions: ["items:delete"] },
      { path: "/api/jobs", methods: ["GET"], permissions: ["jobs:read"], cost: 1 },
      { path: "/api/jobs", methods: ["POST"], permissions: ["jobs:write"], cost: 5 },
      { path: "/api/writes", methods: ["POST"] },
    ],
  }),
};

function request(path: string, init: RequestInit & { key?: string } = {}): Request {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("Authorization", `Bearer ${init.key}`);
  return new Request(`https://h.test${path}`, { ...init, headers });
}

describe("an override must pass as well as the request's own method", () => {
  it("refuses an override the key may not use, from each of the four sources", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: ["products:read"] });
    expect((await call("/api/products", { key })).status).toBe(200);
    for (const name of ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"]) {
      const response = await call("/api/products", { key, headers: { [name]: "POST" } });
      await expectProblem(response, 403, "insufficient_permissions");
    }
    for (const query of ["_method=POST", "_method=post", "%5Fmethod=Post"]) {
      await expectProblem(await call(`/api/products?${query}`, { key }), 403, "insufficient_permissions");
    }
  });

  it("needs a credential when a public method carries an override to a protected one", async () => {
    const overridden = request("/api/items", { headers: { "X-HTTP-Method-Override": "DELETE" } });
    await expectProblem(await direct(overridden, OVERRIDE_POLICY), 401, "missing_credential");
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: ["items:delete"] });
    const allowed = request("/api/items", { key, headers: { "X-HTTP-Method-Override": "DELETE" } });
    expect((await direct(allowed, OVERRIDE_POLICY)).status).toBe(200);
  });

  it("answers the override's denial when only it fails, the own method's when both fail", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    // Own POST passes; the GET override has no route.
    const overrideFails = request("/api/writes", {
      method: "POST",
      key,
      headers: { "X-HTTP-Method": "GET" },
    });
    await expectProblem(await direct(overrideFails, OVERRIDE_POLICY), 404, "route_not_found");
    // Own POST lacks a credential, the GET override has no route: the own denial is answered.
    const bothFail = request("/api/writes", { method: "POST", headers: { "X-HTTP-Method": "GET" } });
    await expectProblem(await direct(bothFail, OVERRIDE_POLICY), 401, "missing_credential");
    // Own GET has no route, the POST override would pass.
    const ownFails = request("/api/writes", { key, headers: { "X-HTTP-Method": "POST" } });
    await expectProblem(await direct(ownFails, OVERRIDE_POLICY), 404, "route_not_found");
  });

  it("checks the override on forward-auth too", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: ["products:read"] });
    const ask = (extra: Record<string, string>) =>
      exports.default.fetch(
        new Request(AUTHORIZE, {
          headers: {
            "X-Forwarded-Method": "GET",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "api.example.test",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Uri": "/api/products",
            Authorization: `Bearer ${key}`,
            ...extra,
          },
        }),
      );
    expect((await ask({})).status).toBe(200);
    await expectProblem(await ask({ "X-HTTP-Method-Override": "POST" }), 403, "insufficient_permissions");
  });
});

describe("counting", () => {
  it("counts an overridden request once, at the larger cost, and a refused one not at all", async () => {
    const ws = await createWorkspace();
    const both = await createKey(ws, {
      permissions: ["jobs:read", "jobs:write"],
      credits: { remaining: 100 },
    });
    const allowed = await direct(
      request("/api/jobs", { key: both.key, headers: { "X-HTTP-Method-Override": "POST" } }),
      OVERRIDE_POLICY,
    );
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-credits-remaining")).toBe("95");
    const reader = await createKey(ws, { permissions: ["jobs:read"], credits: { remaining: 100 } });
    const refused = await direct(request("/api/jobs?_method=POST", { key: reader.key }), OVERRIDE_POLICY);
    await expectProblem(refused, 403, "insufficient_permissions");
    expect((await admin("GET", `/keys/${reader.id}`)).json.credits.remaining).toBe(100);
  });
});

describe("ambiguous or invalid overrides", () => {
  it.each<[string, string, Record<string, string>]>([
    ["two sources disagree", "/api/products?_method=DELETE", { "X-HTTP-Method-Override": "POST" }],
    ["two headers disagree", "/api/products", { "X-HTTP-Method": "POST", "X-Method-Override": "PUT" }],
    ["a list of different methods", "/api/products", { "X-HTTP-Method-Override": "GET, POST" }],
    ["two _method parameters", "/api/products?_method=GET&_method=POST", {}],
    ["not an HTTP token", "/api/products", { "X-HTTP-Method-Override": "GET POST" }],
    ["not an HTTP token in the query", "/api/products?_method=G%22T", {}],
    ["empty", "/api/products?_method=", {}],
  ])("%s is 400", async (_, path, headers) => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    await expectProblem(await call(path, { key, headers }), 400, "bad_request");
  });

  it("accepts the same method named twice, in any case", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await call("/api/products?_method=post", {
      key,
      headers: { "X-HTTP-Method-Override": "POST, post" },
    });
    const echo = (await response.json()) as Json;
    const claims = await verify(echo.headers["x-portcullis-assertion"], SIGNING_SECRET, "HS256");
    expect(claims.method).toBe("POST");
  });
});

describe("preflights and forwarding", () => {
  const preflight = (policy: { POLICY: string }) =>
    direct(
      new Request("https://h.test/api/products", {
        method: "OPTIONS",
        headers: {
          Origin: "https://shop.example",
          "Access-Control-Request-Method": "GET",
          "X-HTTP-Method-Override": "DELETE",
        },
      }),
      policy,
    );

  it("never treats a request carrying an override as a CORS preflight", async () => {
    const withCors = {
      POLICY: JSON.stringify({ ...TEST_POLICY, cors: { origins: ["https://shop.example"] } }),
    };
    await expectProblem(await preflight(withCors), 401, "missing_credential");
    await expectProblem(await preflight({ POLICY: JSON.stringify(TEST_POLICY) }), 401, "missing_credential");
  });

  it("forwards the override unchanged and asserts it, upper-cased", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await call("/api/products?_method=post", {
      key,
      headers: { "X-HTTP-Method-Override": "post" },
    });
    const echo = (await response.json()) as Json;
    expect(echo).toMatchObject({ method: "GET", query: "_method=post" });
    expect(echo.headers["x-http-method-override"]).toBe("post");
    const claims = await verify(echo.headers["x-portcullis-assertion"], SIGNING_SECRET, "HS256");
    expect(claims.method).toBe("POST");
  });
});

describe("method case", () => {
  it("compares methods ignoring ASCII case (the Fetch API keeps `patch` lower case)", () => {
    const loaded = loadPolicy({
      keyTypes: { k: { prefix: "kk" } },
      routes: [
        { path: "/items", methods: ["PATCH"], permissions: ["items:write"] },
        { path: "/*", public: true },
      ],
    });
    if (!loaded.ok) throw new Error(loaded.message);
    const match = matchRoute(compileRoutes(loaded.policy), "patch", ["items"]);
    expect(match?.compiled.route.permissions).toEqual(["items:write"]);
  });
});
