/**
 * How a decision becomes HTTP on the proxy and forward-auth surfaces: a denial is the problem
 * of its row with the usage headers (and the plan's `quotaStatus` for a spent quota); an
 * allowed request carries the usage headers too.
 */

import { usageHeaders } from "../limits/headers";
import { Refusal, statusOf } from "../refusals";
import type { Access, Denied } from "./access";

export function denialError(access: Denied): Refusal {
  const decision = access.decision;
  const status = access.code === "quota_exceeded" && decision ? decision.quotaStatus : statusOf(access.code);
  return new Refusal(access.code, access.detail, {
    status,
    headers: decision ? usageHeaders(decision.usage) : {},
  });
}

export function allowedHeaders(access: Access): Record<string, string> {
  return access.kind === "key" ? usageHeaders(access.decision.usage) : {};
}
