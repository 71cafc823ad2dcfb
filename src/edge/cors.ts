/**
 * CORS for browser keys (docs/policy.md), with Hono's CORS middleware: with `cors` set, Portcullis
 * answers preflights (OPTIONS with `Access-Control-Request-Method`) for allowed origins itself
 * and adds the CORS headers to every response it makes for them, denials included, so that a
 * browser can read a 401. Without `cors`, preflights go to the origin unauthenticated. A request
 * carrying a method override is never a preflight.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { Policy } from "../policy/schema";
import type { AppEnv } from "./app-env";
import { carriesMethodOverride } from "./method-override";

/** Response headers a browser script may read. */
const EXPOSED_HEADERS = [
  "X-Request-Id",
  "X-Portcullis-Code",
  "WWW-Authenticate",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "X-Credits-Remaining",
];

function isPreflight(request: Request): boolean {
  return (
    request.headers.has("access-control-request-method") &&
    !carriesMethodOverride(request.headers, new URL(request.url).searchParams)
  );
}

/** The CORS middleware of the policy, or null when `cors` is absent. */
export function corsMiddleware(policy: Policy): MiddlewareHandler<AppEnv> | null {
  const config = policy.cors;
  if (!config) return null;
  const handler = cors({
    origin: config.origins,
    exposeHeaders: EXPOSED_HEADERS,
    ...(config.methods && { allowMethods: config.methods }),
    ...(config.headers && { allowHeaders: config.headers }),
    ...(config.maxAgeSeconds !== undefined && { maxAge: config.maxAgeSeconds }),
  });
  return async function browserCors(c, next) {
    if (!c.req.header("origin")) return next();
    // Hono answers every OPTIONS as a preflight; a plain OPTIONS request is the origin's, and so
    // is one carrying a method override, which an origin may run as that method (docs/policy.md).
    if (c.req.method === "OPTIONS" && !isPreflight(c.req.raw)) return next();
    return handler(c, next);
  };
}
