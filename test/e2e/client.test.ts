/**
 * `portcullis/client` over real HTTP: typed data from the admin and verify APIs, `verifyKey`'s
 * decisions before and after a revocation, and refusals thrown as typed problems. Imported by
 * the package name, as a backend would, through package.json's `exports`.
 */

import {
  createClient,
  type ErrorCode,
  type PortcullisClient,
  PortcullisError,
  verifyKey,
} from "portcullis/client";
import { describe, expect, expectTypeOf, inject, it } from "vitest";
import { E2E_ROOT_TOKEN } from "./fixtures";

function client(): PortcullisClient {
  return createClient({ baseUrl: inject("portcullisUrl"), token: E2E_ROOT_TOKEN });
}

/** The error a call threw, which must be a PortcullisError. */
async function refusal(call: Promise<unknown>): Promise<PortcullisError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PortcullisError);
  return error as PortcullisError;
}

describe("portcullis/client", () => {
  it("creates a workspace and a key, verifies it, revokes it and sees it refused", async () => {
    const api = client();
    const workspace = await api.POST("/_portcullis/admin/v1/workspaces", { body: { name: "client" } });
    expect(workspace.id).toMatch(/^ws_/);
    const created = await api.POST("/_portcullis/admin/v1/keys", {
      body: { workspaceId: workspace.id, type: "server", ownerId: "u-client" },
    });
    expectTypeOf(created.key).toEqualTypeOf<string>();
    expect(created.workspaceId).toBe(workspace.id);

    const valid = await verifyKey(api, created.key, { permissions: ["products:read"] });
    expect(valid).toMatchObject({ valid: true, code: "valid", keyId: created.id, ownerId: "u-client" });

    const revoked = await api.POST("/_portcullis/admin/v1/keys/{id}/revoke", {
      params: { path: { id: created.id } },
    });
    expect(revoked.revokedAt).toEqual(expect.any(String));

    const options = { baseUrl: inject("portcullisUrl"), token: E2E_ROOT_TOKEN };
    expect(await verifyKey(options, created.key)).toMatchObject({ valid: false, code: "key_revoked" });
  });

  it("throws a bad request as a typed problem listing the failing fields", async () => {
    const api = client();
    // A body the types refuse, as a caller without them would send it.
    const body = { name: 42 } as unknown as { name: string };
    const error = await refusal(api.POST("/_portcullis/admin/v1/workspaces", { body }));
    expectTypeOf(error.code).toEqualTypeOf<ErrorCode>();
    expect(error.problem).toMatchObject({
      type: "urn:portcullis:problem:bad_request",
      status: 400,
      code: "bad_request",
      requestId: expect.any(String),
    });
    expect(error.problem.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining("name") })]),
    );
  });

  it("throws an unknown key id as 404 not_found", async () => {
    const error = await refusal(
      client().GET("/_portcullis/admin/v1/keys/{id}", {
        params: { path: { id: "key_doesnotexist0000000" } },
      }),
    );
    expect(error.status).toBe(404);
    expect(error.code).toBe("not_found");
  });

  it("throws a wrong credential as 401 invalid_key, from verifyKey too", async () => {
    const options = { baseUrl: inject("portcullisUrl"), token: "not-the-root-token" };
    const error = await refusal(verifyKey(options, "sk_e2e_whatever"));
    expect(error.problem).toMatchObject({ status: 401, code: "invalid_key" });
  });
});
