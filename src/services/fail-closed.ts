/**
 * A storage dependency (D1 or a key's Durable Object) that fails denies the request with 503
 * `unavailable`: nothing is ever allowed, or changed, because a dependency failed.
 */

import { logEvent } from "../log";
import { unavailable } from "../refusals";

export async function denyOnFailure<T>(dependency: Promise<T>): Promise<T> {
  try {
    return await dependency;
  } catch (error) {
    logEvent("error", "dependency_failed", { error: String(error) });
    throw unavailable();
  }
}
