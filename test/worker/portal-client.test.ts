/**
 * The typed portal client `portcullis/portal` (docs/portal.md#client) against the Worker, and
 * the portal's OpenAPI document: a member's whole flow through the client, refusals as
 * `PortalError` with the problem, and a fresh token asked for before every call.
 */
import { describe, expect, it } from "vitest";
import { createPortalClient, PortalError } from "../../src/client/portal";
import { DEFAULT_ENV, member, organisation, PORTAL } from "../security/portal-support";
import { BASE, direct, type Json } from "./helpers";

describe("portal client", () => {
  it("creates, lists, rotates, reads usage and revokes, asking for the token before each call", async () => {
    const ws = await organisation();
    let asked = 0;
    const client = createPortalClient({
      baseUrl: BASE,
      getToken: async () => {
        asked += 1;
        return member(ws.org, "owner", "cleo");
      },
      fetch: (request) => direct(request, DEFAULT_ENV),
    });
    const session = await client.session();
    expect(session.workspace.id).toBe(ws.id);
    const created = await client.createKey({ type: "server", name: "from the client" });
    expect(created.key).toMatch(/^sk_test_/);
    const listed = await client.listKeys();
    expect(listed.items.map((key) => key.id)).toEqual([created.id]);
    const detail = await client.getKey(created.id);
    expect(detail.name).toBe("from the client");
    const renamed = await client.updateKey(created.id, { name: "renamed" });
    expect(renamed.name).toBe("renamed");
    const rotated = await client.rotateKey(created.id, { gracePeriodSeconds: 60 });
    expect(rotated.rotatedFrom).toBe(created.id);
    expect((await client.keyUsage(rotated.id, { granularity: "hour" })).items).toHaveLength(24);
    expect((await client.usage()).items).toHaveLength(30);
    const revoked = await client.revokeKey(rotated.id);
    expect(revoked.revokedAt).not.toBeNull();
    expect(asked).toBe(9);
  });

  it("throws a PortalError with the problem", async () => {
    const ws = await organisation();
    const client = createPortalClient({
      baseUrl: BASE,
      getToken: () => member(ws.org, "viewer"),
      fetch: (request) => direct(request, DEFAULT_ENV),
    });
    const error = await client.createKey({ type: "server", name: "x" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortalError);
    expect((error as PortalError).status).toBe(403);
    expect((error as PortalError).code).toBe("insufficient_permissions");
  });
});

describe("portal OpenAPI document", () => {
  it("describes every portal route, with the portal's token as its security", async () => {
    const response = await direct(new Request(`${PORTAL}/openapi.json`), DEFAULT_ENV);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Json;
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers[0].url).toBe("/_portcullis/portal");
    const operations = Object.entries(document.paths as Record<string, Json>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        "GET /v1/session",
        "GET /v1/keys",
        "POST /v1/keys",
        "GET /v1/keys/{id}",
        "PATCH /v1/keys/{id}",
        "POST /v1/keys/{id}/rotate",
        "POST /v1/keys/{id}/revoke",
        "GET /v1/keys/{id}/usage",
        "GET /v1/usage",
      ].sort(),
    );
    expect(document.components.securitySchemes.PortalToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(JSON.stringify(document.paths["/v1/keys"].post.responses["409"])).toContain("limit_reached");
  });
});
