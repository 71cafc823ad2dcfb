/**
 * The validation hook of every OpenAPIHono app: a zod failure is a 400 `bad_request` listing
 * each failing field, rendered by the one error handler.
 */
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import { Refusal } from "../refusals";

export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const errors = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : result.target,
    message: issue.message,
  }));
  throw new Refusal("bad_request", `The request ${result.target} is invalid.`, { errors });
};
