/**
 * The policy and secrets of the end-to-end deployment, and helpers to drive it over HTTP.
 */
import { expect, inject } from "vitest";
import { E2E_AUDIENCE, E2E_ISSUER } from "./jwks-issuer";

export const E2E_ROOT_TOKEN = "e2e-root-token-abcdef";
export const E2E_SIGNING_SECRET = "e2e-origin-signing-secret";

export function e2ePolicy(origin: string) {
  return {
    origin,
    originTimeoutSeconds: 2,
    jwt: { jwksUrl: `${origin}/.well-known/jwks.json`, issuer: E2E_ISSUER, audience: E2E_AUDIENCE },
    keyTypes: {
      server: { prefix: "sk_e2e", defaultPermissions: ["products:read", "products:write"] },
    },
    routes: [
      { path: "/public/*", public: true },
      { path: "/dashboard/*", auth: ["jwt"], permissions: ["dashboard:read"] },
      { path: "/api/products", methods: ["GET"], permissions: ["products:read"] },
      { path: "/api/products", methods: ["POST"], permissions: ["products:write"] },
      { path: "/slow" },
      { path: "/drip" },
      { path: "/download" },
      { path: "/api/*" },
    ],
  };
}

export function portcullis(path: string): string {
  return `${inject("portcullisUrl")}${path}`;
}

export interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely
  [key: string]: any;
}

export async function admin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const response = await fetch(portcullis(`/_portcullis/admin/v1${path}`), {
    method,
    headers: {
      Authorization: `Bearer ${E2E_ROOT_TOKEN}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

export async function newKey(fields: Json = {}): Promise<{ key: string; id: string; workspaceId: string }> {
  const workspace = await admin("POST", "/workspaces", { name: "e2e" });
  expect(workspace.status).toBe(201);
  const created = await admin("POST", "/keys", { workspaceId: workspace.json.id, type: "server", ...fields });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { key: created.json.key, id: created.json.id, workspaceId: workspace.json.id };
}
