/**
 * One structured JSON line per request (docs/consistency.md): request id, route, decision code, key id,
 * status and duration. Never the credential, the query string or a header value. Every denial
 * and failure is logged; allowed requests at the policy's `logging.allowedSampleRate`. Every
 * other line written while the request runs carries its id too (`withRequestId`).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { logEvent, withRequestId } from "../log";

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    await withRequestId(c.get("requestId"), next);
    const decision = c.get("decision") ?? null;
    const rate = c.get("policy")?.logging.allowedSampleRate ?? 1;
    if (decision === "valid" && c.res.status < 400 && Math.random() >= rate) return;
    withRequestId(c.get("requestId"), () =>
      logEvent(c.res.status >= 500 ? "error" : "info", "request", {
        method: c.req.method,
        path: c.req.path,
        route: c.get("route") ?? null,
        decision,
        keyId: c.get("keyId") ?? null,
        status: c.res.status,
        durationMs: Date.now() - started,
      }),
    );
  };
}
