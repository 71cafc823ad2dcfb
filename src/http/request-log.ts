/**
 * One structured JSON line per request (SPEC 8): request id, route, decision code, key id,
 * status and duration. Never the credential, the query string or a header value.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    await next();
    console.log(
      JSON.stringify({
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        route: c.get("route") ?? null,
        decision: c.get("decision") ?? null,
        keyId: c.get("keyId") ?? null,
        status: c.res.status,
        durationMs: Date.now() - started,
      }),
    );
  };
}
