/**
 * `portcullis/client` over real HTTP: typed data from the admin and verify APIs, `verifyKey`'s
 * decisions before and after a revocation, and refusals thrown as typed problems; a deployment
 * whose policy sets another `basePath`; a redirect refused. Imported by the package name, as a
 * backend would, through package.json's `exports`.
 */

import { createServer, type IncomingHttpHeaders } from "node:http";
import {
  createClient,
  type ErrorCode,
  type PortcullisClient,
  PortcullisError,
  verifyKey,
} from "portcullis/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, inject, it } from "vitest";
import { E2E_ROOT_TOKEN } from "./fixtures";
import { type DevServer, startWranglerDev } from "./wrangler-dev";

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

describe("portcullis/client against a policy's basePath", () => {
  const ROOT = "e2e-base-path-root-token";
  let deployment: DevServer;

  beforeAll(async () => {
    deployment = await startWranglerDev({
      vars: {
        POLICY: JSON.stringify({
          basePath: "/auth/v2",
          origin: "echo",
          keyTypes: { server: { prefix: "sk_bp", defaultPermissions: ["products:read"] } },
          routes: [{ path: "/api/*" }],
        }),
        ADMIN_TOKEN: ROOT,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
  });

  it("reaches the admin API and verify under basePath, with the document's paths", async () => {
    const options = { baseUrl: deployment.url, basePath: "/auth/v2", token: ROOT };
    const api = createClient(options);
    const workspace = await api.POST("/_portcullis/admin/v1/workspaces", { body: { name: "base-path" } });
    expect(workspace.id).toMatch(/^ws_/);
    const created = await api.POST("/_portcullis/admin/v1/keys", {
      body: { workspaceId: workspace.id, type: "server" },
    });
    expect(created.key).toMatch(/^sk_bp_/);
    expect(await verifyKey(options, created.key)).toMatchObject({ valid: true, keyId: created.id });
    const got = await api.GET("/_portcullis/admin/v1/keys/{id}", { params: { path: { id: created.id } } });
    expect(got.workspaceId).toBe(workspace.id);
  });

  it("refuses a basePath the policy could not hold, before sending anything", () => {
    for (const basePath of ["auth", "/auth/", "/a b", "//evil.example"]) {
      expect(() => createClient({ baseUrl: deployment.url, basePath, token: ROOT }), basePath).toThrow(
        TypeError,
      );
    }
  });
});

describe("portcullis/client refuses redirects", () => {
  interface Seen {
    url: string;
    authorization: IncomingHttpHeaders["authorization"];
  }
  const seen: Seen[] = [];
  const workspace = {
    id: "ws_redirected",
    name: "looks-done",
    plan: null,
    externalId: null,
    createdAt: "2026-11-23T12:00:00Z",
    updatedAt: "2026-11-23T12:00:00Z",
  };
  // A hostile server: every Portcullis path redirects to a path of its own origin answering success.
  const hostile = createServer((request, response) => {
    seen.push({ url: request.url ?? "", authorization: request.headers.authorization });
    request.resume();
    if (request.url?.startsWith("/elsewhere")) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(workspace));
    } else {
      response.writeHead(307, { location: "/elsewhere" });
      response.end();
    }
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((listening) => hostile.listen(0, "127.0.0.1", listening));
    const address = hostile.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise((closed) => hostile.close(closed));
  });

  it("throws a same-origin 307 as an error and never sends the credential to its target", async () => {
    const api = createClient({ baseUrl: url, token: "pc_admin_redirect-test-credential" });
    const error = await refusal(api.POST("/_portcullis/admin/v1/workspaces", { body: { name: "x" } }));
    expect(error.status).toBe(307);
    expect(error.problem.detail).toMatch(/redirect/);
    const verified = await refusal(verifyKey({ baseUrl: url, token: "pc_admin_redirect-test" }, "sk_x"));
    expect(verified.status).toBe(307);
    expect(seen.map((request) => request.url)).toEqual([
      "/_portcullis/admin/v1/workspaces",
      "/_portcullis/v1/verify",
    ]);
    expect(seen.filter((request) => request.url.startsWith("/elsewhere"))).toEqual([]);
  });
});
