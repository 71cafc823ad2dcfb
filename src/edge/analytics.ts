/**
 * The optional Analytics Engine dataset (docs/analytics.md): one data point per decision, on the
 * proxy, forward-auth, self and verify surfaces. Off unless the deployment binds `ANALYTICS`.
 *
 * `writeDataPoint` is synchronous and returns at once (the runtime sends the point after the
 * answer), so a point never delays a request; a binding that throws (past 250 points in one
 * invocation, say) fails no request either: the point is lost and the isolate logs it once.
 * A point holds ids, codes and timings only: never a key, its hash or a header value.
 */
import { logEvent } from "../log";
import { Refusal } from "../refusals";
import type { DecidedBy } from "../services/verify-key";

/** Where the decision was asked for. */
export type DecisionSurface = "proxy" | "authorize" | "self" | "verify";

export interface DecisionPoint {
  surface: DecisionSurface;
  /** The key's workspace; null when no key was found. The dataset's index (its sampling key). */
  workspaceId: string | null;
  keyId: string | null;
  keyType: string | null;
  /** The policy route's pattern (never the path itself); null when none matched. */
  route: string | null;
  method: string;
  /** `valid` or the refusal's code (docs/decisions.md). */
  code: string;
  /** What read the key's state; null when nothing did (no key found, a session, a public route). */
  decidedBy: DecidedBy | null;
  /** The status answered. */
  status: number;
  /** From the request's arrival to its decision, ms (I/O time: the Workers clock stands still while code runs). */
  decisionMs: number;
  /** Until the origin's answer (its status and headers), ms; null when not forwarded. */
  originMs: number | null;
}

/** The point as written: docs/analytics.md lists each blob and double by position. */
function dataPoint(point: DecisionPoint): AnalyticsEngineDataPoint {
  return {
    indexes: [point.workspaceId ?? ""],
    blobs: [
      point.surface,
      point.code,
      point.keyId ?? "",
      point.keyType ?? "",
      point.route ?? "",
      point.method,
      point.decidedBy ?? "none",
    ],
    doubles: [point.status, point.decisionMs, point.originMs ?? 0, point.originMs === null ? 0 : 1],
  };
}

let failureLogged = false;

/** Writes `point` to `dataset` if there is one; never throws, never waits. */
export function recordDecision(dataset: AnalyticsEngineDataset | undefined, point: DecisionPoint): void {
  if (!dataset) return;
  try {
    dataset.writeDataPoint(dataPoint(point));
  } catch (error) {
    if (failureLogged) return;
    failureLogged = true;
    logEvent("warn", "analytics_failed", { error: String(error) });
  }
}

/** The outcome of a decision that threw (a dependency failed): its refusal, else `internal`. */
export function failureOf(error: unknown): { code: string; status: number } {
  return error instanceof Refusal
    ? { code: error.code, status: error.status }
    : { code: "internal", status: 500 };
}
