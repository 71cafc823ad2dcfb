/**
 * The OpenAPI document comes from the same schemas that validate input, and is the one in
 * docs/openapi.json; the reference page loads only from its own origin under a strict CSP; the
 * document, the page and health need no credential.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../docs/openapi.json";
import { ADMIN, BASE } from "./helpers";

const DOCS = `${BASE}/_portcullis/admin/docs`;

describe("docs and health", () => {
  it("serves the OpenAPI 3.1 document of docs/openapi.json, with every admin route and its schemas", async () => {
    const response = await exports.default.fetch(`${ADMIN}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(doc).toEqual(committed);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/admin/v1/workspaces",
        "/admin/v1/workspaces/{id}",
        "/admin/v1/keys",
        "/admin/v1/keys/import",
        "/admin/v1/keys/{id}",
        "/admin/v1/keys/{id}/revoke",
        "/v1/verify",
        "/v1/self",
        "/v1/authorize",
        "/health",
      ]),
    );
    expect(Object.keys(doc.paths["/admin/v1/keys"] ?? {})).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.paths["/admin/v1/keys"]?.post?.responses).toHaveProperty("201");
    expect(doc.paths["/admin/v1/keys"]?.post?.responses).toHaveProperty("400");
    expect(doc.components.schemas.CreateKey?.required).toEqual(["workspaceId", "type"]);
    expect(doc.components.schemas.CreateKey?.properties).toHaveProperty("meta");
  });

  it("serves an HTML reference page that loads only same-origin URLs, under a strict CSP", async () => {
    const response = await exports.default.fetch(DOCS);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toMatch(/https?:/);
    const html = await response.text();
    expect(html).toContain('data-url="/_portcullis/admin/v1/openapi.json"');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const urls = [...html.matchAll(/\s(?:src|href|data-url)="([^"]*)"/g)].map((match) => match[1] ?? "");
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(new URL(url, DOCS).origin, url).toBe(new URL(DOCS).origin);
  });

  it("serves every file the page loads from the Worker's own assets", async () => {
    const html = await (await exports.default.fetch(DOCS)).text();
    const files = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? "");
    for (const file of files) {
      const response = await exports.default.fetch(new URL(file, DOCS));
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type"), file).toMatch(/javascript|css|png/);
      expect((await response.arrayBuffer()).byteLength, file).toBeGreaterThan(0);
    }
    const bundle = await exports.default.fetch(`${DOCS}/assets/swagger-ui-bundle.js`);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
  });

  it("serves no other file of the assets directory", async () => {
    for (const file of ["index.html", "package.json", "swagger-ui.js.map", "..%2Fpackage.json"]) {
      const response = await exports.default.fetch(`${DOCS}/assets/${file}`);
      expect(response.status, file).toBe(404);
      expect(response.headers.get("content-type"), file).toBe("application/problem+json");
    }
  });

  it("answers health without auth", async () => {
    const response = await exports.default.fetch(`${BASE}/_portcullis/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: expect.any(String) });
  });
});
