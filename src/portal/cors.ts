/**
 * CORS of the portal API (docs/portal.md#cors): preflights answered and CORS headers added only
 * for `portal.origins`, the origin echoed with `Vary: Origin`; `Authorization` and
 * `Content-Type` allowed; never `Access-Control-Allow-Credentials` (the portal takes no cookie).
 * Another origin gets no CORS header at all.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../edge/app-env";
import type { Portal } from "../policy/portal";

/** Response headers a page may read. */
const EXPOSED_HEADERS = ["X-Request-Id", "X-Portcullis-Code", "WWW-Authenticate", "Retry-After"];
/** How long a browser may keep a preflight's answer, seconds. */
const MAX_AGE_SECONDS = 600;

export function portalCors(portal: Portal): MiddlewareHandler<AppEnv> {
  const allowed = new Set(portal.origins);
  const handler = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ["GET", "POST", "PATCH"],
    allowHeaders: ["Authorization", "Content-Type"],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: MAX_AGE_SECONDS,
    credentials: false,
  });
  return async function portalCors(c, next) {
    const origin = c.req.header("origin");
    if (origin === undefined || !allowed.has(origin)) {
      await next();
      // Answers differ by Origin: a cache must not hand one origin's answer to another.
      c.header("Vary", "Origin", { append: true });
      return;
    }
    return handler(c, next);
  };
}
