/**
 * The protected API: every path outside `P`. An allowed request is forwarded to the origin (or,
 * without one, answered with the decision); a denied one gets the problem of SPEC 4.1.
 */
import type { Handler } from "hono";
import type { AppEnv } from "../env";
import { forwardToOrigin } from "../gateway/forward";
import { identityHeaders, signAssertion } from "../gateway/identity";
import { clientIp } from "../gateway/request-facts";
import { ApiError } from "../http/errors";
import type { CompiledPolicy } from "../policy/compiled";
import { authorizeRequest } from "../services/authorize-request";
import { verifyDeps } from "../services/deps";
import { verifyResponse } from "../services/verify-response";

export function proxyHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const { policy } = compiled;
  return async function proxy(c) {
    const request = c.req.raw;
    const url = new URL(request.url);
    const ip = clientIp(request.headers);
    const access = await authorizeRequest(verifyDeps(c.env), compiled, {
      method: request.method,
      pathname: url.pathname,
      rawQuery: url.search.slice(1),
      headers: request.headers,
      clientIp: ip,
    });
    if (access.route) c.set("route", access.route.pattern);
    if (access.record) c.set("keyId", access.record.id);
    if (!access.ok) throw new ApiError(access.code, access.detail);
    c.set("decision", "valid");

    if (!policy.origin) return c.json(verifyResponse("valid", access.record, access.decision));

    const added: Record<string, string> = {
      "X-Request-Id": c.get("requestId"),
      "X-Forwarded-Proto": url.protocol.slice(0, -1),
      "X-Forwarded-Host": url.host,
    };
    if (ip) added["X-Forwarded-For"] = ip;
    if (access.identity) {
      Object.assign(added, identityHeaders(access.identity));
      const secret = c.env.ORIGIN_SIGNING_SECRET;
      if (secret) {
        added["X-Portcullis-Assertion"] = await signAssertion(
          access.identity,
          { method: request.method, path: access.path },
          secret,
          Date.now(),
        );
      }
    }
    const response = await forwardToOrigin(
      policy.origin,
      {
        inbound: request,
        path: access.path,
        rawQuery: url.search.slice(1),
        credentialSources: access.credentialSources,
        added,
      },
      policy.originTimeoutSeconds * 1000,
    );
    response.headers.set("X-Request-Id", c.get("requestId"));
    return response;
  };
}
