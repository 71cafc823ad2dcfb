/**
 * The portal's test deployment (docs/portal.md): the test policy plus a `portal` section, a
 * provider secret of its own, members' tokens signed by that provider, and calls to
 * `P/portal/v1` through the Worker with those bindings.
 */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { expect } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { admin, BASE, direct, type Json } from "../worker/helpers";

export const PORTAL = `${BASE}/_portcullis/portal/v1`;
export const PORTAL_SECRET = "portal-provider-secret-0123456789abcdef";
export const PORTAL_ISSUER = "https://login.provider.test";
export const PORTAL_AUDIENCE = "portal-tests";
export const APP_ORIGIN = "https://app.provider.test";

export const PORTAL_POLICY = {
  ...TEST_POLICY,
  keyTypes: {
    ...TEST_POLICY.keyTypes,
    member: { prefix: "mk_test", defaultPermissions: ["products:read"], ownerScoped: true },
  },
  portal: {
    jwt: { secretEnv: "PORTAL_SECRET", issuer: PORTAL_ISSUER, audience: PORTAL_AUDIENCE },
    nameClaim: "name",
    roles: {
      owner: ["keys:manage", "usage:read"],
      member: ["keys:own", "usage:read"],
      viewer: ["keys:read"],
    },
    keyTypes: {
      server: {
        label: "Server",
        ownedBy: "workspace",
        grantable: ["products:read", "products:write"],
        labels: { "products:read": "Read products", "products:write": "Write products" },
        limits: ["minute", "day"],
      },
      member: { label: "Personal", ownedBy: "member", grantable: ["products:read", "products:write"] },
    },
    maxKeysPerWorkspace: 100,
    maxKeysPerMember: 10,
    origins: [APP_ORIGIN],
  },
};

/** The bindings of a deployment with this portal (the test portal, changed by `portal`). */
export function portalEnv(portal: Json = {}, policy: Json = {}): Partial<Env> {
  return {
    POLICY: JSON.stringify({ ...PORTAL_POLICY, ...policy, portal: { ...PORTAL_POLICY.portal, ...portal } }),
    PORTAL_SECRET,
  } as Partial<Env>;
}

export const DEFAULT_ENV = portalEnv();

const secret = new TextEncoder().encode(PORTAL_SECRET);

export interface TokenOptions {
  key?: Uint8Array;
  alg?: string;
  iss?: string;
  aud?: string;
  exp?: number;
  iat?: number | null;
  sub?: string | null;
}

/** A member's token as the provider's login issues it. */
export async function memberToken(claims: Json, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "HS256" })
    .setIssuer(options.iss ?? PORTAL_ISSUER)
    .setAudience(options.aud ?? PORTAL_AUDIENCE)
    .setExpirationTime(options.exp ?? now + 600);
  if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? "user_1");
  if (options.iat !== null) jwt = jwt.setIssuedAt(options.iat ?? now);
  return jwt.sign(options.key ?? secret);
}

let organisations = 0;

/** A workspace serving a new organisation of the provider; its externalId is `org`. */
export async function organisation(plan?: string): Promise<{ id: string; org: string }> {
  organisations += 1;
  const org = `org_${crypto.randomUUID().slice(0, 8)}_${organisations}`;
  const { status, json } = await admin("POST", "/workspaces", {
    name: `Org ${org}`,
    externalId: org,
    ...(plan && { plan }),
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return { id: json.id as string, org };
}

/** A member of `org` with `role` (one value or several); its token. */
export function member(org: string, role: string | string[], sub = "user_1", extra: Json = {}) {
  return memberToken({ org_id: org, org_role: role, ...extra }, { sub });
}

export interface PortalCall {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  env?: Partial<Env>;
}

/** Calls `P/portal/v1<path>`. */
export function portalFetch(method: string, path: string, call: PortalCall = {}): Promise<Response> {
  const headers = new Headers(call.headers);
  if (call.token) headers.set("Authorization", `Bearer ${call.token}`);
  if (call.body !== undefined && !headers.has("content-type"))
    headers.set("Content-Type", "application/json");
  const body =
    call.body === undefined
      ? undefined
      : typeof call.body === "string"
        ? call.body
        : JSON.stringify(call.body);
  return direct(new Request(`${PORTAL}${path}`, { method, headers, body }), call.env ?? DEFAULT_ENV);
}

/** Calls the portal and reads the JSON answer. */
export async function portal(method: string, path: string, call: PortalCall = {}) {
  const response = await portalFetch(method, path, call);
  const text = await response.text();
  const json: Json = text ? JSON.parse(text) : {};
  return { status: response.status, headers: response.headers, json, text };
}

/** A request to the protected API with `key`, under the portal deployment (which knows member keys). */
export function apiCall(path: string, key: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${key}`);
  return direct(new Request(`${BASE}${path}`, { ...init, headers }), DEFAULT_ENV);
}

/** Gives `subject` these owner roles in the workspace, as the provider's membership sync would. */
export async function setOwnerRoles(workspaceId: string, subject: string, roles: string[]) {
  const { status, text } = await admin(
    "PUT",
    `/owners/${encodeURIComponent(subject)}/roles?workspaceId=${workspaceId}`,
    { roles },
  );
  expect(status, text).toBe(200);
}

/** A member creates a key; expects 201. */
export async function portalKey(token: string, body: Json, call: PortalCall = {}) {
  const created = await portal("POST", "/keys", { ...call, token, body });
  expect(created.status, created.text).toBe(201);
  return created.json;
}

/** The D1 rows of keys in a workspace, counted. */
export async function keyCount(workspaceId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM keys WHERE workspace_id = ?1")
    .bind(workspaceId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
