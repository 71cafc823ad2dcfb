/**
 * How a decision becomes HTTP on the proxy and forward-auth surfaces: a denial is the problem
 * of its row with the usage headers (and the plan's `quotaStatus` for a spent quota); an
 * allowed request carries the usage headers too.
 */
import { ApiError, statusOf } from "../http/errors";
import { usageHeaders } from "../limits/headers";
import type { Access, Denied } from "../services/authorize-request";

export function denialError(access: Denied, nginxCompat = false): ApiError {
  const decision = access.decision;
  let status = access.code === "quota_exceeded" && decision ? decision.quotaStatus : statusOf(access.code);
  // nginx's auth_request turns any status but 2xx, 401 and 403 into a 500.
  if (nginxCompat && status !== 401) status = 403;
  return new ApiError(access.code, access.detail, {
    status,
    headers: decision ? usageHeaders(decision.usage) : {},
  });
}

export function allowedHeaders(access: Access): Record<string, string> {
  return access.decision ? usageHeaders(access.decision.usage) : {};
}
