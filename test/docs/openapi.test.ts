/**
 * docs/openapi.json, the OpenAPI 3.1 document of every surface: current (`npm run openapi`
 * regenerates it), linted by Redocly without a warning, and complete: every operation named,
 * tagged and described, every error code in the enum, every problem example true to its status.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPENAPI_PATH, openApiJson } from "../../scripts/openapi.ts";
import { VERIFY_DECISION_CODES } from "../../src/admin/verify.ts";
import { REFUSALS, type RefusalCode } from "../../src/refusals.ts";

interface Example {
  value: { code: RefusalCode; status: number };
}
interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> };
  responses: Record<
    string,
    {
      content?: Record<string, { example?: unknown; examples?: Record<string, Example> }>;
      headers?: Record<string, unknown>;
    }
  >;
  parameters?: { name: string; in: string }[];
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { enum?: string[]; properties?: Record<string, { enum?: string[] }> }>;
  };
}

const document = JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as Document;
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    name: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);

describe("docs/openapi.json", () => {
  it("is current: regenerating it changes nothing (run `npm run openapi` if this fails)", async () => {
    expect(JSON.parse(await openApiJson())).toEqual(document);
  });

  it("passes `redocly lint` without an error or a warning", () => {
    const lint = spawnSync("redocly", ["lint", "--format=json", OPENAPI_PATH], { encoding: "utf8" });
    const report = JSON.parse(lint.stdout) as {
      totals: { errors: number; warnings: number };
      problems: unknown[];
    };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("covers every surface, from the base path", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers.map((server) => server.url)).toEqual(["/_portcullis"]);
    expect(operations.map((entry) => entry.name)).toEqual(
      expect.arrayContaining([
        "GET /health",
        "GET /v1/self",
        "POST /v1/verify",
        "GET /v1/authorize",
        "GET /v1/authorize/{path}",
        "POST /admin/v1/workspaces",
        "POST /admin/v1/keys",
        "GET /admin/v1/keys/{id}",
        "GET /admin/v1/audit",
      ]),
    );
  });

  it("names, tags, summarises and describes every operation, with unique camelCase operationIds", () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const { name, operation } of operations) {
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.tags?.length, name).toBeGreaterThan(0);
      expect(operation.summary, name).toBeTruthy();
      expect(operation.description, name).toBeTruthy();
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(["createKey", "listKeys", "verifyKey", "getSelf", "authorizeRequest"]),
    );
  });

  it("gives an example of every request body and every JSON answer", () => {
    for (const { name, operation } of operations) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        expect(media.example ?? media.examples, `${name} request`).toBeDefined();
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const media of Object.values(response.content ?? {})) {
          expect(media.example ?? media.examples, `${name} ${status}`).toBeDefined();
        }
      }
    }
  });

  it("lists every code of the catalogue, and only those, as the problem's `code`", () => {
    expect(document.components.schemas.ErrorCode?.enum?.toSorted()).toEqual(Object.keys(REFUSALS).toSorted());
  });

  it("gives verify's `code` as `valid` or a decision code", () => {
    const code = document.components.schemas.VerifyResponse?.properties?.code;
    expect(code?.enum?.toSorted()).toEqual(["valid", ...VERIFY_DECISION_CODES].toSorted());
  });

  it("lists problem responses on every operation, each example a code of that status", () => {
    for (const { name, operation } of operations) {
      const problems = Object.entries(operation.responses).filter(([, response]) =>
        Object.hasOwn(response.content ?? {}, "application/problem+json"),
      );
      expect(problems.length, name).toBeGreaterThan(0);
      for (const [status, response] of problems) {
        const examples = Object.values(response.content?.["application/problem+json"]?.examples ?? {});
        expect(examples.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const { value } of examples) {
          expect(value.status, `${name} ${status} ${value.code}`).toBe(Number(status));
          // To nginx, forward-auth answers any denial but a 401 as 403, its real status in a header.
          const nginx = status === "403" && Object.hasOwn(response.headers ?? {}, "X-Portcullis-Status");
          const conflict = status === "409" && value.code === "key_revoked";
          if (!nginx && !conflict)
            expect(REFUSALS[value.code][0], `${name} ${value.code}`).toBe(Number(status));
        }
      }
    }
  });

  it("documents forward-auth's `?proxy=`, the proxies' headers, the identity headers and nginx's 403", () => {
    const authorize = document.paths["/v1/authorize"]?.get;
    const parameters = (authorize?.parameters ?? []).map((parameter) => `${parameter.in}:${parameter.name}`);
    expect(parameters).toEqual(
      expect.arrayContaining([
        "query:proxy",
        "header:X-Original-Method",
        "header:X-Original-Uri",
        "header:X-Forwarded-Uri",
        "header:X-Real-Ip",
      ]),
    );
    expect(Object.keys(authorize?.responses["200"]?.headers ?? {})).toEqual(
      expect.arrayContaining(["X-Portcullis-Key-Id", "X-Portcullis-Permissions", "X-Portcullis-Assertion"]),
    );
    expect(authorize?.responses["403"]?.headers).toHaveProperty("X-Portcullis-Status");
  });
});
