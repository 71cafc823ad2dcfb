/**
 * `GET P/v1/self` (SPEC 7): a key holder asks about its own key. Rows 1-10 of SPEC 4.1 apply;
 * no limit, quota or credit ever refuses it, and it consumes nothing.
 */
import type { Handler } from "hono";
import { directFacts } from "../edge/request-facts";
import type { AppEnv } from "../env";
import { allowedHeaders, denialError } from "../http/decision-answer";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";
import { authorizeKey, checkTransport } from "../services/authorize-request";
import { accessDeps } from "../services/deps";
import { selfResponse } from "../services/verify-response";

export function selfHandler(compiled: CompiledPolicy): Handler<AppEnv> {
  return async function self(c) {
    const facts = directFacts(c.req.raw);
    const access =
      checkTransport(compiled, facts, null) ??
      (await authorizeKey(accessDeps(c.env, compiled.policy), compiled, facts, null, facts.pathname, {
        sources: compiled.policy.credentials,
        auth: ["key"],
        keyTypes: null,
        permissions: [],
        anyPermissions: [],
        cost: 0,
        consume: false,
      }));
    if (access.record) c.set("keyId", access.record.id);
    if (!access.ok) throw denialError(access);
    c.set("decision", "valid");
    const { record, decision } = access;
    if (!record || !decision) throw new Refusal("internal", "An allowed key came without its record.");
    return c.json(selfResponse(record, decision), 200, allowedHeaders(access));
  };
}
