/**
 * One structured JSON line per request (docs/consistency.md, Logs): request id, route, decision
 * code, key id, status and duration. Never the credential, the query string or a header value.
 * Failures, admin changes and every other answer are logged; allowed requests at the policy's
 * `logging.allowedSampleRate` (default 1 in 100: exact counts are in usage, a line is a cost);
 * denials under the flood rule of `denialAdmitted` (10 lines a minute per code and client IP, the
 * rest counted). Every other line written while the request runs carries its id too (`withRequestId`).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../edge/app-env";
import { denialAdmitted, logEvent, withRequestId } from "../log";
import { DEFAULT_ALLOWED_SAMPLE_RATE } from "../policy/schema";
import { REFUSALS, type RefusalCode, statusOf } from "../refusals";

/** A failure: a 5xx, or a failure's code answered with another status (nginx hears 403). */
function isFailure(decision: string | null, status: number): boolean {
  if (status >= 500) return true;
  return decision !== null && Object.hasOwn(REFUSALS, decision) && statusOf(decision as RefusalCode) >= 500;
}

/** The client a denial is tallied under: the original client's IP as decided on, else the caller's. */
function clientIpOf(c: Context<AppEnv>): string | null {
  return c.get("facts")?.clientIp ?? c.req.header("cf-connecting-ip") ?? null;
}

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    await withRequestId(c.get("requestId"), next);
    const decision = c.get("decision") ?? null;
    const { status } = c.res;
    const allowed = decision === "valid" && status < 400;
    const rate = c.get("policy")?.logging.allowedSampleRate ?? DEFAULT_ALLOWED_SAMPLE_RATE;
    // `random() < rate`: 1 logs every one, 0 none. Nothing is allocated for a line not written.
    if (allowed && Math.random() >= rate) return;
    const failure = isFailure(decision, status);
    if (!allowed && !failure && status >= 400 && !denialAdmitted(decision ?? String(status), clientIpOf(c))) {
      return;
    }
    withRequestId(c.get("requestId"), () =>
      logEvent(failure ? "error" : "info", "request", {
        method: c.req.method,
        path: c.req.path,
        route: c.get("route") ?? null,
        decision,
        keyId: c.get("keyId") ?? null,
        status,
        durationMs: Date.now() - started,
      }),
    );
  };
}
