/**
 * The one fail-closed wrapper: a storage dependency (D1 or a key's Durable Object) that fails
 * denies with 503 `unavailable` and is logged. Nothing is ever allowed, or changed, because a
 * dependency failed.
 */
import { logEvent } from "./log";
import { unavailable } from "./refusals";

export async function failClosed<T>(dependency: Promise<T>): Promise<T> {
  try {
    return await dependency;
  } catch (error) {
    logEvent("error", "dependency_failed", { error: String(error) });
    throw unavailable();
  }
}
