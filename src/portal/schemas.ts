/**
 * Schemas of the portal API (docs/portal.md): they validate a member's input, strictly (a field
 * the portal does not take, such as `workspaceId`, `roles` or `meta`, is 400), and are its
 * OpenAPI document.
 */
import { z } from "@hono/zod-openapi";
import { CreatorSchema, cleanText, Limits, MAX_PAGE_SIZE, Permission, UsageQuery } from "../admin/schemas";
import { PORTAL_PERMISSIONS } from "../policy/portal";

/** Longest grace period of a portal rotation: 7 days, seconds. */
export const MAX_PORTAL_GRACE_SECONDS = 7 * 86_400;
const DEFAULT_PORTAL_PAGE_SIZE = 50;

const PortalPermissionSchema = z.enum(PORTAL_PERMISSIONS).openapi("PortalPermission");

export const PortalKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_3ZQ0bV1tV2y4fRkq9mXa" }),
    type: z.string(),
    name: z.string().nullable(),
    start: z.string().openapi({ example: "sk_live_AbCd" }),
    ownerId: z.string().nullable(),
    permissions: z.array(z.string()),
    enabled: z.boolean(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    createdBy: CreatorSchema.nullable(),
    rotatedFrom: z.string().nullable(),
  })
  .openapi("PortalKey");

export const PortalCreatedKeySchema = PortalKeySchema.extend({
  key: z.string().openapi({ description: "The key itself. Shown once, never again." }),
}).openapi("PortalCreatedKey");

const WindowSchema = z.object({
  window: z.string().openapi({ example: "day" }),
  limit: z.number().int(),
  remaining: z.number().int(),
  reset: z.number().int().openapi({ description: "Seconds until one more request is allowed" }),
});

export const PortalKeyDetailSchema = PortalKeySchema.extend({
  limits: z.array(WindowSchema).openapi({ description: "The windows in force, as `self` shows them" }),
  credits: z
    .object({
      remaining: z.number().int(),
      refill: z.object({ interval: z.string(), amount: z.number() }).nullable(),
    })
    .nullable(),
}).openapi("PortalKeyDetail");

export const PortalKeyListSchema = z
  .object({ items: z.array(PortalKeySchema), cursor: z.string().nullable() })
  .openapi("PortalKeyList");

export const PortalKeyListQuery = z.strictObject({
  mine: z.enum(["true", "false"]).optional().openapi({ description: "`true`: only the member's own keys" }),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PORTAL_PAGE_SIZE),
});

export const PortalUsageQuery = UsageQuery.strict();

export const PortalCreateKeyBody = z
  .strictObject({
    type: z.string().min(1).max(64),
    name: cleanText(100).min(1),
    permissions: z.array(Permission).max(200).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({ example: "2027-01-01T00:00:00Z" }),
    limits: Limits.optional(),
  })
  .openapi("PortalCreateKey");

export const PortalPatchKeyBody = z
  .strictObject({ name: cleanText(100).min(1).optional(), enabled: z.boolean().optional() })
  .refine((body) => body.name !== undefined || body.enabled !== undefined, {
    message: "name at least one field to change",
  })
  .openapi("PortalPatchKey");

export const PortalRotateBody = z
  .strictObject({
    gracePeriodSeconds: z.number().int().min(0).max(MAX_PORTAL_GRACE_SECONDS).default(0),
  })
  .openapi("PortalRotateKey");

export const PortalKeyIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "key_3ZQ0bV1tV2y4fRkq9mXa" }),
});

export const PortalSessionSchema = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string(), plan: z.string().nullable() }),
    member: z.object({ subject: z.string(), name: z.string().nullable(), roles: z.array(z.string()) }),
    permissions: z.array(PortalPermissionSchema),
    keyTypes: z.array(
      z.object({
        type: z.string(),
        label: z.string(),
        ownedBy: z.enum(["workspace", "member"]),
        grantable: z.array(z.object({ permission: z.string(), label: z.string() })),
        defaultPermissions: z.array(z.string()),
        limits: z.array(z.object({ window: z.string(), max: z.number().int().nullable() })),
        canCreate: z.boolean(),
      }),
    ),
    limits: z.object({
      maxKeysPerWorkspace: z.number().int(),
      maxKeysPerMember: z.number().int(),
      maxLifetimeDays: z.number().int().nullable(),
    }),
  })
  .openapi("PortalSession");
