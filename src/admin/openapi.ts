/**
 * Pieces every admin route declaration shares: the JSON body, the problem responses and the
 * security requirement, so that the OpenAPI document tells the truth about errors.
 */
import type { z } from "@hono/zod-openapi";
import { ProblemSchema } from "./schemas";

const PROBLEM_DESCRIPTIONS = {
  400: "Invalid input (`bad_request`, `permission_not_allowed`); `errors` lists the fields",
  401: "Missing or unknown admin credential",
  403: "The credential lacks the permission, or is not an admin credential",
  404: "No such object, or not in the caller's workspace",
  409: "Conflict (`conflict`, `key_revoked`)",
  413: "Body over 64 KiB",
  503: "A storage dependency failed; nothing was loosened",
} as const;

type ProblemStatus = keyof typeof PROBLEM_DESCRIPTIONS;

export function problems(...statuses: ProblemStatus[]) {
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const status of [401, 403, 503, ...statuses] as ProblemStatus[]) {
    responses[status] = {
      description: PROBLEM_DESCRIPTIONS[status],
      content: { "application/problem+json": { schema: ProblemSchema } },
    };
  }
  return responses;
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

export const SECURITY = [{ AdminToken: [] }];
