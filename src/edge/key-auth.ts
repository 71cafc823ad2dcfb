/**
 * keyAuth: the one middleware that decides who may pass on the proxy, forward-auth and self
 * surfaces. It reads the request's facts (from the request itself, or from what a forward-auth
 * caller reports), runs the decision of docs/decisions.md, and either throws the denial or sets the
 * typed `access` (public, key or session) for the handler.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { CompiledPolicy } from "../policy/compiled";
import { accessDeps } from "../services/deps";
import { authorizeRequest, authorizeSelf } from "./access";
import { denialError } from "./answer";
import type { AppEnv } from "./app-env";
import type { RequestFacts } from "./request-facts";

/** Where a surface reads the request it decides on; throws a `Refusal` for a bad report. */
export type FactsReader = (c: Context<AppEnv>) => RequestFacts;

export function keyAuth(
  compiled: CompiledPolicy,
  readFacts: FactsReader,
  surface: "route" | "self" = "route",
): MiddlewareHandler<AppEnv> {
  return async function keyAuth(c, next) {
    const facts = readFacts(c);
    c.set("facts", facts);
    const deps = accessDeps(c.env, compiled.policy, c.executionCtx);
    const result =
      surface === "self"
        ? await authorizeSelf(deps, compiled, facts)
        : await authorizeRequest(deps, compiled, facts);
    if (result.route) c.set("route", result.route.pattern);
    const keyId = result.ok ? (result.kind === "key" ? result.record.id : undefined) : result.record?.id;
    if (keyId) c.set("keyId", keyId);
    if (!result.ok) throw denialError(result);
    c.set("decision", "valid");
    c.set("access", result);
    await next();
  };
}
