/**
 * The policy (SPEC 2): the deployment's configuration, validated once per isolate.
 * Objects are strict, so that a misspelt field is reported instead of silently ignored.
 */
import { z } from "zod";

/** Name of the built-in key type for admin keys (SPEC 6). */
export const ADMIN_KEY_TYPE = "admin";
/** Prefix of admin keys; reserved for the built-in type. */
export const ADMIN_KEY_PREFIX = "pc_admin";

export const WINDOWS = ["second", "minute", "hour", "day", "month"] as const;
export type Window = (typeof WINDOWS)[number];

const count = z.number().int().nonnegative();

export const LimitsSchema = z.strictObject({
  second: count.optional(),
  minute: count.optional(),
  hour: count.optional(),
  day: count.optional(),
  month: count.optional(),
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
  path: routePath,
  methods: z.array(method).min(1).optional(),
  public: z.boolean().default(false),
  auth: z
    .array(z.enum(["key", "jwt"]))
    .min(1)
    .default(["key"]),
  keyTypes: z.array(z.string()).min(1).optional(),
  permissions: z.array(permission).default([]),
  anyPermissions: z.array(permission).default([]),
  credentials: z.array(credentialSource).min(1).optional(),
  cost: count.default(1),
  builtin: z.literal("self").optional(),
});
export type Route = z.infer<typeof RouteSchema>;

const KeyTypeSchema = z.strictObject({
  prefix: z.string().regex(/^[a-z0-9_]{2,24}$/, "2 to 24 characters of [a-z0-9_]"),
  checksum: z.boolean().default(true),
  defaultPermissions: z.array(permission).optional(),
  allowedPermissions: z.array(permission).optional(),
  plan: z.string().optional(),
  expiresInSeconds: z.number().int().positive().optional(),
});

const PlanSchema = z.strictObject({
  limits: LimitsSchema.default({}),
  quotaStatus: z.union([z.literal(409), z.literal(429)]).default(429),
  permissions: z.array(permission).default([]),
});
export type Plan = z.infer<typeof PlanSchema>;

/** The proxies forward-auth knows the headers of (SPEC 5). */
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
      .default("/_portcullis"),
    origin: originUrl.optional(),
    /** Time allowed for the origin to answer before 504 `origin_timeout`. */
    originTimeoutSeconds: z.number().positive().max(300).default(30),
    requireHttps: z.boolean().default(true),
    credentials: z.array(credentialSource).min(1).default(["bearer", "x-api-key"]),
    hideCredentials: z.boolean().default(true),
    allowEncodedSlashes: z.boolean().default(false),
    paths: z
      .strictObject({
        /** Literal route segments match exactly instead of ignoring ASCII case. */
        caseSensitive: z.boolean().default(false),
        /** Paths may carry non-ASCII characters (valid UTF-8, no ASCII look-alikes). */
        allowNonAscii: z.boolean().default(false),
      })
      .default({ caseSensitive: false, allowNonAscii: false }),
    /** The proxy that calls `P/v1/authorize` when the call does not name it with `?proxy=`. */
    forwardAuth: z.strictObject({ proxy: z.enum(FORWARD_AUTH_PROXIES).optional() }).optional(),
    cors: z
      .strictObject({
        origins: z.union([z.literal("*"), z.array(z.string().min(1))]),
        methods: z.array(method).optional(),
        headers: z.array(z.string().min(1)).optional(),
        maxAgeSeconds: count.optional(),
      })
      .optional(),
    keyTypes: z.record(
      z.string().regex(/^[a-z0-9_]{1,32}$/, "a key type name is 1 to 32 characters of [a-z0-9_]"),
      KeyTypeSchema,
    ),
    plans: z.record(z.string().min(1), PlanSchema).default({}),
    defaultPlan: z.string().optional(),
    routes: z.array(RouteSchema),
    unmatched: z.enum(["deny", "allow-authenticated", "public"]).default("deny"),
    jwt: z
      .strictObject({
        secretEnv: z.string().min(1).optional(),
        jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
        issuer: z.string().optional(),
        audience: z.string().optional(),
        permissionsClaim: z.string().min(1).default("permissions"),
        fullAccess: z.boolean().default(false),
      })
      .refine((jwt) => jwt.secretEnv || jwt.jwksUrl, "set `secretEnv` or `jwksUrl`")
      .optional(),
    limiterFailure: z.enum(["closed", "open"]).default("closed"),
    /** Allowed requests are logged at this rate (0 to 1); denials and failures always. */
    logging: z
      .strictObject({ allowedSampleRate: z.number().min(0).max(1).default(1) })
      .default({ allowedSampleRate: 1 }),
    /**
     * Leases of a key's decisions to isolates, at most `ms` long (0 = off). Accepted and
     * validated; no lease is granted yet, so every request asks the key's object, which keeps
     * every guarantee leases must keep.
     */
    leases: z.strictObject({ ms: z.number().int().min(0).max(10_000).default(1000) }).default({ ms: 1000 }),
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
  });

export type Policy = z.infer<typeof PolicySchema>;
