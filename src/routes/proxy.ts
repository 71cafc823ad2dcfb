/**
 * The protected API: every path outside `P`. An allowed request is forwarded to the origin (or,
 * without one, answered with the decision); a denied one gets the problem of SPEC 4.1.
 */
import type { Handler } from "hono";
import { forwardToOrigin } from "../edge/forward";
import { identityFor } from "../edge/identity";
import { directFacts } from "../edge/request-facts";
import type { AppEnv } from "../env";
import { allowedHeaders, denialError } from "../http/decision-answer";
import type { CompiledPolicy } from "../policy/compiled";
import { authorizeRequest } from "../services/authorize-request";
import { accessDeps } from "../services/deps";
import { selfResponse, verifyResponse } from "../services/verify-response";

export function proxyHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const { policy } = compiled;
  return async function proxy(c) {
    const request = c.req.raw;
    const facts = directFacts(request);
    const access = await authorizeRequest(accessDeps(c.env, policy), compiled, facts);
    if (access.route) c.set("route", access.route.pattern);
    if (access.record) c.set("keyId", access.record.id);
    if (!access.ok) throw denialError(access);
    c.set("decision", "valid");
    const usage = allowedHeaders(access);

    if (access.route?.route.builtin === "self" && access.record && access.decision) {
      return c.json(selfResponse(access.record, access.decision), 200, usage);
    }
    if (!policy.origin) return c.json(verifyResponse("valid", access.record, access.decision), 200, usage);

    const added: Record<string, string> = {
      "X-Request-Id": c.get("requestId"),
      "X-Forwarded-Proto": facts.scheme,
      "X-Forwarded-Host": facts.host,
      ...(await identityFor(access, access.method, c.env.ORIGIN_SIGNING_SECRET)),
    };
    if (facts.clientIp) added["X-Forwarded-For"] = facts.clientIp;
    const response = await forwardToOrigin(
      policy.origin,
      {
        inbound: request,
        path: access.path,
        rawQuery: facts.rawQuery,
        credentialSources: access.credentialSources,
        added,
      },
      policy.originTimeoutSeconds * 1000,
    );
    response.headers.set("X-Request-Id", c.get("requestId"));
    for (const [name, value] of Object.entries(usage)) response.headers.set(name, value);
    return response;
  };
}
