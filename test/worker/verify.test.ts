/**
 * `POST P/v1/verify` (docs/admin-api.md): the decision API for backends.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { ROOT_TOKEN } from "../fixtures/policy";
import { admin, BASE, createKey, createWorkspace, expectProblem } from "./helpers";

function verify(body: unknown, token: string | null = ROOT_TOKEN) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return exports.default.fetch(
    new Request(`${BASE}/_portcullis/v1/verify`, { method: "POST", headers, body: JSON.stringify(body) }),
  );
}

describe("verify API", () => {
  it("answers valid with the key's identity", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { ownerId: "u1", meta: { tier: "gold" } });
    const response = await verify({ key, permissions: ["products:read"] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      valid: true,
      code: "valid",
      keyId: id,
      workspaceId: ws,
      type: "server",
      ownerId: "u1",
      permissions: ["products:read", "products:write"],
      plan: null,
      meta: { tier: "gold" },
      expiresAt: null,
    });
  });

  it("answers 200 with the code of docs/decisions.md for each failing row", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { ipAllowlist: ["10.1.0.0/16"] });
    const unknownBody = "C".repeat(32);
    const cases: [unknown, string][] = [
      [{ key: "sk_test_bad" }, "malformed_key"],
      [{ key: `sk_test_${unknownBody}_${checksumOf(unknownBody)}` }, "invalid_key"],
      [{ key }, "ip_not_allowed"],
      [{ key, ip: "10.2.0.1" }, "ip_not_allowed"],
      [{ key, ip: "10.1.2.3", keyTypes: ["browser"] }, "wrong_key_type"],
      [{ key, ip: "10.1.2.3", permissions: ["orders:write"] }, "insufficient_permissions"],
      [{ key, ip: "10.1.2.3", anyPermissions: ["orders:write", "products:read"] }, "valid"],
    ];
    for (const [body, code] of cases) {
      const response = await verify(body);
      expect(response.status).toBe(200);
      expect(await response.json(), JSON.stringify(body)).toMatchObject({ valid: code === "valid", code });
    }
    await admin("POST", `/keys/${id}/revoke`);
    expect(await (await verify({ key, ip: "10.1.2.3" })).json()).toMatchObject({
      valid: false,
      code: "key_revoked",
      keyId: id,
    });
  });

  it("reports admin keys as wrong_key_type", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { type: "admin", permissions: ["keys:read"] });
    expect(await (await verify({ key })).json()).toMatchObject({ valid: false, code: "wrong_key_type" });
    expect(await (await verify({ key, keyTypes: ["admin"] })).json()).toMatchObject({
      code: "wrong_key_type",
    });
  });

  it("needs an admin credential and a well-formed body", async () => {
    await expectProblem(await verify({ key: "x" }, null), 401, "missing_credential");
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    await expectProblem(await verify({ key }, key), 403, "wrong_key_type");
    await expectProblem(await verify({ permissions: [] }), 400, "bad_request");
    await expectProblem(await verify({ key, cost: -1 }), 400, "bad_request");
  });
});
