/**
 * Real clients of the APIs Portcullis is put in front of: the official OpenAI and Anthropic SDKs,
 * pointed at Portcullis under `wrangler dev` (the `echo` origin behind `/v1/*`). Each reads a
 * refusal from the `error` member of the body (docs/decisions.md#the-error-body): without it,
 * both printed the whole body as JSON (and OpenAI's `type` was the problem's URN).
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Json } from "./fixtures";
import { type DevServer, startWranglerDev } from "./wrangler-dev";

const ROOT = "e2e-sdk-root-token";
/** Not a key of the policy's format: refused before any storage is read. */
const MALFORMED = "sk_sdk_not-a-real-key";

let portcullis: DevServer;

beforeAll(async () => {
  portcullis = await startWranglerDev({
    vars: {
      POLICY: JSON.stringify({
        origin: "echo",
        keyTypes: { server: { prefix: "sk_sdk" } },
        routes: [{ path: "/v1/*" }],
      }),
      ADMIN_TOKEN: ROOT,
    },
  });
});

afterAll(async () => {
  await portcullis?.stop();
});

async function admin(method: string, path: string, body?: unknown): Promise<Json> {
  const response = await fetch(`${portcullis.url}/_portcullis/admin/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ROOT}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Json;
}

/** A key that was valid and has been revoked: refused by its Durable Object. */
async function revokedKey(): Promise<string> {
  const workspace = await admin("POST", "/workspaces", { name: "sdk" });
  const created = await admin("POST", "/keys", { workspaceId: workspace.id, type: "server" });
  await admin("POST", `/keys/${created.id}/revoke`);
  return created.key as string;
}

/** The problem Portcullis answers to this request, read without an SDK. */
async function problemFor(path: string, headers: Record<string, string>): Promise<Json> {
  const response = await fetch(`${portcullis.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: "{}",
  });
  expect(response.status).toBe(401);
  return (await response.json()) as Json;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded");
}

describe("official SDKs see Portcullis' refusal", () => {
  it("openai: APIError carries the status, the detail and the code", async () => {
    for (const [apiKey, code] of [
      [MALFORMED, "malformed_key"],
      [await revokedKey(), "key_revoked"],
    ] as const) {
      const problem = await problemFor("/v1/chat/completions", { Authorization: `Bearer ${apiKey}` });
      expect(problem.code).toBe(code);
      const client = new OpenAI({ apiKey, baseURL: `${portcullis.url}/v1`, maxRetries: 0 });
      const error = await rejection(
        client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] }),
      );
      expect(error).toBeInstanceOf(OpenAI.APIError);
      const apiError = error as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(401);
      expect(apiError.message).toBe(`401 ${problem.detail}`);
      expect(apiError.message).not.toContain("no body");
      expect(apiError.type).toBe(code);
      expect(apiError.message).not.toContain(apiKey);
    }
  });

  it("anthropic: APIError carries the status, the detail and the code", async () => {
    for (const [apiKey, code] of [
      [MALFORMED, "malformed_key"],
      [await revokedKey(), "key_revoked"],
    ] as const) {
      // The SDK sends its key in X-API-Key, one of the policy's default credential sources.
      const problem = await problemFor("/v1/messages", { "X-API-Key": apiKey });
      expect(problem.code).toBe(code);
      const client = new Anthropic({ apiKey, baseURL: portcullis.url, maxRetries: 0 });
      const error = await rejection(
        client.messages.create({
          model: "claude-test",
          max_tokens: 16,
          messages: [{ role: "user", content: "hi" }],
        }),
      );
      expect(error).toBeInstanceOf(Anthropic.APIError);
      const apiError = error as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(401);
      expect(apiError.message.startsWith(`401 ${problem.detail}`)).toBe(true);
      expect(apiError.message).toContain(`type: ${code}`);
      expect(apiError.message).not.toContain(apiKey);
    }
  });
});
