/**
 * The shape of every answer the CLI prints, checked before it prints anything: a 2xx that is
 * not of its operation's shape (an impostor, a proxy's page, a hostile server) is an error, not
 * a success (docs/cli.md#what-the-cli-trusts). Each schema is typed against the client's type
 * of the same name, so `tsc` tells when the API's documents and these checks part ways. Fields
 * beyond these are allowed and ignored: the check is on what the CLI reads.
 */
import { z } from "zod";
import { type components, EVENT_TYPES } from "../client/index.ts";
import type { PortalSession as PortalSessionType } from "../client/portal.ts";

type Schemas = components["schemas"];

const nullableString = z.string().nullable();
const strings = z.array(z.string());
const count = z.number();

const JsonValue: z.ZodType<Schemas["JsonValue"]> = z.json() as z.ZodType<Schemas["JsonValue"]>;

export const Workspace: z.ZodType<Schemas["Workspace"]> = z.object({
  id: z.string(),
  name: z.string(),
  plan: nullableString,
  externalId: nullableString,
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const WorkspaceList: z.ZodType<Schemas["WorkspaceList"]> = z.object({
  items: z.array(Workspace),
  cursor: nullableString,
});

export const Usage: z.ZodType<Schemas["Usage"]> = z.object({
  items: z.array(
    z.object({
      day: z.string().optional(),
      hour: z.string().optional(),
      allowed: count,
      denied: z.record(z.string(), count),
    }),
  ),
});

/** Who made a key, or did a change: the shape of an audit actor. */
const actorId = { id: z.string().optional(), name: z.string().optional() };
const Creator = z.object({ type: z.enum(["root", "admin_key", "portal"]), ...actorId });

const CreditRefill = z.object({ interval: z.enum(["day", "month"]), amount: count }).nullable();
const Credits = z.object({ remaining: count, refill: CreditRefill.optional() }).nullable();
const Limits = z.object({
  second: count.optional(),
  minute: count.optional(),
  hour: count.optional(),
  day: count.optional(),
  month: count.optional(),
});
const WindowStatus = z.object({
  window: z.enum(["second", "minute", "hour", "day", "month"]),
  limit: count,
  remaining: count,
  reset: count,
});

const keyShape = {
  id: z.string(),
  workspaceId: z.string(),
  type: z.string(),
  name: nullableString,
  start: z.string(),
  ownerId: nullableString,
  permissions: strings,
  roles: strings,
  meta: z.record(z.string(), JsonValue),
  plan: nullableString,
  limits: Limits,
  credits: Credits,
  ipAllowlist: strings,
  enabled: z.boolean(),
  expiresAt: nullableString,
  revokedAt: nullableString,
  createdAt: z.string(),
  updatedAt: z.string(),
  lastUsedAt: nullableString,
  rotatedFrom: nullableString,
  createdBy: Creator.nullable(),
};

export const Key: z.ZodType<Schemas["Key"]> = z.object(keyShape);

export const CreatedKey: z.ZodType<Schemas["CreatedKey"]> = z.object({ ...keyShape, key: z.string() });

export const KeyList: z.ZodType<Schemas["KeyList"]> = z.object({
  items: z.array(Key),
  cursor: nullableString,
});

export const KeyDetail: z.ZodType<Schemas["KeyDetail"]> = z.object({
  ...keyShape,
  counters: z.object({
    plan: nullableString,
    limits: z.array(WindowStatus),
  }),
});

export const Role: z.ZodType<Schemas["Role"]> = z.object({
  workspaceId: z.string(),
  name: z.string(),
  permissions: strings,
  source: z.enum(["policy", "workspace"]),
  createdAt: nullableString,
  updatedAt: nullableString,
});

export const RoleList: z.ZodType<Schemas["RoleList"]> = z.object({ items: z.array(Role) });

export const Owner: z.ZodType<Schemas["Owner"]> = z.object({
  ownerId: z.string(),
  workspaceId: z.string(),
  limits: z.array(WindowStatus),
  credits: Credits,
  roles: z.array(z.string()),
  rolesAsOf: nullableString,
  keyCount: count,
});

export const OwnerList: z.ZodType<Schemas["OwnerList"]> = z.object({
  items: z.array(z.object({ ownerId: z.string(), limits: Limits, credits: Credits, keyCount: count })),
  cursor: nullableString,
});

export const OwnerRevoked: z.ZodType<Schemas["OwnerRevoked"]> = z.object({ revoked: count });

const Event: z.ZodType<Schemas["Event"]> = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
  deliveries: z.array(
    z.object({ webhook: count, status: z.enum(["pending", "delivered", "failed"]), attempts: count }),
  ),
});

export const EventList: z.ZodType<Schemas["EventList"]> = z.object({
  items: z.array(Event),
  cursor: nullableString,
});

const AuditEntry: z.ZodType<Schemas["AuditEntry"]> = z.object({
  id: z.string(),
  at: z.string(),
  workspaceId: z.string(),
  actor: z.object({ type: z.enum(["root", "admin_key", "portal", "system"]), ...actorId }),
  action: z.string(),
  targetId: z.string(),
  requestId: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

export const AuditList: z.ZodType<Schemas["AuditList"]> = z.object({
  items: z.array(AuditEntry),
  cursor: nullableString,
});

export const VerifyResponse: z.ZodType<Schemas["VerifyResponse"]> = z.object({
  valid: z.boolean(),
  code: z.enum([
    "valid",
    "malformed_key",
    "invalid_key",
    "key_revoked",
    "key_disabled",
    "key_expired",
    "ip_not_allowed",
    "wrong_key_type",
    "insufficient_permissions",
    "rate_limited",
    "quota_exceeded",
    "credits_exhausted",
  ]),
  keyId: z.string().optional(),
  workspaceId: z.string().optional(),
  type: z.string().optional(),
  ownerId: nullableString.optional(),
  permissions: strings.optional(),
  plan: nullableString.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  expiresAt: nullableString.optional(),
  ratelimit: z.object({ window: z.string(), limit: count, remaining: count, reset: count }).optional(),
  credits: z.object({ remaining: count }).optional(),
});

/** The answer of an operation without one (204): no body. */
export const NoContent = z.undefined();

/**
 * A refusal as the CLI prints it: looser than the API's problem (any code, an optional detail),
 * since a proxy or an older deployment may answer one; what it prints must still be text.
 */
export const ProblemAnswer = z.object({
  type: z.string().optional(),
  title: z.string(),
  status: count,
  code: z.string(),
  detail: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** `GET P/portal/v1/session`: what a member's token may do (`portcullis portal check`). */
export const PortalSession: z.ZodType<PortalSessionType> = z.object({
  workspace: z.object({ id: z.string(), name: z.string(), plan: nullableString }),
  member: z.object({ subject: z.string(), name: nullableString, roles: strings }),
  permissions: z.array(z.enum(["keys:read", "keys:manage", "keys:own", "usage:read"])),
  keyTypes: z.array(
    z.object({
      type: z.string(),
      label: z.string(),
      ownedBy: z.enum(["workspace", "member"]),
      grantable: z.array(z.object({ permission: z.string(), label: z.string() })),
      defaultPermissions: strings,
      limits: z.array(
        z.object({ window: z.enum(["second", "minute", "hour", "day", "month"]), max: count.nullable() }),
      ),
      canCreate: z.boolean(),
    }),
  ),
  limits: z.object({
    maxKeysPerWorkspace: count,
    maxKeysPerMember: count,
    maxLifetimeDays: count.nullable(),
  }),
});
