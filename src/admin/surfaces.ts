/**
 * The OpenAPI declarations of the surfaces that are not admin routes: health, self and
 * forward-auth (docs/admin-api.md, 5, 7). Their handlers are plain Hono ones in `routes/`; these
 * declarations only document them, so that one document covers every surface.
 */
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { IDENTITY_HEADERS } from "../edge/identity";
import { PROXY_ROWS } from "../edge/request-facts";
import { FORWARD_AUTH_PROXIES, type ForwardAuthProxy } from "../policy/schema";
import type { RefusalCode } from "../refusals";
import { problemResponse } from "./openapi";

const HealthSchema = z.object({ status: z.literal("ok"), version: z.string() }).openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["Health"],
  summary: "Health check for load balancers",
  description:
    "No credential. Reaching it means the policy is valid; with an invalid policy every request, this one included, is 500 `policy_invalid`, whose `errors` list every problem.",
  security: [],
  responses: {
    200: {
      description: "Portcullis is up",
      content: { "application/json": { schema: HealthSchema, example: { status: "ok", version: "0.1.0" } } },
    },
    500: problemResponse(500, "The policy is invalid", ["policy_invalid"]),
  },
});

const SelfWindow = z
  .object({
    window: z.string().openapi({
      description: "`second`, `minute`, `hour`, `day` or `month`; an owner's window is `owner-minute` etc.",
    }),
    limit: z.number().int(),
    remaining: z.number().int(),
    reset: z.number().int().openapi({ description: "Seconds until one more request is allowed" }),
  })
  .openapi("SelfWindow");

const SelfSchema = z
  .object({
    keyId: z.string(),
    workspaceId: z.string(),
    type: z.string(),
    plan: z.string().nullable(),
    expiresAt: z.string().nullable(),
    limits: z.array(SelfWindow).openapi({ description: "One entry for each window that applies" }),
    credits: z
      .object({
        remaining: z.number().int(),
        refill: z.object({ interval: z.enum(["day", "month"]), amount: z.number().int() }).nullable(),
      })
      .nullable(),
  })
  .openapi("Self");

const SELF_EXAMPLE = {
  keyId: "key_3ZQ0bV1tV2y4fRkq9mXa",
  workspaceId: "ws_8fJ2kq0aLm3nB5cD7eF9",
  type: "server",
  plan: "pro",
  expiresAt: null,
  limits: [{ window: "minute", limit: 600, remaining: 598, reset: 1 }],
  credits: { remaining: 99, refill: { interval: "month", amount: 100 } },
};

/** What a key's own credential can be refused with, rows 1-10 of docs/decisions.md. */
const KEY_REFUSALS = {
  400: [
    "The request carries two different credentials, or a bad path",
    ["ambiguous_credentials", "bad_request"],
  ],
  401: [
    "No credential, or one that is not a usable key",
    [
      "missing_credential",
      "malformed_key",
      "invalid_key",
      "invalid_token",
      "token_expired",
      "key_revoked",
      "key_disabled",
      "key_expired",
    ],
  ],
  403: [
    "Plain HTTP where HTTPS is required, an IP outside the allowlist, a wrong key type or a missing permission",
    ["https_required", "ip_not_allowed", "wrong_key_type", "insufficient_permissions"],
  ],
  404: ['No route of the policy matches (with `unmatched = "deny"`)', ["route_not_found"]],
  429: [
    "Over a rate limit or a quota, or out of credits (see `Retry-After`)",
    ["rate_limited", "quota_exceeded", "credits_exhausted"],
  ],
  503: ["A storage dependency failed; the request was denied (see `Retry-After`)", ["unavailable"]],
} as const satisfies Record<number, readonly [string, readonly RefusalCode[]]>;

const keyRefusals = (statuses: (keyof typeof KEY_REFUSALS)[]) =>
  Object.fromEntries(
    statuses.map((status) => {
      const [description, codes] = KEY_REFUSALS[status];
      return [status, problemResponse(status, description, codes)];
    }),
  );

const selfRoute = createRoute({
  method: "get",
  path: "/v1/self",
  operationId: "getSelf",
  tags: ["Self"],
  summary: "The caller's own key: its limits, remaining quota and credits",
  description:
    "Runs rows 1-10 of the decision order for the caller's key (sent as the policy's credential sources say); never refused by a limit, quota or credit, and consumes nothing.",
  security: [{ ApiKey: [] }],
  responses: {
    200: {
      description: "The caller's key",
      content: { "application/json": { schema: SelfSchema, example: SELF_EXAMPLE } },
    },
    ...keyRefusals([400, 401, 403, 503]),
  },
});

const headerText = { type: "string" as const };

/** The identity headers of an allowed forward-auth answer, each empty when it does not apply. */
const identityHeaders = Object.fromEntries(
  IDENTITY_HEADERS.map((name) => [
    name,
    {
      description:
        name === "X-Portcullis-Assertion"
          ? "A JWT (HS256, 60 s) proving the request came through Portcullis; empty without `ORIGIN_SIGNING_SECRET`"
          : "Identity of the caller for the origin; empty when it does not apply",
      schema: headerText,
    },
  ]),
);

const RATE_LIMIT_HEADERS = {
  "RateLimit-Policy": { description: "Every window that applies to the key", schema: headerText },
  RateLimit: { description: "The tightest window", schema: headerText },
  "X-Credits-Remaining": {
    description: "Credits after this request, for a key with credits",
    schema: headerText,
  },
};

/** The headers the rows of `proxies` read, each with the proxies that send it. */
function reportedHeaders(proxies: readonly ForwardAuthProxy[]) {
  const users = new Map<string, string[]>();
  for (const proxy of proxies) {
    const row = PROXY_ROWS[proxy];
    for (const header of [row.method, row.uri, row.scheme, row.host, row.clientIp.header]) {
      if (header === "call") continue;
      users.set(header, [...(users.get(header) ?? []), proxy]);
    }
  }
  return [...users].map(([name, proxies]) => ({
    name: name.replace(/(^|-)[a-z]/g, (start) => start.toUpperCase()),
    in: "header" as const,
    required: false,
    description: `The original request, as reported by ${proxies.join(", ")}; ignored from any other proxy.`,
    schema: headerText,
  }));
}

const NGINX_STATUS_HEADER = {
  "X-Portcullis-Status": {
    description: "With `proxy=nginx`: the real status of a denial that is answered 403",
    schema: headerText,
  },
};

/** Every code a denial that is not a 401 can carry: to nginx, each of them is a 403. */
const NOT_401_CODES = [400, 403, 404, 429, 503].flatMap(
  (status) => KEY_REFUSALS[status as keyof typeof KEY_REFUSALS][1],
);

/** With `proxy=nginx`, every denial but a 401 is a 403 (nginx would turn it into a 500). */
function forwardAuthRefusals() {
  return {
    ...keyRefusals([400, 401, 404, 429, 503]),
    403: problemResponse(
      403,
      "A 403 denial, or, with `proxy=nginx`, any denial but a 401: its real status is in `X-Portcullis-Status`, its code in `X-Portcullis-Code`, and `Retry-After` is kept",
      NOT_401_CODES,
      NGINX_STATUS_HEADER,
    ),
  };
}

const authorizeDescription = `Answers a proxy's authorization subrequest for the request it holds: nginx \`auth_request\`, Traefik ForwardAuth, Caddy \`forward_auth\` (this path, naming the proxy with \`?proxy=\`), or Envoy ext_authz (\`/v1/authorize/<path>\`). Any method is accepted. The original request is read only from the headers the calling proxy sets itself:

| proxy | method | URI | scheme, host | client IP |
| --- | --- | --- | --- | --- |
| \`nginx\` | \`X-Original-Method\` | \`X-Original-URI\` | \`X-Forwarded-Proto\`, \`X-Forwarded-Host\` | \`X-Real-IP\` |
| \`traefik\` | \`X-Forwarded-Method\` | \`X-Forwarded-Uri\` | \`X-Forwarded-Proto\`, \`X-Forwarded-Host\` | last \`X-Forwarded-For\` entry |
| \`caddy\` | \`X-Forwarded-Method\` | \`X-Forwarded-Uri\` | \`X-Forwarded-Proto\`, \`X-Forwarded-Host\` | last \`X-Forwarded-For\` entry |
| \`envoy\` | the call's method | \`<path>\` and query of the call | \`X-Forwarded-Proto\`, the call's \`Host\` | last \`X-Forwarded-For\` entry |

The same route policy as the proxy path applies. The answer is 200 with every identity header (empty when it does not apply, so that the proxy overwrites a client's copy) and the rate-limit headers, or the problem of the failing check. nginx's \`auth_request\` turns any status but 2xx, 401 and 403 into a 500, so with \`proxy=nginx\` every denial but a 401 is answered 403 with \`X-Portcullis-Status: <real status>\`.`;

const allowed = {
  description: "The request may pass; the proxy copies the identity headers to the origin",
  headers: { ...identityHeaders, ...RATE_LIMIT_HEADERS },
};

const authorizeRoute = createRoute({
  method: "get",
  path: "/v1/authorize",
  operationId: "authorizeRequest",
  tags: ["Forward-auth"],
  summary: "Forward-auth for nginx, Traefik and Caddy (any method)",
  description: authorizeDescription,
  security: [{ ApiKey: [] }, {}],
  request: {
    query: z.object({
      proxy: z.enum(FORWARD_AUTH_PROXIES).optional().openapi({
        description:
          "The calling proxy, whose headers are read (`compat=nginx` is an alias of `proxy=nginx`). Without it, the policy's `forwardAuth.proxy`; with neither, or when they differ, 400 `bad_request`.",
        example: "nginx",
      }),
    }),
  },
  parameters: reportedHeaders(FORWARD_AUTH_PROXIES.filter((proxy) => proxy !== "envoy")),
  responses: { 200: allowed, ...forwardAuthRefusals() },
});

const envoyRoute = createRoute({
  method: "get",
  path: "/v1/authorize/{path}",
  operationId: "authorizeEnvoyRequest",
  tags: ["Forward-auth"],
  summary: "Forward-auth for Envoy ext_authz (any method)",
  description: `Envoy's form (\`path_prefix\`): the original path and query follow \`/v1/authorize\`, the method and \`Host\` are the call's own, and the call is always read as \`envoy\`. Otherwise as \`authorizeRequest\`.`,
  security: [{ ApiKey: [] }, {}],
  request: {
    params: z.object({
      path: z.string().openapi({
        param: { name: "path", in: "path" },
        description: "The original request's path, without its leading slash",
        example: "api/products",
      }),
    }),
  },
  parameters: reportedHeaders(["envoy"]),
  responses: { 200: allowed, ...keyRefusals([400, 401, 403, 404, 429, 503]) },
});

/** Paths relative to `P`, like the admin routes' `/admin/...`. */
export const SURFACE_ROUTES: RouteConfig[] = [healthRoute, selfRoute, authorizeRoute, envoyRoute];
