/**
 * A change of bounded cost under `wrangler dev` (docs/consistency.md#context): a workspace of
 * 5,000 keys, many of them warm (their isolate lease out), gets a plan downgrade. It is answered
 * in under 2 s (the longest context lease, `leases.ms` = 1000, plus a small constant), and the
 * next request of every key is decided under the new plan.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { E2E_ROOT_TOKEN, E2E_SIGNING_SECRET, e2ePolicy, type Json } from "./fixtures";
import { type DevServer, startWranglerDev } from "./wrangler-dev";

const KEYS = 5_000;
/** Keys asked twice just before the change: their second request takes a lease. */
const WARM = 1_000;
const CONCURRENCY = 32;

/** Runs `work` over `items`, `CONCURRENCY` at a time. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += CONCURRENCY) {
    results.push(...(await Promise.all(items.slice(start, start + CONCURRENCY).map(work))));
  }
  return results;
}

describe("a plan downgrade of a 5,000-key workspace under wrangler dev", () => {
  let server: DevServer;

  beforeAll(async () => {
    const policy = e2ePolicy(inject("originUrl"));
    server = await startWranglerDev({
      vars: {
        POLICY: JSON.stringify({
          ...policy,
          plans: { pro: { permissions: ["reports:read"] }, free: {} },
          routes: [
            { path: "/api/reports", methods: ["GET"], permissions: ["reports:read"] },
            ...policy.routes,
          ],
          leases: { ms: 1000 },
        }),
        ADMIN_TOKEN: E2E_ROOT_TOKEN,
        ORIGIN_SIGNING_SECRET: E2E_SIGNING_SECRET,
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function admin(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json }> {
    const response = await fetch(`${server.url}/_portcullis/admin/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${E2E_ROOT_TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : {} };
  }

  async function reports(key: string): Promise<string> {
    const response = await fetch(`${server.url}/api/reports`, { headers: { "X-API-Key": key } });
    await response.body?.cancel();
    return response.headers.get("X-Portcullis-Code") ?? String(response.status);
  }

  it("is answered in under 2 s, and every key's next request is decided under the new plan", async () => {
    const workspace = await admin("POST", "/workspaces", { name: "scale", plan: "pro" });
    expect(workspace.status).toBe(201);
    const workspaceId = workspace.json.id as string;
    const keys = await inBatches(
      Array.from({ length: KEYS }, (_, i) => i),
      async () => {
        const created = await admin("POST", "/keys", { workspaceId, type: "server", permissions: [] });
        expect(created.status).toBe(201);
        return created.json.key as string;
      },
    );
    const before = await inBatches(keys, reports);
    expect(before.filter((code) => code === "200").length).toBe(KEYS);
    // The last WARM keys' second request: each takes a lease, out when the change is made.
    const warm = await inBatches(keys.slice(-WARM), reports);
    expect(warm.filter((code) => code === "200").length).toBe(WARM);

    const started = performance.now();
    const downgrade = await admin("PATCH", `/workspaces/${workspaceId}`, { plan: "free" });
    const elapsed = performance.now() - started;
    expect(downgrade.status).toBe(200);
    expect(elapsed).toBeLessThan(2_000);

    const after = await inBatches(keys, reports);
    const codes: Record<string, number> = {};
    for (const code of after) codes[code] = (codes[code] ?? 0) + 1;
    expect(codes).toEqual({ insufficient_permissions: KEYS });
    console.info(`e2e context-scale: ${KEYS} keys, downgrade answered in ${Math.round(elapsed)} ms`);
  }, 1_200_000);
});
