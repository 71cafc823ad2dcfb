/**
 * `policy.portal` (docs/portal.md): self-service for the API's own customers. The schema of the
 * section and the rules that tie it to the rest of the policy (its key types, its secrets).
 */
import { z } from "zod";

export const PORTAL_PERMISSIONS = ["keys:read", "keys:manage", "keys:own", "usage:read"] as const;
export type PortalPermission = (typeof PORTAL_PERMISSIONS)[number];

const portalPermission = z.enum(PORTAL_PERMISSIONS);

/** A top-level claim name, or a JSON Pointer (RFC 6901) when it starts with `/`. */
const claim = z
  .string()
  .min(1)
  .max(256)
  .refine(
    (name) => !name.startsWith("/") || /^(\/([^~/]|~[01])*)+$/.test(name),
    "a claim name, or a JSON Pointer such as `/app_metadata/org_id` (`~0` for ~, `~1` for /)",
  );

const WINDOW_NAMES = ["second", "minute", "hour", "day", "month"] as const;

/** An exact browser origin: `https://host[:port]`, or plain http on localhost and 127.0.0.1. */
export function isPortalOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.origin !== value) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
}

/** The section's schema, with the policy's permission syntax (schema.ts owns it). */
export function portalSchema(permission: z.ZodString) {
  const PortalKeyTypeSchema = z.strictObject({
    label: z.string().min(1).max(100).optional().describe("The type's name on screen."),
    ownedBy: z
      .enum(["workspace", "member"])
      .describe(
        "`workspace`: the organisation's keys; `member`: a member's own keys, whose `ownerId` is the member's subject (the type must be `ownerScoped`).",
      ),
    grantable: z
      .array(permission)
      .describe("Permissions a member may choose for a key of this type, within the type's ceiling."),
    labels: z
      .record(z.string(), z.string().max(200))
      .optional()
      .describe("Human words for each grantable permission."),
    limits: z
      .array(z.enum(WINDOW_NAMES))
      .optional()
      .describe("Windows a member may set on a key of this type, each at most the plan's value."),
  });

  return z
    .strictObject({
      jwt: z
        .strictObject({
          secretEnv: z.string().min(1).optional().describe("Worker secret holding the provider's HS256 key."),
          jwksUrl: z
            .url({ protocol: /^https?$/ })
            .optional()
            .describe("The provider's JWKS (RS256, ES256, EdDSA); exactly one of `secretEnv` and `jwksUrl`."),
          issuer: z.string().optional().describe("Required `iss` of the provider's tokens."),
          audience: z
            .string()
            .optional()
            .describe("Required `aud`; set it apart from `jwt.audience` unless both take the same login."),
        })
        .refine((jwt) => (jwt.secretEnv === undefined) !== (jwt.jwksUrl === undefined), {
          message: "set exactly one of `secretEnv` and `jwksUrl`",
        })
        .describe("The provider's own session tokens (its login)."),
      workspaceClaim: claim
        .default("org_id")
        .describe(
          "Claim naming the organisation, matched to a workspace's `externalId`; only the provider may set it.",
        ),
      subjectClaim: claim.default("sub").describe("Claim naming the member."),
      rolesClaim: claim
        .default("org_role")
        .describe(
          "Claim holding the member's roles: one string or an array of strings; only the provider may set it.",
        ),
      nameClaim: claim.optional().describe("Claim holding the member's display name, kept in `createdBy`."),
      roles: z
        .record(z.string().min(1).max(128), z.array(portalPermission))
        .describe("A member's portal permissions, by role."),
      everyMember: z.array(portalPermission).default([]).describe("Portal permissions of every member."),
      keyTypes: z
        .record(z.string(), PortalKeyTypeSchema)
        .describe("The key types the portal shows; others stay invisible to members."),
      createOnPlans: z
        .array(z.string().min(1))
        .optional()
        .describe("Plans whose workspaces may create keys; absent: every plan."),
      maxKeysPerWorkspace: z
        .number()
        .int()
        .min(1)
        .default(100)
        .describe("Active portal-visible keys a workspace may have."),
      maxKeysPerMember: z.number().int().min(1).default(10).describe("Active own keys a member may have."),
      maxLifetimeDays: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe(
          "Absent: a key may never expire; else an expiry is required, at most this many days ahead.",
        ),
      origins: z
        .array(z.string().refine(isPortalOrigin, "an exact `https://host[:port]` (or http on localhost)"))
        .default([])
        .describe("Browser origins allowed to call `P/portal/v1` (CORS)."),
      createWorkspaces: z
        .boolean()
        .default(false)
        .describe("An organisation without a workspace gets one on its first call."),
      newWorkspacePlan: z.string().optional().describe("Plan of a workspace the portal creates."),
      syncOwnerRoles: z
        .boolean()
        .default(false)
        .describe("Members' roles live in their owner roles, set from newer tokens (docs/portal.md)."),
    })
    .describe("Self-service for the API's own customers: the portal API, page and element (docs/portal.md).");
}

export type Portal = z.infer<ReturnType<typeof portalSchema>>;
export type PortalKeyType = Portal["keyTypes"][string];

/** What the rest of the policy tells the portal's rules. */
interface PortalContext {
  /** The built-in admin key type's name. */
  adminType: string;
  keyTypes: Record<string, object>;
  secrets: string[];
}

function isOwnerScoped(type: object | undefined): boolean {
  return type !== undefined && "ownerScoped" in type && type.ownerScoped === true;
}

/** Secrets the portal's HS256 key may never be: they sign or unlock something else. */
export const RESERVED_SECRETS = ["ADMIN_TOKEN", "ORIGIN_SIGNING_SECRET"];

/** The portal's `policy_invalid` rules that look beyond the section itself. */
export function portalIssues(
  portal: Portal,
  context: PortalContext,
): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const [name, type] of Object.entries(portal.keyTypes)) {
    const path = ["portal", "keyTypes", name];
    if (name === context.adminType) {
      issues.push({ path, message: "admin keys are never shown in the portal" });
      continue;
    }
    if (!Object.hasOwn(context.keyTypes, name)) {
      issues.push({ path, message: `unknown key type "${name}"` });
      continue;
    }
    if (type.ownedBy === "member" && !isOwnerScoped(context.keyTypes[name])) {
      issues.push({
        path: [...path, "ownedBy"],
        message: "a member's key type must be `ownerScoped`, so that its keys follow the member's role",
      });
    }
  }
  const secret = portal.jwt.secretEnv;
  if (secret !== undefined && [...RESERVED_SECRETS, ...context.secrets].includes(secret)) {
    issues.push({
      path: ["portal", "jwt", "secretEnv"],
      message: `"${secret}" is another secret of the deployment; give the portal its own`,
    });
  }
  return issues;
}
