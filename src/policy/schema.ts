/**
 * The policy (docs/policy.md): the deployment's configuration, validated once per isolate.
 * Objects are strict, so that a misspelt field is reported instead of silently ignored.
 */
import { z } from "zod";
import { EVENT_TYPES } from "../keys/event-types.ts";
import { portalIssues, portalSchema } from "./portal.ts";

/** Name of the built-in key type for admin keys (docs/admin-api.md). */
export const ADMIN_KEY_TYPE = "admin";
/** Prefix of admin keys; reserved for the built-in type. */
export const ADMIN_KEY_PREFIX = "pc_admin";

/** `retention.dailyUsageDays` when the policy sets none: daily usage is kept 400 days. */
export const DEFAULT_DAILY_USAGE_DAYS = 400;

/** `logging.allowedSampleRate` when the policy sets none: one allowed request in 100 is logged. */
export const DEFAULT_ALLOWED_SAMPLE_RATE = 0.01;

export const WINDOWS = ["second", "minute", "hour", "day", "month"] as const;
export type Window = (typeof WINDOWS)[number];

const count = z.number().int().nonnegative();

export const LimitsSchema = z.strictObject({
  second: count.optional().describe("Requests a second: a rate limit (GCRA, burst equal to the limit)."),
  minute: count.optional().describe("Requests a minute: a rate limit (GCRA, burst equal to the limit)."),
  hour: count.optional().describe("Requests an hour: a rate limit (GCRA, burst equal to the limit)."),
  day: count.optional().describe("Requests a UTC calendar day: a quota, reset at midnight UTC."),
  month: count
    .optional()
    .describe("Requests a UTC calendar month: a quota, reset on the 1st at midnight UTC."),
});
export type Limits = z.infer<typeof LimitsSchema>;

/** `resource:action`, `resource:*`, a plain word, or `*`. */
export const PERMISSION_PATTERN = /^(\*|[A-Za-z0-9_.-]{1,64}(:([A-Za-z0-9_.-]{1,64}|\*))?)$/;
const permission = z
  .string()
  .regex(PERMISSION_PATTERN, "a permission is `resource:action`, `resource:*`, a word or `*`");

const credentialSource = z.union([
  z.enum(["bearer", "x-api-key"]),
  z.string().regex(/^header:[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "`header:NAME` with a valid header name"),
  z.string().regex(/^query:[^\s&=#]+$/, "`query:NAME` with a parameter name"),
]);
export type CredentialSource = z.infer<typeof credentialSource>;

const method = z
  .string()
  .regex(/^[A-Za-z]+$/, "an HTTP method")
  .transform((m) => m.toUpperCase());

/** `:name` segments, literal segments and an optional trailing `*`. */
const routePath = z
  .string()
  .regex(/^\/[^?#]*$/, "a path beginning with `/`, without query or fragment")
  .refine((p) => !p.split("/").slice(0, -1).includes("*"), "`*` may only be the last segment");

const RouteSchema = z.strictObject({
  path: routePath.meta({
    description:
      "Path pattern: literal segments (matched ignoring ASCII case unless `paths.caseSensitive`), `:name` for one segment, and a trailing `*` for any rest, none included.",
    examples: ["/api/v1/assess", "/v1/bots/:id", "/api/v1/merchant/*"],
  }),
  methods: z
    .array(method)
    .min(1)
    .optional()
    .meta({
      description:
        "HTTP methods the route matches, compared ignoring case; a route listing GET also matches HEAD. Absent: every method. A request whose method does not match tries the next route.",
      examples: [["GET"], ["POST", "PATCH", "DELETE"]],
    }),
  public: z
    .boolean()
    .default(false)
    .describe(
      "No credential is read or needed; credentials sent anyway are still removed before forwarding.",
    ),
  auth: z
    .array(z.enum(["key", "jwt"]))
    .min(1)
    .default(["key"])
    .describe(
      "Credential kinds the route accepts: API keys, session JWTs (needs the policy's `jwt`), or both.",
    ),
  keyTypes: z
    .array(z.string())
    .min(1)
    .optional()
    .describe(
      "Key types accepted here (names of `keyTypes`); another type is 403 `wrong_key_type`. Absent: any type but `admin`.",
    ),
  permissions: z
    .array(permission)
    .default([])
    .describe("Permissions the credential must all hold; one missing is 403 `insufficient_permissions`."),
  anyPermissions: z
    .array(permission)
    .default([])
    .describe("When not empty, the credential must hold at least one of these."),
  credentials: z
    .array(credentialSource)
    .min(1)
    .optional()
    .describe("Where this route reads credentials from, instead of the policy's `credentials`."),
  cost: count.default(1).describe("Credits an allowed request consumes, for keys with credits; 0: free."),
  builtin: z
    .literal("self")
    .optional()
    .describe(
      "`self`: Portcullis answers with the caller's own key status, limits and credits, like `P/v1/self`; never refused by a limit and consumes nothing.",
    ),
});
export type Route = z.infer<typeof RouteSchema>;

const KeyTypeSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^[a-z0-9_]{2,24}$/, "2 to 24 characters of [a-z0-9_]")
    .meta({
      description:
        "What keys of this type start with, before `_`: 2 to 24 characters of `[a-z0-9_]`, unique among key types; `pc_admin` is reserved.",
      examples: ["sk_live", "pk_live"],
    }),
  checksum: z
    .boolean()
    .default(true)
    .describe(
      "Keys are `<prefix>_<32 base62>_<CRC-32 hex>`, so a mistyped key is refused without a lookup. false: `<prefix>_<1 to 200 of [A-Za-z0-9_-]>`, for imported keys of another format.",
    ),
  defaultPermissions: z
    .array(permission)
    .optional()
    .describe("Permissions given to a new key whose create call names none."),
  allowedPermissions: z
    .array(permission)
    .optional()
    .describe(
      "Ceiling: a key of this type never holds more, whatever its own, its roles' or its plan's permissions; granting more at creation is 400 `permission_not_allowed`. Absent: no ceiling.",
    ),
  plan: z.string().optional().describe("Plan for keys of this type whose key and workspace name none."),
  expiresInSeconds: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Lifetime of a new key that names no `expiresAt`. Absent: keys never expire."),
  ownerScoped: z
    .boolean()
    .default(false)
    .describe(
      "true: a key of this type needs an `ownerId` (create, import or patch without one is 400 `bad_request`) and holds a permission only while its owner's roles grant it too: ((its own ∪ its roles') ⊓ its owner's roles') ∪ its plan's, within `allowedPermissions`. An owner never given roles grants nothing. See docs/consistency.md#owners.",
    ),
});

const PlanSchema = z.strictObject({
  limits: LimitsSchema.default({}).describe(
    "Limits of the plan's keys, window by window; a key's own positive value for a window replaces the plan's.",
  ),
  quotaStatus: z
    .union([z.literal(409), z.literal(429)])
    .default(429)
    .describe("Status of `quota_exceeded` when a day or month quota is spent."),
  permissions: z
    .array(permission)
    .default([])
    .describe("Permissions every key on this plan holds besides its own (plan-gated features)."),
});
export type Plan = z.infer<typeof PlanSchema>;

/** Role names, as the admin API takes them: `[A-Za-z0-9_.:-]{1,64}`, not dots only. */
export const ROLE_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const RoleSchema = z.strictObject({
  permissions: z.array(permission).describe("Permissions a key holding the role gets."),
});

/** The proxies forward-auth knows the headers of (docs/headers.md). */
export const FORWARD_AUTH_PROXIES = ["nginx", "traefik", "caddy", "envoy"] as const;
export type ForwardAuthProxy = (typeof FORWARD_AUTH_PROXIES)[number];

const originUrl = z.string().refine((value) => {
  if (value === "echo") return true;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, 'an http(s) URL or "echo"');

export const PolicySchema = z
  .strictObject({
    basePath: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)+$/, "a path such as `/_portcullis`, without a trailing slash")
      .default("/_portcullis")
      .describe(
        "Prefix `P` of Portcullis' own endpoints (health, admin API, verify, self, forward-auth); every other path is the protected API.",
      ),
    origin: originUrl.optional().meta({
      description:
        'Where allowed requests are forwarded: an http(s) URL, or `"echo"` for the built-in origin that answers with the request it received. Absent: decision-only, an allowed request is answered 200 with the verify body.',
      examples: ["https://origin.example.com", "echo"],
    }),
    originTimeoutSeconds: z
      .number()
      .positive()
      .max(300)
      .default(30)
      .describe(
        "Seconds the origin has to send its response headers before 504 `origin_timeout`; at most 300.",
      ),
    requireHttps: z
      .boolean()
      .default(true)
      .describe(
        "Refuse plain HTTP with 403 `https_required`; `localhost`, `127.0.0.1` and `[::1]` are always allowed.",
      ),
    credentials: z
      .array(credentialSource)
      .min(1)
      .default(["bearer", "x-api-key"])
      .meta({
        description:
          "Where credentials are read from, in order: `bearer`, `x-api-key`, `header:NAME`, `query:NAME`. The first present wins; two different credentials are 400 `ambiguous_credentials`.",
        examples: [["bearer", "query:api_key"], ["header:X-Client-Key"]],
      }),
    hideCredentials: z
      .boolean()
      .default(true)
      .describe(
        "Remove every configured credential source from the request before forwarding, on every route.",
      ),
    allowEncodedSlashes: z
      .boolean()
      .default(false)
      .describe(
        "Allow `%2F`, `%5C` and `%00` inside a path segment; otherwise such a path is 400 `bad_request`.",
      ),
    paths: z
      .strictObject({
        caseSensitive: z
          .boolean()
          .default(false)
          .describe("Literal route segments match exactly instead of ignoring ASCII case."),
        allowNonAscii: z
          .boolean()
          .default(false)
          .describe(
            "Accept paths with non-ASCII characters (valid UTF-8); otherwise they are 400 `bad_request`.",
          ),
      })
      .default({ caseSensitive: false, allowNonAscii: false })
      .describe("How request paths are matched against route patterns."),
    forwardAuth: z
      .strictObject({
        proxy: z
          .enum(FORWARD_AUTH_PROXIES)
          .optional()
          .describe("The proxy that calls `P/v1/authorize` when the call does not name it with `?proxy=`."),
      })
      .optional()
      .describe(
        "Forward-auth: Portcullis answering the authorization subrequests of nginx, Traefik, Caddy or Envoy.",
      ),
    cors: z
      .strictObject({
        origins: z.union([z.literal("*"), z.array(z.string().min(1))]).meta({
          description: 'Browser origins allowed to call, or `"*"` for any.',
          examples: ["*", ["https://app.example.com"]],
        }),
        methods: z
          .array(method)
          .optional()
          .describe("Methods a preflight may ask for. Absent: GET, HEAD, PUT, POST, DELETE and PATCH."),
        headers: z
          .array(z.string().min(1))
          .optional()
          .describe("Request headers a preflight may ask for. Absent: those the browser asks for."),
        maxAgeSeconds: count.optional().describe("How long a browser may cache a preflight answer."),
      })
      .optional()
      .describe(
        "CORS for browser keys: Portcullis answers preflights for allowed origins itself and adds CORS headers to its answers, denials included. Absent: preflights go to the origin unauthenticated.",
      ),
    keyTypes: z
      .record(
        z.string().regex(/^[a-z0-9_]{1,32}$/, "a key type name is 1 to 32 characters of [a-z0-9_]"),
        KeyTypeSchema,
      )
      .describe(
        "Key types by name (1 to 32 characters of `[a-z0-9_]`; `admin` is reserved). Every key has one.",
      ),
    plans: z
      .record(z.string().min(1), PlanSchema)
      .default({})
      .describe("Plans by name: limits, quota status and permissions shared by the keys on them."),
    roles: z
      .record(
        z
          .string()
          .regex(ROLE_NAME_PATTERN, "a role name is 1 to 64 characters of [A-Za-z0-9_.:-]")
          .refine((name) => !/^\.+$/.test(name), "a role name is not dots only"),
        RoleSchema,
      )
      .default({})
      .describe(
        "Roles known in every workspace, by name. A workspace role of the same name (`POST /roles`) replaces the policy's in that workspace; deleting it brings the policy's back. A change here is in force for keys in use within `leases.ms` of the deployment that carries it reaching their objects.",
      ),
    defaultPlan: z
      .string()
      .optional()
      .describe("Plan of a key when neither the key, its workspace nor its key type names one that exists."),
    routes: z
      .array(RouteSchema)
      .describe("The protected API's routes; the first whose path and methods match decides."),
    unmatched: z
      .enum(["deny", "allow-authenticated", "public"])
      .default("deny")
      .describe(
        "A request no route matches: `deny` (404 `route_not_found`), `allow-authenticated` (as a last route `/*`) or `public` (as a last public route `/*`).",
      ),
    jwt: z
      .strictObject({
        secretEnv: z
          .string()
          .min(1)
          .optional()
          .meta({
            description: "Name of the Worker secret holding the HS256 key of session tokens.",
            examples: ["SESSION_SECRET"],
          }),
        jwksUrl: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe("JWKS of RS256, ES256 or EdDSA keys; re-fetched when a token names an unknown key id."),
        issuer: z.string().optional().describe("Required `iss` of session tokens."),
        audience: z.string().optional().describe("Required `aud` of session tokens."),
        permissionsClaim: z
          .string()
          .min(1)
          .default("permissions")
          .describe("Claim holding the session's permissions: a space-separated string or an array."),
        fullAccess: z
          .boolean()
          .default(false)
          .describe("Sessions pass every permission check (their token's permissions are not read)."),
      })
      .refine((jwt) => jwt.secretEnv || jwt.jwksUrl, "set `secretEnv` or `jwksUrl`")
      .optional()
      .describe(
        "Session JWTs, accepted as `Authorization: Bearer` on routes whose `auth` includes `jwt`; set `secretEnv` or `jwksUrl`. `exp` is required; `exp`, `nbf`, `iss` and `aud` are checked with 30 s of clock skew.",
      ),
    limiterFailure: z
      .enum(["closed", "open"])
      .default("closed")
      .describe(
        "When a key's Durable Object fails: `closed` answers 503 `unavailable`; `open` allows a key that D1 shows active, without counting its limits (never a key with credits).",
      ),
    logging: z
      .strictObject({
        allowedSampleRate: z
          .number()
          .min(0)
          .max(1)
          .default(DEFAULT_ALLOWED_SAMPLE_RATE)
          .describe(
            "Share of allowed requests logged, 0 to 1: 0.01 logs one in 100, 1 every one, 0 none (exact counts are in usage). Admin changes, denials and failures are always logged, but a flood of one denial is counted, not logged (docs/policy.md#logging).",
          ),
      })
      .default({ allowedSampleRate: DEFAULT_ALLOWED_SAMPLE_RATE })
      .describe("The one structured log line per request."),
    retention: z
      .strictObject({
        dailyUsageDays: z
          .number()
          .int()
          .min(1)
          .max(3660)
          .default(DEFAULT_DAILY_USAGE_DAYS)
          .describe(
            "Days a key's daily usage is kept, counting today; older days are removed in the background. Hourly usage is kept 7 days (docs/consistency.md#usage).",
          ),
      })
      .default({ dailyUsageDays: DEFAULT_DAILY_USAGE_DAYS })
      .describe("How long usage is kept."),
    webhooks: z
      .array(
        z.strictObject({
          url: z
            .url({ protocol: /^https?$/ })
            .describe("Where events are POSTed; redirects are not followed. Never shown by the API."),
          secretEnv: z
            .string()
            .min(1)
            .describe(
              "Name of the Worker secret holding the signing secret: `whsec_` and base64 (Standard Webhooks).",
            ),
          events: z
            .array(z.enum(EVENT_TYPES))
            .optional()
            .describe("Event types this webhook receives; absent = all."),
          workspaceIds: z
            .array(z.string().min(1))
            .optional()
            .describe("Workspaces whose events this webhook receives; absent = all."),
        }),
      )
      .default([])
      .describe(
        "Webhook endpoints for events (docs/events.md): each event is POSTed, signed as Standard Webhooks, to every webhook whose filters it passes, through a Cloudflare Queue, with retries over more than an hour. A webhook is named by its index in this list.",
      ),
    leaks: z
      .strictObject({
        action: z.enum(["revoke", "disable", "notify"]).default("revoke"),
        githubKeysEnv: z.string().min(1).optional(),
      })
      .optional()
      .describe(
        "GitHub secret-scanning leak reports at `POST P/v1/leaks/github`, served only when `githubKeysEnv` names the secret holding GitHub's `public_keys` document (else 404). Each reported token that is a key of this deployment is revoked, disabled or only audited (`notify`), per `action`, and raises the `key.leaked` event.",
      ),
    creditsLowThreshold: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        "Credit balance at or below which a request raises the `credits.low` event, once per crossing; absent: no `credits.low` event.",
      ),
    leases: z
      .strictObject({
        ms: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(1000)
          .describe("Longest lease of a key's decisions to an isolate, ms; 0 turns leasing off."),
      })
      .default({ ms: 1000 })
      .describe(
        "Leases of a key's decisions to isolates: while a lease holds, an isolate decides the key's requests without asking its object, within a budget counted as spent when granted. Admin changes wait until no earlier lease can be used (at most `ms`).",
      ),
    portal: portalSchema(permission).optional(),
  })
  .superRefine((policy, ctx) => {
    const prefixes = new Map<string, string>();
    for (const [name, type] of Object.entries(policy.keyTypes)) {
      if (name === ADMIN_KEY_TYPE) {
        ctx.addIssue({ code: "custom", path: ["keyTypes", name], message: '"admin" is reserved' });
      }
      if (type.prefix === ADMIN_KEY_PREFIX) {
        ctx.addIssue({
          code: "custom",
          path: ["keyTypes", name, "prefix"],
          message: `"${ADMIN_KEY_PREFIX}" is reserved`,
        });
      }
      const other = prefixes.get(type.prefix);
      if (other) {
        ctx.addIssue({
          code: "custom",
          path: ["keyTypes", name, "prefix"],
          message: `prefix "${type.prefix}" is already used by key type "${other}"`,
        });
      }
      prefixes.set(type.prefix, name);
    }
    policy.routes.forEach((route, index) => {
      for (const type of route.keyTypes ?? []) {
        if (!Object.hasOwn(policy.keyTypes, type)) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", index, "keyTypes"],
            message: `unknown key type "${type}"`,
          });
        }
      }
      if (route.auth.includes("jwt") && !policy.jwt) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", index, "auth"],
          message: '"jwt" needs the policy\'s `jwt` section',
        });
      }
    });
    if (policy.portal) {
      const secrets = [
        ...policy.webhooks.map((webhook) => webhook.secretEnv),
        ...(policy.leaks?.githubKeysEnv ? [policy.leaks.githubKeysEnv] : []),
      ];
      const context = { adminType: ADMIN_KEY_TYPE, keyTypes: policy.keyTypes, secrets };
      for (const issue of portalIssues(policy.portal, context)) ctx.addIssue({ code: "custom", ...issue });
    }
  })
  .meta({
    title: "Portcullis policy",
    description:
      "The deployment's configuration: the Worker variable POLICY, as JSON or as [vars.POLICY] in wrangler.toml.",
  });

export type Policy = z.infer<typeof PolicySchema>;
