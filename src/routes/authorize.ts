/**
 * Forward-auth, `ANY P/v1/authorize` and `ANY P/v1/authorize/<path>` (SPEC 5): a proxy asks
 * whether the request it holds may pass. The original request is read only from the headers of
 * the calling proxy's row (edge/request-facts.ts). The answer is 200 with every identity
 * header, or the problem of SPEC 4.1; to nginx, every answer but 2xx and 401 is a 403.
 */
import type { Context, Handler } from "hono";
import { IDENTITY_HEADERS, identityFor } from "../edge/identity";
import { chooseProxy, forwardedFacts } from "../edge/request-facts";
import type { AppEnv } from "../env";
import { allowedHeaders, denialError } from "../http/decision-answer";
import { toApiError } from "../http/on-error";
import type { CompiledPolicy } from "../policy/compiled";
import type { ForwardAuthProxy } from "../policy/schema";
import { Refusal } from "../refusals";
import { authorizeRequest } from "../services/authorize-request";
import { accessDeps } from "../services/deps";

/**
 * nginx's `auth_request` turns any status but 2xx, 401 and 403 into a 500 and drops the body,
 * so every denial but a 401 reaches nginx as 403, with its real status in `X-Portcullis-Status`
 * for `auth_request_set`, its code and `Retry-After` kept.
 */
function forNginx(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const problem = toApiError(error);
  return new Refusal(problem.code, problem.detail, {
    ...problem.options,
    status: problem.status === 401 ? 401 : 403,
    headers: { ...problem.options.headers, "X-Portcullis-Status": String(problem.status) },
  });
}

async function answer(
  c: Context<AppEnv>,
  compiled: CompiledPolicy,
  proxy: ForwardAuthProxy,
  authorizePath: string,
): Promise<Response> {
  const reported = forwardedFacts(c.req.raw, proxy, authorizePath);
  if (!reported.ok) throw new Refusal("bad_request", reported.detail);
  const facts = reported.facts;
  const access = await authorizeRequest(accessDeps(c.env, compiled.policy), compiled, facts);
  if (access.route) c.set("route", access.route.pattern);
  if (access.record) c.set("keyId", access.record.id);
  if (!access.ok) throw denialError(access);
  c.set("decision", "valid");
  const identity = await identityFor(access, access.method, c.env.ORIGIN_SIGNING_SECRET);
  const headers: Record<string, string> = Object.fromEntries(IDENTITY_HEADERS.map((name) => [name, ""]));
  return c.body(null, 200, { ...headers, ...identity, ...allowedHeaders(access) });
}

export function authorizeHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  const authorizePath = `${compiled.policy.basePath}/v1/authorize`;
  const configured = compiled.policy.forwardAuth?.proxy;
  return async function authorize(c) {
    const choice = chooseProxy(c.req.raw.url, authorizePath, configured);
    const nginx = choice.ok ? choice.proxy === "nginx" : choice.nginxMayCall;
    try {
      if (!choice.ok) throw new Refusal("bad_request", choice.detail);
      return await answer(c, compiled, choice.proxy, authorizePath);
    } catch (error) {
      throw nginx ? forNginx(error) : error;
    }
  };
}
