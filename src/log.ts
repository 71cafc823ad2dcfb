/**
 * Structured logs (docs/consistency.md): one JSON line per event, carrying the request id of the request
 * that caused it, wherever in the code it is written. The id travels with the request through
 * `AsyncLocalStorage` (set once by `withRequestId`), so no function needs it as a parameter.
 * Never log a key, a token or a query string.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const request = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `work` with `requestId` attached to every log line written during it. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return request.run({ requestId }, work);
}

export type LogLevel = "error" | "warn" | "info";

/** Writes one log line: level, event, the current request id (if any) and `fields`. */
export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const requestId = request.getStore()?.requestId;
  const line = JSON.stringify({ level, event, ...(requestId !== undefined && { requestId }), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
