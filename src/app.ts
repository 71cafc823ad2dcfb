/**
 * Composes the Worker: one Hono app per policy, built once per isolate.
 *
 *   P/health, P/admin/..., P/v1/verify,
 *   P/v1/leaks/github, P/console/            Portcullis' own surfaces
 *   every other path                         the protected API (routes/proxy.ts)
 *
 * An invalid policy yields an app that answers every request 500 `policy_invalid`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { adminApp } from "./admin/app";
import { registerConsole } from "./admin/console";
import { registerVerifyRoute } from "./admin/verify";
import type { AppEnv } from "./edge/app-env";
import { corsMiddleware } from "./edge/cors";
import { type FactsReader, keyAuth } from "./edge/key-auth";
import { directFacts } from "./edge/request-facts";
import { onError } from "./http/on-error";
import { requestLog } from "./http/request-log";
import { validationHook } from "./http/validation-hook";
import { type CompiledPolicy, compilePolicy } from "./policy/compiled";
import { loadPolicy, type PolicyProblem } from "./policy/load";
import { Refusal } from "./refusals";
import { authorizeHandler, nginxStatuses, reportedFacts } from "./routes/authorize";
import { health } from "./routes/health";
import { registerLeakRoute } from "./routes/leaks";
import { proxyHandler } from "./routes/proxy";
import { selfHandler } from "./routes/self";

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
    keyAuth(compiled, reportedFacts(compiled)),
    authorizeHandler,
  ] as const;
  surfaces.all("/v1/authorize", ...forwardAuth);
  surfaces.all("/v1/authorize/*", ...forwardAuth);
  surfaces.get("/v1/self", keyAuth(compiled, requestItself, "self"), selfHandler);
  registerVerifyRoute(surfaces, compiled);
  registerLeakRoute(surfaces, compiled);
  surfaces.route("/admin", adminApp(compiled));
  registerConsole(surfaces, base);
  surfaces.all("*", () => {
    throw new Refusal("not_found", `No Portcullis endpoint at this path under ${base}.`);
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
