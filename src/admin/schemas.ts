/**
 * Schemas of the admin API: they validate input and, through @hono/zod-openapi, are the
 * OpenAPI document. Times are ISO 8601 UTC on the wire.
 */
import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../keys/event-types";
import { parseRange } from "../keys/ip-allowlist";
import { PERMISSION_PATTERN } from "../policy/schema";
import { REFUSALS, type RefusalCode } from "../refusals";

/** Serialised size limit of a key's `meta`, bytes. */
export const META_LIMIT_BYTES = 4096;
/** Page size bounds of list endpoints. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export const Permission = z
  .string()
  .regex(PERMISSION_PATTERN, "a permission is `resource:action`, `resource:*`, a word or `*`")
  .openapi({ example: "transactions:read" });

const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const Limits = z
  .strictObject({
    second: Count.optional(),
    minute: Count.optional(),
    hour: Count.optional(),
    day: Count.optional(),
    month: Count.optional(),
  })
  .openapi("Limits", { example: { minute: 60, day: 1000 } });

export const Refill = z
  .strictObject({ interval: z.enum(["day", "month"]), amount: Count })
  .openapi("CreditRefill");

export const Credits = z
  .strictObject({ remaining: Count, refill: Refill.nullable().default(null) })
  .openapi("Credits");

const Cidr = z
  .string()
  .refine((value) => parseRange(value) !== null, "an IPv4 or IPv6 address or CIDR range");

/** Control characters: C0, DEL and C1. */
const CONTROL_CHARACTER = /\p{Cc}/u;
const CLEAN_TEXT_MESSAGE = "no control characters and no lone surrogates";

/** Text a human or a log will read: well-formed UTF-16 without control characters. */
function isCleanText(text: string): boolean {
  return text.isWellFormed() && !CONTROL_CHARACTER.test(text);
}

/** `.` and `..` are path segments a proxy or a URL parser would resolve, so no name is dots only. */
function isNotDotsOnly(text: string): boolean {
  return !/^\.+$/.test(text);
}

/** Free text of at most `max` characters (key and workspace names). */
export function cleanText(max: number) {
  return z
    .string()
    .max(max)
    .refine(isCleanText, CLEAN_TEXT_MESSAGE)
    .openapi({ description: `At most ${max} characters; ${CLEAN_TEXT_MESSAGE}` });
}

/** `ownerId` and `externalId`: ids of other systems, identity providers' subjects among them. */
const FOREIGN_ID_PATTERN = /^[A-Za-z0-9_.:@|-]{1,128}$/;
const FOREIGN_ID_MESSAGE = "1 to 128 characters of [A-Za-z0-9_.:@|-]";

export const ExternalId = z
  .string()
  .regex(FOREIGN_ID_PATTERN, FOREIGN_ID_MESSAGE)
  .openapi({
    description: `The provider's own id of the organisation the workspace serves: ${FOREIGN_ID_MESSAGE}, unique in the deployment`,
    example: "org_2bX9kLm",
  });

export const OwnerId = z
  .string()
  .regex(FOREIGN_ID_PATTERN, FOREIGN_ID_MESSAGE)
  .refine(isNotDotsOnly, "not dots only")
  .openapi({
    description: `${FOREIGN_ID_MESSAGE}, not dots only (\`|\` so that subjects such as \`auth0|abc\` fit)`,
  });

/** Any JSON value; a named component, so that the document refers to it instead of unfolding it. */
const JsonValue = z.json().openapi("JsonValue", { description: "Any JSON value" });

/** Deepest nesting of objects and arrays in a key's `meta`; `meta` itself is level 1. */
export const META_MAX_DEPTH = 8;

/**
 * What is wrong with a `meta` value before any schema looks inside it, or null. The walk uses
 * its own stack, not the call stack, and stops at the first level too deep, so that no input
 * (a 64 KiB body nests 30,000 levels) can exhaust the stack of the recursive validation and
 * `JSON.stringify` that run after it.
 */
function metaProblem(meta: unknown): string | null {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: meta, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (value === null || typeof value !== "object") continue;
    if (depth > META_MAX_DEPTH) return `nests at most ${META_MAX_DEPTH} levels`;
    for (const [key, child] of Object.entries(value)) {
      if (!isCleanText(key) || (typeof child === "string" && !isCleanText(child))) {
        return `keys and strings hold ${CLEAN_TEXT_MESSAGE}`;
      }
      pending.push({ value: child, depth: depth + 1 });
    }
  }
  return null;
}

const Meta = z
  .preprocess(
    (meta, context) => {
      const problem = metaProblem(meta);
      if (problem) context.addIssue({ code: "custom", message: problem, input: meta });
      return meta;
    },
    z
      .record(z.string(), JsonValue)
      .refine(
        (meta) => new TextEncoder().encode(JSON.stringify(meta)).length <= META_LIMIT_BYTES,
        `at most ${META_LIMIT_BYTES} bytes serialised`,
      ),
  )
  .openapi({
    description: `A JSON object of at most ${META_LIMIT_BYTES} bytes serialised, nesting at most ${META_MAX_DEPTH} levels; its keys and strings hold ${CLEAN_TEXT_MESSAGE}`,
    example: { team: "billing" },
  });

export const RoleName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1 to 64 characters of [A-Za-z0-9_.:-]")
  .refine(isNotDotsOnly, "not dots only")
  .openapi({ description: "1 to 64 characters of [A-Za-z0-9_.:-], not dots only" });
const IsoTime = z.iso.datetime({ offset: true }).openapi({ example: "2027-01-01T00:00:00Z" });
const PlanName = z.string().min(1).max(64);

/** Fields a key is created with, shared by create and import. */
const keySettings = {
  name: cleanText(200).optional(),
  ownerId: OwnerId.optional(),
  permissions: z.array(Permission).max(200).optional(),
  roles: z.array(RoleName).max(50).optional(),
  meta: Meta.optional(),
  plan: PlanName.optional(),
  limits: Limits.optional(),
  credits: Credits.optional(),
  ipAllowlist: z.array(Cidr).max(100).optional(),
  expiresAt: IsoTime.optional(),
};

export const CreateKeyBody = z
  .strictObject({
    workspaceId: z.string().min(1),
    type: z.string().min(1),
    ...keySettings,
  })
  .openapi("CreateKey");

export const ImportKeyBody = z
  .strictObject({
    workspaceId: z.string().min(1),
    type: z.string().min(1),
    key: z.string().min(1).max(512).optional(),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits (SHA-256 of the whole key)")
      .optional(),
    ...keySettings,
  })
  .refine((body) => (body.key === undefined) !== (body.hash === undefined), {
    message: "give exactly one of `key` and `hash`",
    path: ["key"],
  })
  .openapi("ImportKey");

export const RevokeByValueBody = z
  .strictObject({ key: z.string().min(1).max(512).openapi({ description: "The raw key, as leaked" }) })
  .openapi("RevokeByValue");

export const PatchKeyBody = z
  .strictObject({
    name: cleanText(200).nullable().optional(),
    ownerId: OwnerId.nullable().optional(),
    permissions: z.array(Permission).max(200).optional(),
    roles: z.array(RoleName).max(50).optional(),
    meta: Meta.optional(),
    plan: PlanName.nullable().optional(),
    limits: Limits.optional(),
    expiresAt: IsoTime.nullable().optional(),
    enabled: z.boolean().optional(),
    ipAllowlist: z.array(Cidr).max(100).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "name at least one field to change" })
  .openapi("PatchKey");

const ACTOR_ID_DESCRIPTION = "The admin key's id, or the portal member's subject; absent for the root token";

export const CreatorSchema = z
  .object({
    type: z.enum(["root", "admin_key", "portal"]),
    id: z.string().optional().openapi({ description: ACTOR_ID_DESCRIPTION }),
    name: z.string().optional().openapi({ description: "A portal member's display name, when known" }),
  })
  .openapi("Creator", { description: "Who created, imported or rotated a key" });

export const KeyRecordSchema = z
  .object({
    id: z.string().openapi({ example: "key_3ZQ0bV1tV2y4fRkq9mXa" }),
    workspaceId: z.string(),
    type: z.string(),
    name: z.string().nullable(),
    start: z.string().openapi({ example: "sk_live_AbCd" }),
    ownerId: z.string().nullable(),
    permissions: z.array(z.string()),
    roles: z.array(z.string()),
    meta: z.record(z.string(), JsonValue),
    plan: z.string().nullable(),
    limits: Limits,
    credits: Credits.nullable(),
    ipAllowlist: z.array(z.string()),
    enabled: z.boolean(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    lastUsedAt: z.string().nullable(),
    rotatedFrom: z.string().nullable(),
    createdBy: CreatorSchema.nullable().openapi({
      description:
        "Who created, imported or rotated the key (for a rotated key, who rotated it); null for keys made before it was recorded",
    }),
  })
  .openapi("Key");

export const CreatedKeySchema = KeyRecordSchema.extend({
  key: z.string().openapi({ description: "The key itself. Shown once, never again." }),
}).openapi("CreatedKey");

export const KeyListSchema = z
  .object({ items: z.array(KeyRecordSchema), cursor: z.string().nullable() })
  .openapi("KeyList");

export const KeyListQuery = z.object({
  workspaceId: z.string().optional(),
  ownerId: z.string().optional(),
  type: z.string().optional(),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "A prefix of the key's `name` or of its `start`", example: "sk_live_x0" }),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});

export const WorkspaceSchema = z
  .object({
    id: z.string().openapi({ example: "ws_8fJ2kq0aLm3nB5cD7eF9" }),
    name: z.string(),
    plan: z.string().nullable(),
    externalId: z.string().nullable().openapi({
      description: "The provider's own id of the organisation the workspace serves; unique, or null",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Workspace");

const WorkspaceName = cleanText(200).min(1);

export const CreateWorkspaceBody = z
  .strictObject({
    name: WorkspaceName,
    plan: PlanName.nullable().optional(),
    externalId: ExternalId.nullable().optional(),
  })
  .openapi("CreateWorkspace");

export const PatchWorkspaceBody = z
  .strictObject({
    name: WorkspaceName.optional(),
    plan: PlanName.nullable().optional(),
    externalId: ExternalId.nullable()
      .optional()
      .openapi({ description: "Set or cleared (null) by the root token only" }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "name at least one field to change" })
  .openapi("PatchWorkspace");

export const WorkspaceListSchema = z
  .object({ items: z.array(WorkspaceSchema), cursor: z.string().nullable() })
  .openapi("WorkspaceList");

export const PageQuery = z.object({
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});

export const WorkspaceListQuery = PageQuery.extend({
  externalId: ExternalId.optional().openapi({
    description: "Only the workspace with this externalId (none, for an admin key, unless its own)",
  }),
});

/** Every code of the one catalogue, `src/refusals.ts`. */
const REFUSAL_CODES = Object.keys(REFUSALS) as [RefusalCode, ...RefusalCode[]];

export const ErrorCode = z.enum(REFUSAL_CODES).openapi("ErrorCode", {
  description: "Every error code Portcullis answers with; also sent as `X-Portcullis-Code`.",
});

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ description: "`urn:portcullis:problem:<code>`" }),
    title: z.string(),
    status: z.number().int().openapi({ description: "The HTTP status (to nginx, 403: see forward-auth)" }),
    code: ErrorCode,
    detail: z.string(),
    requestId: z.string().openapi({ description: "As in the `X-Request-Id` header" }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "The failing fields of a 400 `bad_request` from validation" }),
    error: z.object({ type: ErrorCode, message: z.string() }).openapi({
      description:
        "An extension member repeating `code` and `detail`, for clients of OpenAI- and Anthropic-style APIs, which read only this member",
    }),
  })
  .openapi("Problem", { description: "An RFC 9457 problem (`application/problem+json`)." });

export const KeyIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "key_3ZQ0bV1tV2y4fRkq9mXa" }),
});

export const WorkspaceIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "ws_8fJ2kq0aLm3nB5cD7eF9" }),
});

export const RoleSchema = z
  .object({
    workspaceId: z.string(),
    name: z.string(),
    permissions: z.array(z.string()),
    source: z.enum(["policy", "workspace"]).openapi({
      description:
        "`policy`: a role of `policy.roles`, known in every workspace; `workspace`: the workspace's own, replacing the policy's of its name",
    }),
    createdAt: z.string().nullable().openapi({ description: "Null for a policy role" }),
    updatedAt: z.string().nullable().openapi({ description: "Null for a policy role" }),
  })
  .openapi("Role");

export const UpsertRoleBody = z
  .strictObject({ workspaceId: z.string().min(1), name: RoleName, permissions: z.array(Permission).max(200) })
  .openapi("UpsertRole");

export const RoleListSchema = z.object({ items: z.array(RoleSchema) }).openapi("RoleList");

/** `workspaceId` of role calls: required for root, an admin key's own workspace by default. */
export const RoleWorkspaceQuery = z.object({ workspaceId: z.string().optional() });

export const RoleNameParam = z.object({
  name: RoleName.openapi({ param: { name: "name", in: "path" }, example: "billing-admin" }),
});

const WindowView = z
  .object({
    window: z.enum(["second", "minute", "hour", "day", "month"]),
    limit: z.number().int(),
    remaining: z.number().int(),
    reset: z.number().int().openapi({ description: "Seconds until one more request is allowed" }),
  })
  .openapi("WindowStatus");

export const KeyDetailSchema = KeyRecordSchema.extend({
  counters: z.object({ plan: z.string().nullable(), limits: z.array(WindowView) }),
}).openapi("KeyDetail");

/** `workspaceId` of owner calls: required for root, an admin key's own workspace by default. */
export const OwnerWorkspaceQuery = z.object({ workspaceId: z.string().optional() });

export const OwnerListQuery = PageQuery.extend({ workspaceId: z.string().optional() });

export const OwnerIdParam = z.object({
  ownerId: OwnerId.openapi({ param: { name: "ownerId", in: "path" }, example: "user_42" }),
});

export const PutOwnerBody = z
  .strictObject({
    limits: Limits.optional().openapi({
      description: "The owner's windows, shared by its keys; 0 or absent = no owner limit",
    }),
    credits: Credits.nullable()
      .optional()
      .openapi({ description: "The balance shared by the owner's keys without credits of their own" }),
  })
  .openapi("PutOwner");

export const PutOwnerRolesBody = z
  .strictObject({
    roles: z
      .array(RoleName)
      .max(50)
      .openapi({ description: "Role names of the workspace or of `policy.roles`; `[]` = none" }),
  })
  .openapi("PutOwnerRoles");

export const OwnerSchema = z
  .object({
    ownerId: z.string(),
    workspaceId: z.string(),
    limits: z.array(WindowView).openapi({ description: "One entry per owner window, with live remaining" }),
    credits: Credits.nullable(),
    roles: z.array(z.string()).openapi({
      description:
        "The owner's roles: a key of an `ownerScoped` type holds a permission only while they grant it; `[]` when none or never set",
    }),
    rolesAsOf: IsoTime.nullable().openapi({
      description:
        "When the roles are as of: a change by root or an admin key dates them 30 s ahead, a portal sync its token's `iat`; null: never set",
    }),
    keyCount: z.number().int().openapi({ description: "Keys of the owner neither revoked nor deleted" }),
  })
  .openapi("Owner");

export const OwnerListSchema = z
  .object({
    items: z.array(
      z.object({
        ownerId: z.string(),
        limits: Limits,
        credits: Credits.nullable().openapi({
          description: "As last set with PUT (GET shows the live balance)",
        }),
        keyCount: z.number().int(),
      }),
    ),
    cursor: z.string().nullable(),
  })
  .openapi("OwnerList");

export const OwnerRevokedSchema = z
  .object({ revoked: z.number().int().openapi({ description: "Keys this call revoked" }) })
  .openapi("OwnerRevoked");

export const CreditsBody = z
  .strictObject({
    op: z.enum(["set", "increment", "decrement"]),
    amount: Count,
    refill: Refill.nullable().optional(),
  })
  .openapi("ChangeCredits");

export const UsageQuery = z.object({
  granularity: z.enum(["day", "hour"]).default("day"),
  from: z
    .string()
    .optional()
    .openapi({ description: "Inclusive: an ISO date or time", example: "2026-11-01" }),
  to: z.string().optional().openapi({ description: "Inclusive: an ISO date or time", example: "2026-11-23" }),
});

export const UsageSchema = z
  .object({
    items: z.array(
      z.object({
        day: z
          .string()
          .optional()
          .openapi({ description: "With granularity=day: the UTC date", example: "2026-11-23" }),
        hour: z
          .string()
          .optional()
          .openapi({ description: "With granularity=hour: the UTC hour", example: "2026-11-23T14:00:00Z" }),
        allowed: z.number().int(),
        denied: z.record(z.string(), z.number().int()),
      }),
    ),
  })
  .openapi("Usage");

/** Longest grace period of a rotation: 30 days, seconds. */
const MAX_GRACE_SECONDS = 30 * 86_400;

export const RotateBody = z
  .strictObject({ gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(0) })
  .openapi("RotateKey");

export const AuditQuery = PageQuery.extend({ workspaceId: z.string().optional() });

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    workspaceId: z.string(),
    actor: z.object({
      type: z.enum(["root", "admin_key", "portal", "system"]),
      id: z
        .string()
        .optional()
        .openapi({
          description: `${ACTOR_ID_DESCRIPTION}; \`github\` for the system's leak reports`,
        }),
      name: z.string().optional().openapi({ description: "A portal member's display name, when known" }),
    }),
    action: z.string().openapi({ example: "key.revoke" }),
    targetId: z.string(),
    requestId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .openapi("AuditEntry");

export const AuditListSchema = z
  .object({ items: z.array(AuditEntrySchema), cursor: z.string().nullable() })
  .openapi("AuditList");

const EventTypeSchema = z
  .enum(EVENT_TYPES)
  .openapi("EventType", { description: "An event type (what a webhook's `events` take)" });

export const EventQuery = PageQuery.extend({
  workspaceId: z.string().optional(),
  type: EventTypeSchema.optional(),
});

export const EventSchema = z
  .object({
    id: z.string().openapi({ description: "`evt_` + 20 base62: the `webhook-id` of every delivery." }),
    type: EventTypeSchema,
    at: z.string(),
    data: z.record(z.string(), z.unknown()).openapi({
      description:
        "A key's event names the key (`keyId`, `workspaceId`, `ownerId`, `type`, `start`) beside its own fields; `owner.revoked` names no key: `ownerId`, `workspaceId`, `revoked`. Never a secret.",
    }),
    deliveries: z.array(
      z.object({
        webhook: z
          .number()
          .int()
          .openapi({ description: "Index of the webhook in the policy's `webhooks`." }),
        status: z.enum(["pending", "delivered", "failed"]),
        attempts: z.number().int(),
      }),
    ),
  })
  .openapi("Event");

export const EventListSchema = z
  .object({ items: z.array(EventSchema), cursor: z.string().nullable() })
  .openapi("EventList");

export const PolicySummarySchema = z
  .object({
    keyTypes: z.array(
      z.object({
        name: z.string(),
        prefix: z.string().openapi({ description: "What the type's keys start with, before `_`" }),
        defaultPermissions: z
          .array(z.string())
          .nullable()
          .openapi({ description: "Given to a new key that names none; null: none" }),
        allowedPermissions: z
          .array(z.string())
          .nullable()
          .openapi({ description: "The ceiling of the type's keys; null: no ceiling" }),
        plan: z.string().nullable().openapi({ description: "The type's plan, for keys that name none" }),
        expiresInSeconds: z.number().int().nullable(),
        ownerScoped: z.boolean().openapi({
          description: "true: the type's keys hold a permission only while their owner's roles grant it too",
        }),
      }),
    ),
    adminPermissions: z
      .array(z.string())
      .openapi({ description: "The permissions of the built-in `admin` key type, `*` among them" }),
    plans: z.array(
      z.object({
        name: z.string(),
        limits: Limits,
        quotaStatus: z.union([z.literal(409), z.literal(429)]),
        permissions: z.array(z.string()),
      }),
    ),
    defaultPlan: z.string().nullable(),
    roles: z
      .array(z.object({ name: z.string(), permissions: z.array(z.string()) }))
      .openapi({ description: "The policy's roles; a workspace's own roles are `GET /roles`" }),
    permissions: z.array(z.string()).openapi({
      description: "Every permission the policy names (routes, key types, plans, roles), sorted",
    }),
    eventTypes: z.array(EventTypeSchema).openapi({
      description:
        "Every event type Portcullis raises: what a webhook's `events` and `GET /events?type=` take",
    }),
  })
  .openapi("PolicySummary");
