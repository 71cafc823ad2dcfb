/**
 * A method a Portcullis path does not have is 405 `method_not_allowed` with `Allow`, on every
 * route under the base path (enumerated from the app itself, so a new route is covered), without
 * credential and before any check of one; only a path that does not exist is 404.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { appFor } from "../../src/app";
import { leakBindings } from "../worker/github-reports";
import { BASE, countingDb, direct, expectProblem } from "../worker/helpers";

/** A deployment with every optional surface (leak reports) served. */
const bindings = leakBindings([]);
const POLICY = (bindings as { POLICY: string }).POLICY;
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Every route of the app with a method of its own (`ALL` entries are middleware or any-method routes). */
const routes = appFor(POLICY)
  .routes.filter((route) => route.method !== "ALL")
  .map((route) => ({ method: route.method, path: route.path }));

function patternOf(path: string): RegExp {
  const escaped = path.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/:[A-Za-z]+/g, "[^/]+").replace(/\*/g, ".*")}$`);
}

/** The methods the app serves at a concrete path: its own routes', and HEAD wherever GET is. */
function methodsAt(path: string): Set<string> {
  const methods = new Set(routes.filter((route) => patternOf(route.path).test(path)).map((r) => r.method));
  if (methods.has("GET")) methods.add("HEAD");
  return methods;
}

const concretePaths = [...new Set(routes.map((route) => route.path.replace(/:[A-Za-z]+/g, "zz9")))];

function send(method: string, path: string, db?: D1Database): Promise<Response> {
  return direct(new Request(`${BASE}${path}`, { method }), { ...bindings, ...(db && { DB: db }) });
}

describe("wrong methods on Portcullis' own paths", () => {
  it("covers the surfaces (the enumeration found them)", () => {
    for (const path of [
      "/_portcullis/health",
      "/_portcullis/v1/verify",
      "/_portcullis/v1/self",
      "/_portcullis/v1/leaks/github",
      "/_portcullis/admin/v1/keys/zz9",
      "/_portcullis/admin/v1/keys/revoke-by-value",
      "/_portcullis/console/",
    ])
      expect(concretePaths).toContain(path);
  });

  it.each(concretePaths)("%s: every method it lacks is 405 with Allow, reading nothing", async (path) => {
    const allowed = methodsAt(path);
    expect(allowed.size).toBeGreaterThan(0);
    for (const method of METHODS.filter((m) => !allowed.has(m))) {
      const counting = countingDb(env.DB);
      const response = await send(method, path, counting.db);
      const where = `${method} ${path}`;
      expect(response.status, where).toBe(405);
      expect(response.headers.get("x-portcullis-code"), where).toBe("method_not_allowed");
      expect(new Set(response.headers.get("allow")?.split(", ")), where).toEqual(allowed);
      if (method !== "HEAD") {
        const body = await expectProblem(response, 405, "method_not_allowed");
        expect(body.detail, where).toContain(method);
      }
      expect(counting.statements, where).toEqual([]);
    }
    for (const method of allowed) {
      const response = await send(method, path);
      await response.body?.cancel();
      expect(response.status, `${method} ${path}`).not.toBe(405);
    }
  });

  it("names the examples of the issue", async () => {
    for (const [method, path, allow] of [
      ["DELETE", "/_portcullis/v1/verify", "POST"],
      ["POST", "/_portcullis/health", "GET, HEAD"],
      ["PUT", "/_portcullis/v1/self", "GET, HEAD"],
      ["PUT", "/_portcullis/admin/v1/workspaces", "GET, HEAD, POST"],
      ["POST", "/_portcullis/admin/v1/keys/key_x", "GET, HEAD, PATCH, DELETE"],
    ] as const) {
      const response = await send(method, path);
      await expectProblem(response, 405, "method_not_allowed");
      expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
    }
  });

  it("keeps 404 for paths that do not exist, with any method", async () => {
    for (const path of [
      "/_portcullis/nothing",
      "/_portcullis/v1/verify/extra",
      "/_portcullis/admin/v2/keys",
    ]) {
      for (const method of METHODS.filter((m) => m !== "HEAD")) {
        const response = await send(method, path);
        await expectProblem(response, 404, "not_found");
        expect(response.headers.get("allow"), `${method} ${path}`).toBeNull();
      }
    }
  });

  it("keeps 404 for the leak path of a deployment that does not serve it", async () => {
    const response = await direct(new Request(`${BASE}/_portcullis/v1/leaks/github`, { method: "GET" }));
    await expectProblem(response, 404, "not_found");
  });

  it("leaves the protected API to the policy: a method outside its routes is not a 405", async () => {
    const response = await send("DELETE", "/api/products");
    await expectProblem(response, 401, "missing_credential");
  });
});
