/**
 * Revoke-then-use: once the revoke response has arrived, no request with the key is allowed.
 */
import { describe, expect, it } from "vitest";
import { admin, call, createKey, createWorkspace } from "./helpers";

describe("revocation", () => {
  it("denies every request that starts after the revoke response, including concurrent ones", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    // Warm the key in this isolate first, so that the fast path (no D1 read) is the one tested.
    expect((await call("/api/products", { key })).status).toBe(200);
    const inFlight = Array.from({ length: 20 }, () => call("/api/products", { key }));
    const revoke = await admin("POST", `/keys/${id}/revoke`);
    expect(revoke.status).toBe(200);
    const after = await Promise.all(Array.from({ length: 50 }, () => call("/api/products", { key })));
    expect(after.map((r) => r.status)).toEqual(Array(50).fill(401));
    for (const response of after) expect(response.headers.get("x-portcullis-code")).toBe("key_revoked");
    // Requests sent before the revoke may go either way; none may fail otherwise.
    for (const response of await Promise.all(inFlight)) expect([200, 401]).toContain(response.status);
  });

  it("denies a disabled key at once, and allows it again once re-enabled", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await call("/api/products", { key })).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { enabled: false });
    expect((await call("/api/products", { key })).status).toBe(401);
    await admin("PATCH", `/keys/${id}`, { enabled: true });
    expect((await call("/api/products", { key })).status).toBe(200);
  });

  it("applies narrower permissions to the very next request", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await call("/api/products", { key, method: "POST" })).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { permissions: ["products:read"] });
    expect((await call("/api/products", { key, method: "POST" })).status).toBe(403);
    expect((await call("/api/products", { key })).status).toBe(200);
  });
});
