/**
 * The documentation of `POST P/v1/verify` (docs/admin-api.md): its body, its answer and the
 * decision codes it can carry, in the one OpenAPI document with the admin routes. The route
 * itself is routes/verify.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { KeyVerification } from "../services/verify-key";
import { jsonBody, problems, SECURITY } from "./openapi";
import { Permission } from "./schemas";

const VerifyBody = z
  .strictObject({
    key: z.string().min(1).max(512).openapi({ description: "The key to verify, as the client sent it" }),
    permissions: z.array(Permission).optional().openapi({ description: "Every one of these is needed" }),
    anyPermissions: z
      .array(Permission)
      .optional()
      .openapi({ description: "At least one of these is needed" }),
    keyTypes: z
      .array(z.string())
      .optional()
      .openapi({ description: "Accepted key types (default: any but `admin`)" }),
    cost: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .openapi({ description: "Credits this call spends (default 1)" }),
    ip: z.string().optional().openapi({ description: "The client IP, checked against the key's allowlist" }),
  })
  .openapi("VerifyRequest");

/**
 * The decision codes of rows 3-13 of docs/decisions.md: every code a verify answer can carry but `valid`.
 * A record keyed by `verifyKey`'s codes, so that a code it learns must be listed here.
 */
const DECISION_CODES: Record<Exclude<KeyVerification["code"], "valid">, true> = {
  malformed_key: true,
  invalid_key: true,
  key_revoked: true,
  key_disabled: true,
  key_expired: true,
  ip_not_allowed: true,
  wrong_key_type: true,
  insufficient_permissions: true,
  rate_limited: true,
  quota_exceeded: true,
  credits_exhausted: true,
};

export const VERIFY_DECISION_CODES = Object.keys(DECISION_CODES) as (keyof typeof DECISION_CODES)[];

const WindowAnswer = z.object({
  window: z
    .string()
    .openapi({ description: "`second`, `minute`, `hour`, `day` or `month`", example: "minute" }),
  limit: z.number().int(),
  remaining: z.number().int(),
  reset: z.number().int().openapi({ description: "Seconds until one more request is allowed" }),
});

const VerifyAnswer = z
  .object({
    valid: z.boolean(),
    code: z
      .enum(["valid", ...VERIFY_DECISION_CODES])
      .openapi({ description: "`valid`, or the code of the failing check" }),
    keyId: z.string().optional(),
    workspaceId: z.string().optional(),
    type: z.string().optional(),
    ownerId: z.string().nullable().optional(),
    permissions: z.array(z.string()).optional().openapi({ description: "The key's effective permissions" }),
    plan: z.string().nullable().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    expiresAt: z.string().nullable().optional(),
    ratelimit: WindowAnswer.optional().openapi({ description: "The tightest window after this call" }),
    credits: z.object({ remaining: z.number().int() }).optional(),
  })
  .openapi("VerifyResponse");

const VALID_ANSWER = {
  valid: true,
  code: "valid",
  keyId: "key_3ZQ0bV1tV2y4fRkq9mXa",
  workspaceId: "ws_8fJ2kq0aLm3nB5cD7eF9",
  type: "server",
  ownerId: "user_42",
  permissions: ["transactions:read"],
  plan: "pro",
  meta: { team: "billing" },
  expiresAt: null,
  ratelimit: { window: "minute", limit: 600, remaining: 599, reset: 1 },
  credits: { remaining: 99 },
};

/** The documentation of `POST P/v1/verify`; routes/verify.ts adds its authentication and handler. */
export const verifyRoute = createRoute({
  method: "post",
  path: "/v1/verify",
  operationId: "verifyKey",
  tags: ["Verify"],
  summary: "Verify a key and run the decision a proxied request would get",
  description:
    "Runs rows 3-13 of the decision order for the key in the body (row 8 against `ip`) and answers 200 with the decision, valid or not. It consumes limits and credits as a proxied request would. An admin key sees only keys of its own workspace: any other key is `invalid_key`. Needs `keys:verify`.",
  security: SECURITY,
  request: {
    body: jsonBody(VerifyBody, {
      key: "sk_live_x0Mek5L4wHRe45GOOQP8bajf4WA0pAGu_30f1467b",
      permissions: ["transactions:read"],
      cost: 1,
    }),
  },
  responses: {
    200: {
      description: "The decision: `valid: true`, or the code of the failing check",
      content: {
        "application/json": {
          schema: VerifyAnswer,
          examples: {
            valid: { summary: "A valid key", value: VALID_ANSWER },
            insufficient_permissions: {
              summary: "A key without the permission",
              value: {
                ...VALID_ANSWER,
                valid: false,
                code: "insufficient_permissions",
                ratelimit: undefined,
                credits: undefined,
              },
            },
            invalid_key: { summary: "No such key", value: { valid: false, code: "invalid_key" } },
          },
        },
      },
    },
    ...problems(400, 413),
  },
});
