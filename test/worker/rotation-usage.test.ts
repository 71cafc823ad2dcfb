/**
 * Usage of a rotated key (docs/admin-api.md, Rotation): every decision of a request that
 * presents the old key is recorded in the old key's usage (its refusals after the grace or after
 * a revoke included), while its allowed requests count against the limits it shares with its
 * successor. Usage summed over both keys is every decision made.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { admin, call, createKey, createWorkspace, type Json, keyObject } from "./helpers";

const N = 3;
const M = 2;
const K = 2;

/** Usage summed over the report's periods: allowed, and denied by code. */
function totals(items: Json[]): { allowed: number; denied: Record<string, number> } {
  const denied: Record<string, number> = {};
  let allowed = 0;
  for (const item of items) {
    allowed += item.allowed;
    for (const [code, count] of Object.entries(item.denied as Record<string, number>)) {
      denied[code] = (denied[code] ?? 0) + count;
    }
  }
  return { allowed, denied };
}

async function usageOf(id: string) {
  const answer = await admin("GET", `/keys/${id}/usage`);
  expect(answer.status, answer.text).toBe(200);
  return totals(answer.json.items);
}

async function statuses(key: string, count: number, expected: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await call("/api/products", { key });
    expect(response.status).toBe(expected);
    await response.body?.cancel();
  }
}

/** What `window` has left, in a list of `{window, remaining}` (a key's counters, an owner's limits). */
function remaining(limits: Json[], window: string): number {
  return limits.find((entry) => entry.window === window)?.remaining;
}

async function rotated(fields: Json) {
  const ws = await createWorkspace();
  const old = await createKey(ws, fields);
  const answer = await admin("POST", `/keys/${old.id}/rotate`, { gracePeriodSeconds: 60 });
  expect(answer.status, answer.text).toBe(201);
  return { ws, old, next: answer.json as Json };
}

describe("usage of a rotated key", () => {
  it("records the old key's decisions in its own usage, revoked refusals included, on shared limits", async () => {
    const { ws, old, next } = await rotated({ limits: { minute: 50 } });
    for (let i = 0; i < N; i++) {
      const response = await call("/api/products", { key: old.key });
      // The origin is told the old key's id: its usage is where the request counts.
      expect(((await response.json()) as Json).headers["x-portcullis-key-id"]).toBe(old.id);
    }
    await statuses(next.key, M, 200);
    // One set of limits: both keys' requests count in the successor's window.
    const successor = await admin("GET", `/keys/${next.id}`);
    expect(remaining(successor.json.counters.limits, "minute")).toBe(50 - N - M);
    expect((await admin("POST", `/keys/${next.id}/revoke`)).status).toBe(200);
    await statuses(old.key, K, 401);

    expect(await usageOf(old.id)).toEqual({ allowed: N, denied: { key_revoked: K } });
    expect(await usageOf(next.id)).toEqual({ allowed: M, denied: {} });
    // Written behind to D1, the workspace's usage is every decision made, each counted once.
    for (const id of [old.id, next.id]) await runDurableObjectAlarm(keyObject(id));
    const workspace = await admin("GET", `/workspaces/${ws}/usage`);
    expect(totals(workspace.json.items)).toEqual({ allowed: N + M, denied: { key_revoked: K } });
  });

  it("records the old key's expiry refusals after the grace, and its owner counts both keys", async () => {
    const ownerId = `rotation-owner-${crypto.randomUUID().slice(0, 8)}`;
    const ws = await createWorkspace();
    const put = await admin("PUT", `/owners/${ownerId}?workspaceId=${ws}`, { limits: { minute: 12 } });
    expect(put.status, put.text).toBe(200);
    const old = await createKey(ws, { ownerId });
    const next = (await admin("POST", `/keys/${old.id}/rotate`, { gracePeriodSeconds: 60 })).json;
    await statuses(old.key, N, 200);
    await statuses(next.key, M, 200);
    // Under 16 left: no lease holds budget, so the owner's window shows every request.
    const owner = await admin("GET", `/owners/${ownerId}?workspaceId=${ws}`);
    expect(remaining(owner.json.limits, "minute")).toBe(12 - N - M);
    await runInDurableObject(keyObject(old.id), (instance: KeyGate) => {
      instance.now = () => Date.now() + 61_000;
    });
    await statuses(old.key, K, 401);

    expect(await usageOf(old.id)).toEqual({ allowed: N, denied: { key_expired: K } });
    expect(await usageOf(next.id)).toEqual({ allowed: M, denied: {} });
  });

  it("marks the old key used, not its successor, when the old key is used", async () => {
    const { old, next } = await rotated({});
    await statuses(old.key, 1, 200);
    expect((await admin("GET", `/keys/${old.id}`)).json.lastUsedAt).toEqual(expect.any(String));
    expect((await admin("GET", `/keys/${next.id}`)).json.lastUsedAt).toBeNull();
  });
});
