/**
 * Pieces every route declaration shares: the JSON body, the problem responses with an example
 * of each code they can carry, and the security requirement, so that the OpenAPI document tells
 * the truth about errors.
 */
import type { z } from "@hono/zod-openapi";
import { problemBody } from "../http/problem";
import { REFUSALS, type RefusalCode } from "../refusals";
import { ProblemSchema } from "./schemas";

/** A request id as every example shows it. */
export const EXAMPLE_REQUEST_ID = "5f0c6a1e-2b7d-4c9a-9e3f-1d2c3b4a5e6f";

/** The problem body a refusal of `code` carries with its default detail. */
export function exampleProblem(code: RefusalCode, status: number = REFUSALS[code][0]) {
  const errors =
    code === "bad_request"
      ? [{ field: "name", message: "Too big: expected at most 200 characters" }]
      : undefined;
  return problemBody(code, status, REFUSALS[code][2], EXAMPLE_REQUEST_ID, errors);
}

interface ProblemResponse {
  description: string;
  headers?: Record<string, { description: string; schema: { type: "string" } }>;
  content: {
    "application/problem+json": {
      schema: typeof ProblemSchema;
      examples: Record<string, { summary: string; value: ReturnType<typeof exampleProblem> }>;
    };
  };
}

const CODE_HEADER = {
  "X-Portcullis-Code": { description: "The problem's `code`", schema: { type: "string" as const } },
};

/** One problem response of `status`, with an example of each of `codes`. */
export function problemResponse(
  status: number,
  description: string,
  codes: readonly RefusalCode[],
  headers: ProblemResponse["headers"] = {},
): ProblemResponse {
  return {
    description,
    headers: { ...CODE_HEADER, ...headers },
    content: {
      "application/problem+json": {
        schema: ProblemSchema,
        examples: Object.fromEntries(
          codes.map((code) => [code, { summary: REFUSALS[code][1], value: exampleProblem(code, status) }]),
        ),
      },
    },
  };
}

/** Each status an admin route can answer with, what it means and the codes it carries. */
const ADMIN_PROBLEMS = {
  400: [
    "Invalid input (`bad_request`, `permission_not_allowed`); `errors` lists the fields",
    ["bad_request", "permission_not_allowed"],
  ],
  401: [
    "Missing or unknown admin credential, or a revoked, disabled or expired admin key",
    ["missing_credential", "invalid_key", "key_revoked", "key_disabled", "key_expired"],
  ],
  403: [
    "The admin key lacks the permission, is used from outside its allowlist, or the credential is not an admin credential",
    ["insufficient_permissions", "wrong_key_type", "ip_not_allowed"],
  ],
  404: ["No such object, or not in the caller's workspace", ["not_found"]],
  409: ["Conflict (`conflict`, or `key_revoked` for a change to a revoked key)", ["conflict", "key_revoked"]],
  413: ["Body over 64 KiB", ["payload_too_large"]],
  429: [
    "The admin key is over its rate limit or quota (see `Retry-After`)",
    ["rate_limited", "quota_exceeded", "credits_exhausted"],
  ],
  503: ["A storage dependency failed; nothing was loosened (see `Retry-After`)", ["unavailable"]],
} as const satisfies Record<number, readonly [string, readonly RefusalCode[]]>;

type ProblemStatus = keyof typeof ADMIN_PROBLEMS;

/** Every admin route can refuse its caller (401, 403, 429) and fail closed (503). */
const ALWAYS: ProblemStatus[] = [401, 403, 429, 503];

export function problems(...statuses: ProblemStatus[]): Record<number, ProblemResponse> {
  const responses: Record<number, ProblemResponse> = {};
  for (const status of [...new Set([...statuses, ...ALWAYS])].sort((a, b) => a - b)) {
    const [description, codes] = ADMIN_PROBLEMS[status];
    responses[status] = problemResponse(status, description, codes);
  }
  return responses;
}

export function jsonBody<T extends z.ZodType>(schema: T, example?: unknown) {
  return {
    content: { "application/json": { schema, ...(example !== undefined && { example }) } },
    required: true,
  };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string, example?: unknown) {
  return {
    content: { "application/json": { schema, ...(example !== undefined && { example }) } },
    description,
  };
}

export const SECURITY = [{ AdminToken: [] }];
