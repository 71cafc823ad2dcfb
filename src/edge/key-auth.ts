/**
 * keyAuth: the one middleware that decides who may pass on the proxy, forward-auth and self
 * surfaces. It reads the request's facts (from the request itself, or from what a forward-auth
 * caller reports), runs the decision of docs/decisions.md, and either throws the denial or sets the
 * typed `access` (public, key or session) for the handler. Each decision, with the status answered,
 * goes to the optional Analytics Engine dataset (edge/analytics.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { CompiledPolicy } from "../policy/compiled";
import { accessDeps } from "../services/deps";
import { type AccessResult, authorizeRequest, authorizeSelf } from "./access";
import { failureOf, recordDecision } from "./analytics";
import { denialError } from "./answer";
import type { AppEnv } from "./app-env";
import type { RequestFacts } from "./request-facts";

/** Where a surface reads the request it decides on; throws a `Refusal` for a bad report. */
export type FactsReader = (c: Context<AppEnv>) => RequestFacts;

/** What was decided on and by what, for the analytics point of the decision. */
function decided(result: AccessResult) {
  if (result.ok) {
    return result.kind === "key"
      ? { code: "valid", record: result.record, decidedBy: result.decidedBy ?? null }
      : { code: "valid", record: null, decidedBy: null };
  }
  return { code: result.code, record: result.record, decidedBy: result.decidedBy ?? null };
}

export function keyAuth(
  compiled: CompiledPolicy,
  readFacts: FactsReader,
  surface: "proxy" | "authorize" | "self" = "proxy",
): MiddlewareHandler<AppEnv> {
  return async function keyAuth(c, next) {
    const started = Date.now();
    const facts = readFacts(c);
    c.set("facts", facts);
    const deps = accessDeps(c.env, compiled.policy, c.executionCtx);
    const unknown = { workspaceId: null, keyId: null, keyType: null, route: null, decidedBy: null };
    const base = { surface, method: facts.method, originMs: null };
    let result: AccessResult;
    try {
      result =
        surface === "self"
          ? await authorizeSelf(deps, compiled, facts)
          : await authorizeRequest(deps, compiled, facts);
    } catch (error) {
      // A dependency failed: the request is refused (503), a decision like any other.
      recordDecision(c.env.ANALYTICS, {
        ...base,
        ...unknown,
        ...failureOf(error),
        decisionMs: Date.now() - started,
      });
      throw error;
    }
    if (result.route) c.set("route", result.route.pattern);
    const { code, record, decidedBy } = decided(result);
    if (record) c.set("keyId", record.id);
    const point = {
      ...base,
      workspaceId: record?.workspaceId ?? null,
      keyId: record?.id ?? null,
      keyType: record?.type ?? null,
      route: result.route?.pattern ?? null,
      code,
      decidedBy,
      decisionMs: Date.now() - started,
    };
    if (!result.ok) {
      const denial = denialError(result);
      recordDecision(c.env.ANALYTICS, { ...point, status: denial.status });
      throw denial;
    }
    c.set("decision", "valid");
    c.set("access", result);
    await next();
    recordDecision(c.env.ANALYTICS, { ...point, status: c.res.status, originMs: c.get("originMs") ?? null });
  };
}
