/**
 * Owner ids that are identity providers' subjects (docs/admin-api.md#owners): `auth0|abc` is an
 * owner id like any other, on the key, in the owner routes (raw or percent-encoded) and in the
 * owner's shared counting.
 */
import { describe, expect, it } from "vitest";
import { admin, call, createKey, createWorkspace, expectProblem } from "./helpers";

describe("an owner id with `|`", () => {
  it("keys, PUT, GET and the shared limit of owner `auth0|abc`", async () => {
    const ws = await createWorkspace();
    const subject = `auth0|${crypto.randomUUID().slice(0, 8)}`;
    const first = await createKey(ws, { ownerId: subject });
    const second = await createKey(ws, { ownerId: subject });
    expect(first.record.ownerId).toBe(subject);

    const encoded = encodeURIComponent(subject);
    expect(encoded).toContain("%7C");
    const put = await admin("PUT", `/owners/${encoded}?workspaceId=${ws}`, { limits: { minute: 3 } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.ownerId).toBe(subject);

    for (const key of [first.key, second.key, first.key]) {
      expect((await call("/api/products", { key, leases: false })).status).toBe(200);
    }
    await expectProblem(await call("/api/products", { key: second.key, leases: false }), 429, "rate_limited");

    // The raw form names the same owner.
    const got = await admin("GET", `/owners/${subject}?workspaceId=${ws}`);
    expect(got.status, got.text).toBe(200);
    expect(got.json).toMatchObject({ ownerId: subject, keyCount: 2 });
    expect(got.json.limits).toMatchObject([{ window: "minute", limit: 3, remaining: 0 }]);

    const keys = await admin("GET", `/keys?workspaceId=${ws}&ownerId=${encoded}`);
    expect(keys.json.items.map((item: { id: string }) => item.id).sort()).toEqual(
      [first.id, second.id].sort(),
    );
  });

  it("PATCH moves a key to a subject owner", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const patched = await admin("PATCH", `/keys/${id}`, { ownerId: "google-oauth2|1234567890" });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.ownerId).toBe("google-oauth2|1234567890");
  });

  it("still refuses dots only, `/` and control characters", async () => {
    const ws = await createWorkspace();
    for (const ownerId of ["..", "|/x", "a\tb", "a b", "x".repeat(129)]) {
      const answer = await admin("POST", "/keys", { workspaceId: ws, type: "server", ownerId });
      expect(answer.status, ownerId).toBe(400);
    }
  });
});
