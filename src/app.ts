/**
 * Composes the Worker: one Hono app per policy, built once per isolate.
 *
 *   P/health, P/admin/..., P/v1/verify,
 *   P/v1/leaks/github, P/console/            Portcullis' own surfaces
 *   every other path                         the protected API (routes/proxy.ts)
 *
 * Under P, a path that exists answers a method it lacks 405 with `Allow`; any other path is 404.
 * An invalid policy yields an app that answers every request 500 `policy_invalid`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import { adminApp } from "./admin/app";
import { registerConsole } from "./admin/console";
import type { AppEnv } from "./edge/app-env";
import { corsMiddleware } from "./edge/cors";
import { type FactsReader, keyAuth } from "./edge/key-auth";
import { directFacts } from "./edge/request-facts";
import { onError } from "./http/on-error";
import { requestLog } from "./http/request-log";
import { validationHook } from "./http/validation-hook";
import { type CompiledPolicy, compilePolicy } from "./policy/compiled";
import { loadPolicy, type PolicyProblem } from "./policy/load";
import { portalApi } from "./portal/api";
import { registerPortalElement } from "./portal/element-route";
import { Refusal } from "./refusals";
import { authorizeHandler, nginxStatuses, reportedFacts } from "./routes/authorize";
import { health } from "./routes/health";
import { registerLeakRoute } from "./routes/leaks";
import { proxyHandler } from "./routes/proxy";
import { selfHandler } from "./routes/self";
import { registerVerifyRoute } from "./routes/verify";

/** The proxy and self surfaces decide on the request as it arrives. */
const requestItself: FactsReader = (c) => directFacts(c.req.raw);

/** Longest inbound `X-Request-Id` that is kept (docs/admin-api.md). */
const REQUEST_ID_LIMIT = 128;

function baseApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: REQUEST_ID_LIMIT }), requestLog());
  app.onError(onError);
  return app;
}

/** The order in which `Allow` lists methods; any other method a route has comes after these. */
const ALLOW_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/**
 * The methods each path of `app` has, from the routes registered so far (`ALL` entries are
 * middleware or routes of any method, which never reach the catch-all). HEAD is served wherever
 * GET is. A request under `P` that reached no route is 405 with these in `Allow`, or 404 when
 * there are none (docs/decisions.md).
 */
function methodsOf(app: Hono<AppEnv>): (path: string) => string[] {
  const router = new TrieRouter<true>();
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === METHOD_NAME_ALL) continue;
    router.add(route.method, route.path, true);
    methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  const rank = (method: string) => {
    const index = ALLOW_ORDER.indexOf(method);
    return index === -1 ? ALLOW_ORDER.length : index;
  };
  const ordered = [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return (path) =>
    ordered.filter((method) => router.match(method === "HEAD" ? "GET" : method, path)[0].length > 0);
}

function buildApp(compiled: CompiledPolicy): Hono<AppEnv> {
  const base = compiled.policy.basePath;
  const app = baseApp();
  app.use(async (c, next) => {
    c.set("policy", compiled.policy);
    await next();
  });
  const browserCors = corsMiddleware(compiled.policy);
  if (browserCors) {
    // The protected API and the key holder's own endpoint are called from browsers.
    app.use(async (c, next) => {
      const own = c.req.path.startsWith(`${base}/`) && c.req.path !== `${base}/v1/self`;
      return own ? next() : browserCors(c, next);
    });
  }

  const surfaces = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  surfaces.get("/health", health);
  const forwardAuth = [
    nginxStatuses(compiled),
    keyAuth(compiled, reportedFacts(compiled), "authorize"),
    authorizeHandler,
  ] as const;
  surfaces.all("/v1/authorize", ...forwardAuth);
  surfaces.all("/v1/authorize/*", ...forwardAuth);
  surfaces.get("/v1/self", keyAuth(compiled, requestItself, "self"), selfHandler);
  registerVerifyRoute(surfaces, compiled);
  registerLeakRoute(surfaces, compiled);
  surfaces.route("/admin", adminApp(compiled));
  if (compiled.policy.portal) surfaces.route("/portal", portalApi(compiled));
  registerConsole(surfaces, base);
  registerPortalElement(surfaces, compiled);
  const methodsAt = methodsOf(surfaces);
  surfaces.all("*", (c) => {
    const allow = methodsAt(c.req.path.slice(base.length));
    if (allow.length === 0)
      throw new Refusal("not_found", `No Portcullis endpoint at this path under ${base}.`);
    throw new Refusal("method_not_allowed", `This path accepts ${allow.join(", ")}, not ${c.req.method}.`, {
      headers: { Allow: allow.join(", ") },
    });
  });

  app.route(base, surfaces);
  app.all("*", keyAuth(compiled, requestItself), proxyHandler(compiled));
  return app;
}

/** `detail` names the first problem; `errors` lists them all. */
function invalidPolicyApp(field: string, message: string, problems: PolicyProblem[]): Hono<AppEnv> {
  const app = baseApp();
  app.all("*", () => {
    throw new Refusal("policy_invalid", `The policy is invalid at ${field}: ${message}`, {
      errors: problems,
    });
  });
  return app;
}

let cached: { raw: unknown; app: Hono<AppEnv> } | null = null;

/** The app for this `POLICY` value; rebuilt only when the value changes. */
export function appFor(raw: unknown): Hono<AppEnv> {
  if (cached && cached.raw === raw) return cached.app;
  const loaded = loadPolicy(raw);
  const app = loaded.ok
    ? buildApp(compilePolicy(loaded.policy))
    : invalidPolicyApp(loaded.field, loaded.message, loaded.problems);
  cached = { raw, app };
  return app;
}
