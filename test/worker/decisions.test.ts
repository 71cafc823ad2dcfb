/**
 * Rows 2-7 of docs/decisions.md through the proxy, and what an allowed request carries to the origin.
 */
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { admin, call, createKey, createWorkspace, expectProblem } from "./helpers";

describe("decisions through the proxy", () => {
  it("forwards an allowed request to the origin with the identity headers and without the credential", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { ownerId: "user_7" });
    const response = await call("/api/products?page=2&sort=asc", {
      key,
      headers: { "X-Portcullis-Key-Id": "key_spoofed", "X-Custom": "kept" },
    });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as { path: string; query: string; headers: Record<string, string> };
    expect(echo.path).toBe("/api/products");
    expect(echo.query).toBe("page=2&sort=asc");
    expect(echo.headers).toMatchObject({
      "x-portcullis-key-id": id,
      "x-portcullis-workspace-id": ws,
      "x-portcullis-key-type": "server",
      "x-portcullis-owner-id": "user_7",
      "x-portcullis-permissions": "products:read products:write",
      "x-custom": "kept",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "api.example.test",
      "x-request-id": response.headers.get("x-request-id"),
    });
    expect(echo.headers.authorization).toBeUndefined();
    expect(JSON.stringify(echo)).not.toContain(key);
  });

  it("accepts the key in X-API-Key as well", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await call("/api/products", { headers: { "X-API-Key": key } });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-api-key"]).toBeUndefined();
  });

  it("row 2: 401 missing_credential, naming where to send it", async () => {
    const body = await expectProblem(await call("/api/products"), 401, "missing_credential");
    expect(body.detail).toContain("X-API-Key");
  });

  it("row 3: 401 malformed_key for a bad checksum, shape or prefix", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const badChecksum = `${key.slice(0, -8)}${key.slice(-8) === "00000000" ? "11111111" : "00000000"}`;
    for (const credential of [badChecksum, "sk_test_short", "zz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_00000000"]) {
      const response = await call("/api/products", { key: credential });
      const body = await expectProblem(response, 401, "malformed_key");
      expect(JSON.stringify(body)).not.toContain(credential);
      expect(response.headers.get("www-authenticate")).toBe(
        'Bearer realm="portcullis", error="invalid_token"',
      );
    }
  });

  it("row 4: 401 invalid_key for a well-formed key that does not exist", async () => {
    const body = "A".repeat(32);
    await expectProblem(
      await call("/api/products", { key: `sk_test_${body}_${checksumOf(body)}` }),
      401,
      "invalid_key",
    );
  });

  it("rows 5-7: revoked, disabled and expired keys in that order", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    await admin("PATCH", `/keys/${id}`, { enabled: false });
    await expectProblem(await call("/api/products", { key }), 401, "key_disabled");
    await admin("PATCH", `/keys/${id}`, { enabled: true, expiresAt: "2020-01-01T00:00:00Z" });
    await expectProblem(await call("/api/products", { key }), 401, "key_expired");
    await admin("PATCH", `/keys/${id}`, { enabled: false });
    await expectProblem(await call("/api/products", { key }), 401, "key_disabled");
    await admin("POST", `/keys/${id}/revoke`);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
  });

  it("a re-enabled key and a cleared expiry work again", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    await admin("PATCH", `/keys/${id}`, { enabled: false, expiresAt: "2020-01-01T00:00:00Z" });
    expect((await call("/api/products", { key })).status).toBe(401);
    await admin("PATCH", `/keys/${id}`, { enabled: true, expiresAt: null });
    expect((await call("/api/products", { key })).status).toBe(200);
  });

  it("answers public routes without reading a credential", async () => {
    const response = await call("/public/status", { key: "garbage" });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-portcullis-key-id"]).toBeUndefined();
  });

  it("answers 404 route_not_found for a path no route matches", async () => {
    await expectProblem(await call("/elsewhere"), 404, "route_not_found");
  });

  it("answers 404 not_found for an unknown path under the base path", async () => {
    await expectProblem(await call("/_portcullis/nothing-here"), 404, "not_found");
  });
});

describe("IP allowlist (row 8)", () => {
  it("allows an address in the key's ranges and refuses another one, or none", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"] });
    const from = (ip?: string) =>
      call("/api/products", { key, headers: ip ? { "CF-Connecting-IP": ip } : {} });
    expect((await from("203.0.113.5")).status).toBe(200);
    expect((await from("2001:db8::1")).status).toBe(200);
    await expectProblem(await from("198.51.100.1"), 403, "ip_not_allowed");
    await expectProblem(await from(), 403, "ip_not_allowed");
  });
});
