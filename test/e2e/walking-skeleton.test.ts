/**
 * The first complete path, over real HTTP: create a workspace and a key, call the protected
 * API through `wrangler dev` to a real origin, revoke, and see the key refused.
 */
import { describe, expect, it } from "vitest";
import { admin, type Json, newKey, portcullis } from "./fixtures";

describe("walking skeleton over real HTTP", () => {
  it("proxies an allowed request to the origin with the identity headers and no credential", async () => {
    const { key, id, workspaceId } = await newKey({ ownerId: "u-1" });
    const response = await fetch(portcullis("/api/products?limit=5"), {
      headers: { Authorization: `Bearer ${key}`, "X-Portcullis-Owner-Id": "spoofed" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-origin")).toBe("test-origin");
    const seen = (await response.json()) as Json;
    expect(seen).toMatchObject({ method: "GET", path: "/api/products", query: "limit=5" });
    expect(seen.headers).toMatchObject({
      "x-portcullis-key-id": id,
      "x-portcullis-workspace-id": workspaceId,
      "x-portcullis-key-type": "server",
      "x-portcullis-owner-id": "u-1",
      "x-portcullis-permissions": "products:read products:write",
      "x-request-id": response.headers.get("x-request-id"),
    });
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(key);
  });

  it("passes a request body through to the origin", async () => {
    const { key } = await newKey();
    const body = JSON.stringify({ name: "widget", price: 42 });
    const response = await fetch(portcullis("/api/products"), {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: "POST", bodyBytes: body.length });
  });

  it("refuses the key after the revoke response, in every request that follows", async () => {
    const { key, id } = await newKey();
    expect(
      (await fetch(portcullis("/api/products"), { headers: { Authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
    const revoked = await admin("POST", `/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    const after = await Promise.all(
      Array.from({ length: 30 }, () => fetch(portcullis("/api/products"), { headers: { "X-API-Key": key } })),
    );
    for (const response of after) {
      expect(response.status).toBe(401);
      expect(response.headers.get("x-portcullis-code")).toBe("key_revoked");
      expect(await response.json()).toMatchObject({ code: "key_revoked", status: 401 });
    }
  });

  it("answers each early row of docs/decisions.md with its problem", async () => {
    const missing = await fetch(portcullis("/api/products"));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(missing.headers.get("x-portcullis-code")).toBe("missing_credential");
    const malformed = await fetch(portcullis("/api/products"), { headers: { "X-API-Key": "sk_e2e_nope" } });
    expect(malformed.headers.get("x-portcullis-code")).toBe("malformed_key");
    const unmatched = await fetch(portcullis("/nowhere"));
    expect(unmatched.status).toBe(404);
    expect(unmatched.headers.get("x-portcullis-code")).toBe("route_not_found");
  });

  it("serves the admin OpenAPI document and health", async () => {
    const doc = await fetch(portcullis("/_portcullis/admin/v1/openapi.json"));
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as Json).openapi).toBe("3.1.0");
    expect(await (await fetch(portcullis("/_portcullis/health"))).json()).toMatchObject({ status: "ok" });
  });
});
