/**
 * The headers a client of a keyed request sees (docs/consistency.md): `RateLimit-Policy` for every window
 * that applies (an owner's named `owner-<window>`) and `RateLimit` for the tightest (draft-ietf-httpapi-ratelimit-headers-10),
 * `X-Credits-Remaining` for a key with credits, and `Retry-After` on refusals.
 */
import { tightest, type WindowStatus, windowName } from "./windows";

export interface UsageReport {
  windows: WindowStatus[];
  credits: { remaining: number } | null;
  retryAfter: number | null;
}

export function usageHeaders(usage: UsageReport): Record<string, string> {
  const headers: Record<string, string> = {};
  if (usage.windows.length > 0) {
    headers["RateLimit-Policy"] = usage.windows
      .map((w) => `"${windowName(w)}";q=${w.limit};w=${w.seconds}`)
      .join(", ");
    const tight = tightest(usage.windows);
    if (tight) headers.RateLimit = `"${windowName(tight)}";r=${tight.remaining};t=${tight.reset}`;
  }
  if (usage.credits) headers["X-Credits-Remaining"] = String(usage.credits.remaining);
  if (usage.retryAfter !== null) headers["Retry-After"] = String(Math.max(1, usage.retryAfter));
  return headers;
}
