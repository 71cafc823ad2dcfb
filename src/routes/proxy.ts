/**
 * The protected API: every path outside `P`. `keyAuth` has decided; an allowed request is
 * forwarded to the origin (or, without one, answered with the decision, or by a `self` route).
 */
import type { Handler } from "hono";
import type { Access } from "../edge/access";
import { allowedHeaders } from "../edge/answer";
import type { AppEnv } from "../edge/app-env";
import { forwardToOrigin } from "../edge/forward";
import { identityFor } from "../edge/identity";
import type { CompiledPolicy } from "../policy/compiled";
import { selfResponse, verifyResponse } from "../services/verify-response";

function decisionBody(access: Access) {
  return access.kind === "key"
    ? verifyResponse("valid", access.record, access.decision)
    : verifyResponse("valid", null, null);
}

export function proxyHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const { policy } = compiled;
  return async function proxy(c) {
    const access = c.get("access");
    const facts = c.get("facts");
    const usage = allowedHeaders(access);
    if (access.route?.route.builtin === "self" && access.kind === "key") {
      return c.json(selfResponse(access.record, access.decision), 200, usage);
    }
    if (!policy.origin) return c.json(decisionBody(access), 200, usage);

    const added: Record<string, string> = {
      "X-Request-Id": c.get("requestId"),
      "X-Forwarded-Proto": facts.scheme,
      "X-Forwarded-Host": facts.host,
      ...(await identityFor(access, c.get("facts").host, c.env.ORIGIN_SIGNING_SECRET)),
    };
    if (facts.clientIp) added["X-Forwarded-For"] = facts.clientIp;
    const sent = Date.now();
    try {
      return await forwardToOrigin(
        policy.origin,
        {
          inbound: c.req.raw,
          path: access.path,
          rawQuery: facts.rawQuery,
          credentialSources: access.credentialSources,
          added,
        },
        policy.originTimeoutSeconds * 1000,
        { "X-Request-Id": c.get("requestId"), ...usage },
      );
    } finally {
      // Also when the origin failed or timed out: the wait counts in its latency.
      c.set("originMs", Date.now() - sent);
    }
  };
}
