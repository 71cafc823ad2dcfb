/**
 * Attack class: dependency faults. A failing D1 or Durable Object never leaves a key less
 * restricted than the admin API reported (docs/admin-api.md): a restriction is in force in the key's
 * object before it is reported, a widening is in D1 first, and whatever failed is completed
 * or undone. Revoke, disable and delete by id work while D1 is down (the object holds them and
 * writes D1, with the change's time and request id, once D1 is back), and `limiterFailure:
 * "open"` then refuses the key instead of trusting D1's stale copy.
 *
 * The fault matrix injects a fault at each step of each admin write: D1 failing in the Worker,
 * in the key's object, or in both; the object failing before the change, or after it with its
 * answer lost.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { failingDb, failingObjects, objectsFailing, objectsWithDb, restoreObjectDbs } from "../worker/faults";
import {
  admin,
  adminRequest,
  BASE,
  call,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  keyObject,
} from "../worker/helpers";

afterEach(restoreObjectDbs);

const D1_DOWN = () => ({
  DB: failingDb({ reads: true }),
  KEY_GATE: objectsWithDb(failingDb({ reads: true })),
});

async function row(id: string) {
  return env.DB.prepare(
    "SELECT enabled, revoked_at, deleted_at, permissions, credits FROM keys WHERE id = ?1",
  )
    .bind(id)
    .first<{
      enabled: number;
      revoked_at: number | null;
      deleted_at: number | null;
      permissions: string;
      credits: string | null;
    }>();
}

async function audit(id: string, action: string) {
  return env.DB.prepare("SELECT at, request_id FROM audit_log WHERE target_id = ?1 AND action = ?2")
    .bind(id, action)
    .first<{ at: number; request_id: string }>();
}

/** A key that this isolate has verified once, so that its hash -> id mapping is warm. */
async function warmKey(fields: Record<string, unknown> = {}) {
  const ws = await createWorkspace();
  const created = await createKey(ws, fields);
  expect((await call("/api/free", { key: created.key })).status).toBe(200);
  return { ws, ...created };
}

describe("revocation without D1", () => {
  it("revoke by the root token succeeds while D1 is down, in force at once, D1 and audit completed later", async () => {
    const { key, id } = await warmKey();
    const revoke = await direct(adminRequest("POST", `/keys/${id}/revoke`), D1_DOWN());
    expect(revoke.status).toBe(200);
    const body = (await revoke.json()) as { revokedAt: string };
    const requestId = revoke.headers.get("x-request-id");
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
    expect((await row(id))?.revoked_at).toBeNull();
    restoreObjectDbs();
    expect(await runDurableObjectAlarm(keyObject(id))).toBe(true);
    expect((await row(id))?.revoked_at).toBe(Date.parse(body.revokedAt));
    expect(await audit(id, "key.revoke")).toEqual({ at: Date.parse(body.revokedAt), request_id: requestId });
  });

  it("disable and delete succeed while D1 is down too", async () => {
    const disabled = await warmKey();
    const patch = await direct(adminRequest("PATCH", `/keys/${disabled.id}`, { enabled: false }), D1_DOWN());
    expect(patch.status).toBe(200);
    await expectProblem(await call("/api/products", { key: disabled.key }), 401, "key_disabled");
    const deleted = await warmKey();
    expect((await direct(adminRequest("DELETE", `/keys/${deleted.id}`), D1_DOWN())).status).toBe(204);
    await expectProblem(await call("/api/products", { key: deleted.key }), 401, "key_revoked");
    restoreObjectDbs();
    await runDurableObjectAlarm(keyObject(disabled.id));
    await runDurableObjectAlarm(keyObject(deleted.id));
    expect((await row(disabled.id))?.enabled).toBe(0);
    expect((await row(deleted.id))?.deleted_at).toEqual(expect.any(Number));
  });

  it("an admin key this isolate has verified can revoke while D1 is down", async () => {
    const { ws, key, id } = await warmKey();
    const operator = await createKey(ws, { type: "admin", permissions: ["keys:revoke"] });
    expect((await admin("GET", `/keys/${id}`, undefined, operator.key)).status).toBe(403);
    const revoke = await direct(
      adminRequest("POST", `/keys/${id}/revoke`, undefined, operator.key),
      D1_DOWN(),
    );
    expect(revoke.status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
  });

  it("limiterFailure open refuses a key revoked while D1 was down instead of trusting D1", async () => {
    const { key, id } = await warmKey();
    expect((await direct(adminRequest("POST", `/keys/${id}/revoke`), D1_DOWN())).status).toBe(200);
    restoreObjectDbs();
    const open = {
      POLICY: JSON.stringify({ ...TEST_POLICY, limiterFailure: "open" }),
      KEY_GATE: failingObjects(),
    };
    const request = new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } });
    await expectProblem(await direct(request, open), 503, "unavailable");
  });

  it("other changes still need D1: a widening while D1 is down is 503 and changes nothing", async () => {
    const { key, id } = await warmKey({ permissions: ["products:read"] });
    const widen = await direct(
      adminRequest("PATCH", `/keys/${id}`, { permissions: ["products:read", "products:write"] }),
      D1_DOWN(),
    );
    await expectProblem(widen, 503, "unavailable");
    await expectProblem(
      await call("/api/products", { key, method: "POST" }),
      403,
      "insufficient_permissions",
    );
  });
});

type Fault = "worker-d1" | "object-d1" | "all-d1" | "object-before" | "object-after";
const FAULTS: Fault[] = ["worker-d1", "object-d1", "all-d1", "object-before", "object-after"];

interface Change {
  name: string;
  /** The key's settings before the change. */
  fields?: Record<string, unknown>;
  /** Run before the change, with everything working. */
  setup?: (id: string) => Promise<void>;
  method: string;
  path: (id: string) => string;
  body?: unknown;
  /** The object method that applies it. */
  objectMethod: string;
  restricts: boolean;
  /** Whether the change is in force, seen from a request of the key. */
  inForce: (key: string) => Promise<boolean>;
  /** Whether D1 shows the change. */
  inD1: (id: string) => Promise<boolean>;
}

const status = async (key: string, init: RequestInit = {}) =>
  (await call("/api/products", { key, ...init })).status;

const CHANGES: Change[] = [
  {
    name: "revoke",
    method: "POST",
    path: (id) => `/keys/${id}/revoke`,
    objectMethod: "revoke",
    restricts: true,
    inForce: async (key) => (await status(key)) === 401,
    inD1: async (id) => (await row(id))?.revoked_at !== null,
  },
  {
    name: "delete",
    method: "DELETE",
    path: (id) => `/keys/${id}`,
    objectMethod: "remove",
    restricts: true,
    inForce: async (key) => (await status(key)) === 401,
    inD1: async (id) => (await row(id))?.deleted_at !== null,
  },
  {
    name: "disable",
    method: "PATCH",
    path: (id) => `/keys/${id}`,
    body: { enabled: false },
    objectMethod: "update",
    restricts: true,
    inForce: async (key) => (await status(key)) === 401,
    inD1: async (id) => (await row(id))?.enabled === 0,
  },
  {
    name: "narrow permissions",
    method: "PATCH",
    path: (id) => `/keys/${id}`,
    body: { permissions: ["products:read"] },
    objectMethod: "update",
    restricts: true,
    inForce: async (key) => (await status(key, { method: "POST" })) === 403,
    inD1: async (id) => (await row(id))?.permissions === '["products:read"]',
  },
  {
    name: "lower credits",
    fields: { credits: { remaining: 50 } },
    method: "POST",
    path: (id) => `/keys/${id}/credits`,
    body: { op: "set", amount: 0 },
    objectMethod: "changeCredits",
    restricts: true,
    inForce: async (key) => (await status(key)) === 429,
    inD1: async (id) => JSON.parse((await row(id))?.credits ?? "{}").remaining === 0,
  },
  {
    name: "widen permissions",
    fields: { permissions: ["products:read"] },
    method: "PATCH",
    path: (id) => `/keys/${id}`,
    body: { permissions: ["products:read", "products:write"] },
    objectMethod: "update",
    restricts: false,
    inForce: async (key) => (await status(key, { method: "POST" })) === 200,
    inD1: async (id) => (await row(id))?.permissions === '["products:read","products:write"]',
  },
  {
    name: "enable",
    setup: async (id) => {
      expect((await admin("PATCH", `/keys/${id}`, { enabled: false })).status).toBe(200);
    },
    method: "PATCH",
    path: (id) => `/keys/${id}`,
    body: { enabled: true },
    objectMethod: "update",
    restricts: false,
    inForce: async (key) => (await status(key)) === 200,
    inD1: async (id) => (await row(id))?.enabled === 1,
  },
  {
    name: "raise credits",
    fields: { credits: { remaining: 0 } },
    method: "POST",
    path: (id) => `/keys/${id}/credits`,
    body: { op: "increment", amount: 50 },
    objectMethod: "changeCredits",
    restricts: false,
    inForce: async (key) => (await status(key)) === 200,
    inD1: async (id) => JSON.parse((await row(id))?.credits ?? "{}").remaining > 0,
  },
];

function faulty(fault: Fault, objectMethod: string) {
  switch (fault) {
    case "worker-d1":
      return { DB: failingDb({ reads: true }) };
    case "object-d1":
      return { KEY_GATE: objectsWithDb(failingDb()) };
    case "all-d1":
      return D1_DOWN();
    case "object-before":
      return { KEY_GATE: failingObjects() };
    case "object-after":
      return { KEY_GATE: objectsFailing(objectMethod, "after") };
  }
}

/** Revoke, disable and delete are answered 2xx while D1 fails (docs/admin-api.md's exception). */
const CONFIRMED_WITHOUT_D1 = new Set(["revoke", "delete", "disable"]);

describe("fault injection at every step of every admin write", () => {
  for (const change of CHANGES) {
    for (const fault of FAULTS) {
      it(`${change.name}, ${fault}: never less restricted than reported, and completed or undone`, async () => {
        const { key, id } = await warmKey(change.fields);
        await change.setup?.(id);
        const response = await direct(
          adminRequest(change.method, change.path(id), change.body),
          faulty(fault, change.objectMethod),
        );
        expect(response.status, await response.clone().text()).not.toBe(500);
        const ok = response.status < 300;
        if (!ok) await expectProblem(response, 503, "unavailable");
        if (ok && fault !== "object-after") {
          // Reported done: it holds in the object, and in D1 unless it is the D1-less exception.
          expect(await change.inForce(key)).toBe(true);
          const d1Down = fault !== "object-before";
          if (!(d1Down && CONFIRMED_WITHOUT_D1.has(change.name))) expect(await change.inD1(id)).toBe(true);
        }
        if (!ok && !change.restricts && fault !== "object-after") {
          // A widening reported as failed is not in force. (With its answer lost on the way back,
          // it was completed: a 503 says "completed or undone", so a retry is safe.)
          expect(await change.inForce(key)).toBe(false);
        }
        if (fault === "object-before") {
          expect(ok).toBe(false);
          expect(await change.inForce(key)).toBe(false);
          expect(await change.inD1(id)).toBe(false);
        }
        // Once the faults are gone, D1 and the object agree: completed (or, for a widening, undone).
        restoreObjectDbs();
        await runDurableObjectAlarm(keyObject(id));
        expect(await change.inD1(id)).toBe(await change.inForce(key));
        if (change.restricts && fault !== "object-before" && fault !== "worker-d1") {
          expect(await change.inForce(key)).toBe(true);
        }
      });
    }
  }
});
