/**
 * Forward-auth, `ANY P/v1/authorize` and `ANY P/v1/authorize/<path>` (docs/headers.md): a proxy asks
 * whether the request it holds may pass. The original request is read only from the headers of
 * the calling proxy's row (edge/request-facts.ts), then `keyAuth` decides. The answer is 200
 * with every identity header, or the problem of docs/decisions.md; to nginx, every answer but 2xx and
 * 401 is a 403.
 */
import type { Context, Handler, MiddlewareHandler } from "hono";
import { allowedHeaders } from "../edge/answer";
import type { AppEnv } from "../edge/app-env";
import { IDENTITY_HEADERS, identityFor } from "../edge/identity";
import type { FactsReader } from "../edge/key-auth";
import { chooseProxy, forwardedFacts, type ProxyChoice } from "../edge/request-facts";
import { toRefusal } from "../http/on-error";
import { renderProblem } from "../http/problem";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";

function authorizePath(compiled: CompiledPolicy): string {
  return `${compiled.policy.basePath}/v1/authorize`;
}

function choiceOf(c: Context<AppEnv>, compiled: CompiledPolicy): ProxyChoice {
  return chooseProxy(c.req.raw.url, authorizePath(compiled), compiled.policy.forwardAuth?.proxy);
}

/** The request the calling proxy reports, read from its row's headers only. */
export function reportedFacts(compiled: CompiledPolicy): FactsReader {
  return (c) => {
    const choice = choiceOf(c, compiled);
    if (!choice.ok) throw new Refusal("bad_request", choice.detail);
    const reported = forwardedFacts(c.req.raw, choice.proxy, authorizePath(compiled));
    if (!reported.ok) throw new Refusal("bad_request", reported.detail);
    return reported.facts;
  };
}

/**
 * nginx's `auth_request` turns any status but 2xx, 401 and 403 into a 500 and drops the body,
 * so every denial but a 401 reaches nginx as 403, with its real status in `X-Portcullis-Status`
 * for `auth_request_set`, its code and `Retry-After` kept.
 */
export function nginxStatuses(compiled: CompiledPolicy): MiddlewareHandler<AppEnv> {
  return async function nginxStatuses(c, next) {
    await next();
    const choice = choiceOf(c, compiled);
    const nginx = choice.ok ? choice.proxy === "nginx" : choice.nginxMayCall;
    const { status } = c.res;
    if (!nginx || !c.error || status === 401 || (status >= 200 && status < 300)) return;
    const refusal = toRefusal(c.error);
    c.res = renderProblem(
      new Refusal(refusal.code, refusal.detail, {
        ...refusal.options,
        status: 403,
        headers: { ...refusal.options.headers, "X-Portcullis-Status": String(refusal.status) },
      }),
      c.get("requestId"),
    );
  };
}

/** The 200 answer: every identity header (empty when it does not apply) and the usage headers. */
export const authorizeHandler: Handler<AppEnv> = async (c) => {
  const access = c.get("access");
  const identity = await identityFor(access, c.get("facts").host, c.env.ORIGIN_SIGNING_SECRET);
  const headers: Record<string, string> = Object.fromEntries(IDENTITY_HEADERS.map((name) => [name, ""]));
  return c.body(null, 200, { ...headers, ...identity, ...allowedHeaders(access) });
};
