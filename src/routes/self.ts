/**
 * `GET P/v1/self` (docs/admin-api.md): a key holder asks about its own key. `keyAuth` has run rows 1-10 of
 * docs/decisions.md for it, counting nothing.
 */
import type { Handler } from "hono";
import { allowedHeaders } from "../edge/answer";
import type { AppEnv } from "../edge/app-env";
import { Refusal } from "../refusals";
import { selfResponse } from "../services/verify-response";

export const selfHandler: Handler<AppEnv> = (c) => {
  const access = c.get("access");
  if (access.kind !== "key") throw new Refusal("internal", "The self endpoint answered without a key.");
  return c.json(selfResponse(access.record, access.decision), 200, allowedHeaders(access));
};
