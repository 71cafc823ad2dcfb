/**
 * Changes that reach many keys (an owner's settings, a role edit or deletion) go to the
 * workspace's context shards, which answer once every context they lent before is over: within
 * one lease length (`leases.ms`) plus the calls, whatever this isolate holds, and in force for
 * the next request, leases included (docs/consistency.md#context).
 *
 * The leases and the admin calls go through `direct`, in one module instance: one isolate.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import {
  adminRequest,
  BASE,
  countingDecisions,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  type Json,
} from "./helpers";

/** Leases far longer than the calls of a change take. */
const LEASE_MS = 5_000;
const LONG = { POLICY: JSON.stringify({ ...TEST_POLICY, leases: { ms: LEASE_MS } }) };
/** A change's answer: at most one lease length, plus the calls on a loaded machine. */
const WITHIN = LEASE_MS + 2_000;

function keyed(key: string, path = "/api/products"): Request {
  return new Request(`${BASE}${path}`, { headers: { Authorization: `Bearer ${key}` } });
}

/** Sends requests of `key` until this isolate decides them under a lease (no object call). */
async function leased(key: string, path?: string): Promise<void> {
  const counting = countingDecisions(env.KEY_GATE);
  for (let i = 0; i < 10; i++) {
    expect((await direct(keyed(key, path), { ...LONG, KEY_GATE: counting.namespace })).status).toBe(200);
  }
  expect(counting.decisions()).toBeLessThan(10);
}

/** An admin call in this isolate, and how long its answer took, ms. */
async function timed(method: string, path: string, body?: Json): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await direct(adminRequest(method, path, body), LONG);
  await response.body?.cancel();
  return { status: response.status, ms: performance.now() - started };
}

describe("this isolate's own leases", () => {
  it("end with PUT /owners: it answers within a lease length, in force for the next request", async () => {
    const ws = await createWorkspace();
    const owner = `own-${crypto.randomUUID().slice(0, 8)}`;
    expect(
      (await timed("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { hour: 10_000 } })).status,
    ).toBe(200);
    const { key } = await createKey(ws, { ownerId: owner });
    await leased(key);
    const lowered = await timed("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { hour: 5 } });
    expect(lowered.status).toBe(200);
    expect(lowered.ms).toBeLessThan(WITHIN);
    await expectProblem(await direct(keyed(key), LONG), 429, "rate_limited");
  }, 40_000);

  it("end with a role edit and a role deletion: each answers within a lease length, in force", async () => {
    const ws = await createWorkspace();
    const upsert = (name: string, permissions: string[]) =>
      timed("POST", "/roles", { workspaceId: ws, name, permissions });
    expect((await upsert("analyst", ["reports:read"])).status).toBe(201);
    expect((await upsert("auditor", ["reports:read"])).status).toBe(201);
    const analyst = await createKey(ws, { roles: ["analyst"] });
    const auditor = await createKey(ws, { roles: ["auditor"] });
    await leased(analyst.key, "/api/reports");
    await leased(auditor.key, "/api/reports");

    const narrowed = await upsert("analyst", ["products:read"]);
    expect(narrowed.status).toBe(201);
    expect(narrowed.ms).toBeLessThan(WITHIN);
    await expectProblem(
      await direct(keyed(analyst.key, "/api/reports"), LONG),
      403,
      "insufficient_permissions",
    );

    const removed = await timed("DELETE", `/roles/auditor?workspaceId=${ws}`);
    expect(removed.status).toBe(204);
    expect(removed.ms).toBeLessThan(WITHIN);
    await expectProblem(
      await direct(keyed(auditor.key, "/api/reports"), LONG),
      403,
      "insufficient_permissions",
    );
  }, 40_000);
});
