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
import { ApiError, statusOf } from "../http/errors";
import type { CompiledPolicy } from "../policy/compiled";
import { authorizeRequest } from "../services/authorize-request";
import { verifyDeps } from "../services/deps";

export function authorizeHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const prefix = `${compiled.policy.basePath}/v1/authorize`;
  return async function authorize(c) {
    const request = c.req.raw;
    const compat = c.req.query("compat") === "nginx";
    const facts = forwardedFacts(request, new URL(request.url).pathname.slice(prefix.length));
    const access = facts
      ? await authorizeRequest(verifyDeps(c.env), compiled, facts)
      : ({
          ok: false,
          code: "bad_request",
          detail: "The forwarded URI is not a path.",
          route: null,
          record: null,
        } as const);
    if (access.route) c.set("route", access.route.pattern);
    if (access.record) c.set("keyId", access.record.id);
    if (!access.ok) {
      const nginxSafe = compat && statusOf(access.code) !== 401;
      throw new ApiError(access.code, access.detail, nginxSafe ? { status: 403 } : {});
    }
    c.set("decision", "valid");
    const identity = await identityFor(access, facts?.method ?? request.method, c.env.ORIGIN_SIGNING_SECRET);
    const headers: Record<string, string> = Object.fromEntries(IDENTITY_HEADERS.map((name) => [name, ""]));
    return c.body(null, 200, { ...headers, ...identity });
  };
}
