/**
 * A failing dependency denies: D1 or the Durable Object throwing is 503 `unavailable`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  adminRequest,
  BASE,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  UNLEASED,
} from "./helpers";

const failingDb = {
  prepare() {
    throw new Error("D1_ERROR: database unavailable");
  },
  batch() {
    return Promise.reject(new Error("D1_ERROR: database unavailable"));
  },
} as unknown as D1Database;

const failingGates = {
  idFromName: (name: string) => env.KEY_GATE.idFromName(name),
  get: () =>
    new Proxy(
      {},
      {
        get: () => () => Promise.reject(new Error("Durable Object reset because its code was updated")),
      },
    ),
} as unknown as typeof env.KEY_GATE;

const send = direct;

function keyed(key: string) {
  return new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } });
}

describe("fail closed", () => {
  it("answers 503 unavailable with Retry-After when D1 fails on a cold key", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await send(keyed(key), { DB: failingDb });
    await expectProblem(response, 503, "unavailable");
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("answers 503 when the Durable Object fails, for a cold and for a warm key", async () => {
    const ws = await createWorkspace();
    const cold = await createKey(ws);
    await expectProblem(await send(keyed(cold.key), { KEY_GATE: failingGates }), 503, "unavailable");
    // Warm: this isolate knows the key's id (no D1 read). Leasing is off here; under a lease the
    // isolate decides without its object until the lease ends (test/worker/leases.test.ts).
    const warm = await createKey(ws);
    expect((await send(keyed(warm.key), UNLEASED)).status).toBe(200);
    await expectProblem(
      await send(keyed(warm.key), { ...UNLEASED, KEY_GATE: failingGates }),
      503,
      "unavailable",
    );
  });

  it("answers 503 for admin writes when the Durable Object fails, and changes nothing", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const response = await send(adminRequest("POST", `/keys/${id}/revoke`), { KEY_GATE: failingGates });
    await expectProblem(response, 503, "unavailable");
    const row = await env.DB.prepare("SELECT revoked_at FROM keys WHERE id = ?1").bind(id).first();
    expect(row).toEqual({ revoked_at: null });
    const create = await send(adminRequest("POST", "/keys", { workspaceId: ws, type: "server" }), {
      KEY_GATE: failingGates,
    });
    await expectProblem(create, 503, "unavailable");
  });

  it("answers 503 for admin reads when D1 fails", async () => {
    await expectProblem(
      await send(new Request(`${ADMIN}/workspaces`, { headers: adminRequest("GET", "/").headers }), {
        DB: failingDb,
      }),
      503,
      "unavailable",
    );
  });
});
