/**
 * Example bodies of the admin API for the OpenAPI document: one consistent story, a workspace
 * `acme` and its key `backend`.
 */
import { ADMIN_PERMISSIONS } from "../keys/admin-permissions";
import { EVENT_TYPES } from "../keys/event-types";

const WORKSPACE_ID = "ws_8fJ2kq0aLm3nB5cD7eF9";
const KEY_ID = "key_3ZQ0bV1tV2y4fRkq9mXa";
const CREATED_AT = "2026-11-23T03:24:40.982Z";

const workspace = {
  id: WORKSPACE_ID,
  name: "acme",
  plan: "pro",
  externalId: "org_2bX9kLm",
  createdAt: CREATED_AT,
  updatedAt: CREATED_AT,
};

const key = {
  id: KEY_ID,
  workspaceId: WORKSPACE_ID,
  type: "server",
  name: "backend",
  start: "sk_live_x0Me",
  ownerId: "user_42",
  permissions: ["products:read", "products:write"],
  roles: [],
  meta: { team: "billing" },
  plan: null,
  limits: { minute: 600 },
  credits: { remaining: 1000, refill: { interval: "month", amount: 1000 } },
  ipAllowlist: [],
  enabled: true,
  expiresAt: null,
  revokedAt: null,
  createdAt: CREATED_AT,
  updatedAt: CREATED_AT,
  lastUsedAt: null,
  rotatedFrom: null,
  createdBy: { type: "admin_key", id: "key_7HqP2sLw9xYb4nRt6cVe" },
};

const role = {
  workspaceId: WORKSPACE_ID,
  name: "billing-admin",
  permissions: ["invoices:read", "invoices:write"],
  source: "workspace",
  createdAt: CREATED_AT,
  updatedAt: CREATED_AT,
};

const owner = {
  ownerId: "user_42",
  workspaceId: WORKSPACE_ID,
  limits: [{ window: "minute", limit: 1200, remaining: 1180, reset: 0 }],
  credits: { remaining: 50000, refill: { interval: "month", amount: 50000 } },
  roles: ["billing-admin"],
  rolesAsOf: "2026-11-23T03:25:10.982Z",
  keyCount: 3,
};

export const EXAMPLES = {
  createWorkspace: { name: "acme", plan: "pro", externalId: "org_2bX9kLm" },
  patchWorkspace: { plan: "enterprise" },
  workspace,
  workspaceList: { items: [workspace], cursor: null },
  createKey: {
    workspaceId: WORKSPACE_ID,
    type: "server",
    name: "backend",
    ownerId: "user_42",
    meta: { team: "billing" },
    limits: { minute: 600 },
    credits: { remaining: 1000, refill: { interval: "month", amount: 1000 } },
  },
  importKey: {
    workspaceId: WORKSPACE_ID,
    type: "server",
    hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  },
  patchKey: { enabled: false, permissions: ["products:read"] },
  credits: { op: "increment", amount: 500 },
  rotate: { gracePeriodSeconds: 3600 },
  key,
  createdKey: { ...key, key: "sk_live_x0Mek5L4wHRe45GOOQP8bajf4WA0pAGu_30f1467b" },
  keyList: { items: [key], cursor: null },
  keyDetail: {
    ...key,
    counters: { plan: "pro", limits: [{ window: "minute", limit: 600, remaining: 598, reset: 1 }] },
  },
  revokeByValue: { key: "sk_live_x0Mek5L4wHRe45GOOQP8bajf4WA0pAGu_30f1467b" },
  usage: {
    items: [{ day: "2026-11-23", allowed: 1520, denied: { rate_limited: 12, insufficient_permissions: 3 } }],
  },
  upsertRole: {
    workspaceId: WORKSPACE_ID,
    name: "billing-admin",
    permissions: ["invoices:read", "invoices:write"],
  },
  role,
  roleList: {
    items: [
      role,
      {
        workspaceId: WORKSPACE_ID,
        name: "viewer",
        permissions: ["invoices:read"],
        source: "policy",
        createdAt: null,
        updatedAt: null,
      },
    ],
  },
  putOwner: {
    limits: { minute: 1200 },
    credits: { remaining: 50000, refill: { interval: "month", amount: 50000 } },
  },
  putOwnerRoles: { roles: ["billing-admin"] },
  owner,
  ownerList: {
    items: [{ ownerId: owner.ownerId, limits: { minute: 1200 }, credits: owner.credits, keyCount: 3 }],
    cursor: null,
  },
  ownerRevoked: { revoked: 3 },
  auditList: {
    items: [
      {
        id: "aud_Q2w3E4r5T6y7U8i9O0pA",
        at: CREATED_AT,
        workspaceId: WORKSPACE_ID,
        actor: { type: "root" },
        action: "key.revoke",
        targetId: KEY_ID,
        requestId: "5f0c6a1e-2b7d-4c9a-9e3f-1d2c3b4a5e6f",
        before: { revokedAt: null },
        after: { revokedAt: "2026-11-23T03:30:00.000Z" },
      },
    ],
    cursor: null,
  },
  eventList: {
    items: [
      {
        id: "evt_Zx8Cv7Bn6Mm5Ll4Kk3Jj",
        type: "key.revoked",
        at: "2026-11-23T03:30:00.000Z",
        data: {
          keyId: KEY_ID,
          workspaceId: WORKSPACE_ID,
          ownerId: null,
          type: "server",
          start: "sk_live_x0Me",
          revokedAt: "2026-11-23T03:30:00.000Z",
        },
        deliveries: [{ webhook: 0, status: "delivered", attempts: 1 }],
      },
    ],
    cursor: null,
  },
  policy: {
    keyTypes: [
      {
        name: "server",
        prefix: "sk_live",
        defaultPermissions: ["products:read", "products:write"],
        allowedPermissions: null,
        plan: null,
        expiresInSeconds: null,
        ownerScoped: false,
      },
    ],
    adminPermissions: [...ADMIN_PERMISSIONS],
    plans: [{ name: "pro", limits: { minute: 600 }, quotaStatus: 429, permissions: ["reports:read"] }],
    defaultPlan: null,
    roles: [{ name: "viewer", permissions: ["products:read"] }],
    permissions: ["products:read", "products:write", "reports:read"],
    eventTypes: [...EVENT_TYPES],
  },
};
