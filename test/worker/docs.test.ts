/**
 * The OpenAPI document comes from the same schemas that validate input; the reference page
 * and health need no credential.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, BASE } from "./helpers";

describe("docs and health", () => {
  it("serves OpenAPI 3.1 with every admin route and its schemas", async () => {
    const response = await exports.default.fetch(`${ADMIN}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/workspaces",
        "/v1/workspaces/{id}",
        "/v1/keys",
        "/v1/keys/import",
        "/v1/keys/{id}",
        "/v1/keys/{id}/revoke",
      ]),
    );
    expect(Object.keys(doc.paths["/v1/keys"] ?? {})).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.paths["/v1/keys"]?.post?.responses).toHaveProperty("201");
    expect(doc.paths["/v1/keys"]?.post?.responses).toHaveProperty("400");
    expect(doc.components.schemas.CreateKey?.required).toEqual(["workspaceId", "type"]);
    expect(doc.components.schemas.CreateKey?.properties).toHaveProperty("meta");
  });

  it("serves an HTML reference page", async () => {
    const response = await exports.default.fetch(`${BASE}/_portcullis/admin/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toContain("/_portcullis/admin/v1/openapi.json");
  });

  it("answers health without auth", async () => {
    const response = await exports.default.fetch(`${BASE}/_portcullis/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: expect.any(String) });
  });
});
