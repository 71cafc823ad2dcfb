/**
 * Forward-auth, `ANY P/v1/authorize` and `ANY P/v1/authorize/<path>` (SPEC 5): a proxy asks
 * whether the request it holds may pass. The answer is 200 with the identity headers, or the
 * problem of SPEC 4.1. nginx's `auth_request` turns any status but 2xx, 401 and 403 into a
 * 500, so with `?compat=nginx` every other denial is answered 403, its code kept in
 * `X-Portcullis-Code`.
 */
import type { Handler } from "hono";
import type { AppEnv } from "../env";
import { IDENTITY_HEADERS, identityFor } from "../gateway/identity";
import { forwardedFacts } from "../gateway/request-facts";
import { ApiError } from "../http/errors";
import type { CompiledPolicy } from "../policy/compiled";
import { authorizeRequest } from "../services/authorize-request";
import { accessDeps } from "../services/deps";
import { allowedHeaders, denialError } from "./answer";

export function authorizeHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const prefix = `${compiled.policy.basePath}/v1/authorize`;
  return async function authorize(c) {
    const request = c.req.raw;
    const compat = c.req.query("compat") === "nginx";
    const facts = forwardedFacts(request, new URL(request.url).pathname.slice(prefix.length));
    if (!facts)
      throw new ApiError("bad_request", "The forwarded URI is not a path.", compat ? { status: 403 } : {});
    const access = await authorizeRequest(accessDeps(c.env, compiled.policy), compiled, facts);
    if (access.route) c.set("route", access.route.pattern);
    if (access.record) c.set("keyId", access.record.id);
    if (!access.ok) throw denialError(access, compat);
    c.set("decision", "valid");
    const identity = await identityFor(access, access.method, c.env.ORIGIN_SIGNING_SECRET);
    const headers: Record<string, string> = Object.fromEntries(IDENTITY_HEADERS.map((name) => [name, ""]));
    return c.body(null, 200, { ...headers, ...identity, ...allowedHeaders(access) });
  };
}
