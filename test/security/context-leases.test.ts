/**
 * Attacks on the context leases (docs/consistency.md#context): a plan change, role edit or owner
 * change answers once its workspace's context shards say every context lent before is over. So
 * no lease a key's object lends may outlive the context it decided under (else an isolate would
 * decide on the old plan after the change answered), and no shard may lend or keep what it read
 * from D1 while a change landed (else the old plan would come back after the answer).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GateCheck } from "../../src/decision/decide";
import { contextObjectOf } from "../../src/key-client/context-client";
import type { KeyGate } from "../../src/key-object/key-gate";
import type { WorkspaceContext } from "../../src/key-object/workspace-context";
import { admin, createKey, createWorkspace, keyObject } from "../worker/helpers";

const READ: GateCheck = {
  permissions: ["products:read"],
  anyPermissions: [],
  keyTypes: null,
  ip: null,
  workspaceId: null,
  cost: 1,
  consume: true,
};
const LEASE_MS = 1_000;
const policy = { plans: {}, leaseMs: LEASE_MS };
/** How far the key's object's clock moves after it took its context. */
const LATER_MS = 300;

describe("context leases", () => {
  it("no lease a key's object lends outlives the context it decided under", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws, { permissions: ["products:read"] });
    await runInDurableObject(keyObject(id), async (instance: KeyGate) => {
      let offset = 0;
      instance.now = () => Date.now() + offset;
      // The first decision takes the context for LEASE_MS from before its ask.
      expect((await instance.authorize(READ, policy))?.decision.code).toBe("valid");
      offset = LATER_MS;
      const outcome = await instance.authorize(READ, policy, { holder: "iso", report: null, wanted: 50 });
      expect(outcome?.decision.code).toBe("valid");
      expect(outcome?.lease?.ms).toBeGreaterThan(0);
      expect(outcome?.lease?.ms).toBeLessThanOrEqual(LEASE_MS - LATER_MS);
    });
  });

  it("no lease an owner's object grants through a key's object outlives the key's context", async () => {
    const ws = await createWorkspace();
    expect((await admin("PUT", `/owners/team?workspaceId=${ws}`, { limits: { day: 10_000 } })).status).toBe(
      200,
    );
    const { id } = await createKey(ws, { permissions: ["products:read"], ownerId: "team" });
    await runInDurableObject(keyObject(id), async (instance: KeyGate) => {
      let offset = 0;
      instance.now = () => Date.now() + offset;
      expect((await instance.authorize(READ, policy))?.decision.code).toBe("valid");
      offset = LATER_MS;
      const outcome = await instance.authorize(READ, policy, { holder: "iso", report: null, wanted: 50 });
      expect(outcome?.decision.code).toBe("valid");
      // The owner's object counted it: its windows are shown.
      expect(outcome?.lease?.usage).toBeDefined();
      expect(outcome?.lease?.ms).toBeGreaterThan(0);
      expect(outcome?.lease?.ms).toBeLessThanOrEqual(LEASE_MS - LATER_MS);
    });
  });

  it("a shard neither lends nor keeps what it read from D1 while a change landed", async () => {
    const ws = await createWorkspace("held", "pro");
    const shard = contextObjectOf(env, ws, 0) as unknown as DurableObjectStub<WorkspaceContext>;
    await runInDurableObject(shard, async (instance: WorkspaceContext) => {
      let release: () => void = () => undefined;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      let held = false;
      instance.db = {
        prepare: (sql: string) => {
          const statement = env.DB.prepare(sql);
          const bind = statement.bind.bind(statement);
          return Object.assign(statement, {
            bind: (...values: unknown[]) => {
              const bound = bind(...values);
              const first = bound.first.bind(bound);
              return Object.assign(bound, {
                first: async (column?: string) => {
                  const row = await (column === undefined ? first() : first(column));
                  if (sql.includes("FROM workspaces") && !held) {
                    held = true;
                    await hold;
                  }
                  return row;
                },
              });
            },
          });
        },
        batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
      } as unknown as D1Database;
      const subject = { workspaceId: ws, roles: [], ownerId: null, type: "server" };
      const lending = instance.lend(subject, LEASE_MS);
      while (!held) await new Promise((resolve) => setTimeout(resolve, 1));
      // The downgrade: D1, then this shard, while its read of the old plan is on its way.
      await env.DB.prepare("UPDATE workspaces SET plan = 'free' WHERE id = ?1").bind(ws).run();
      await instance.invalidate(ws, { kind: "workspace" });
      release();
      expect((await lending).context.workspacePlan).toBe("free");
      expect((await instance.lend(subject, LEASE_MS)).context.workspacePlan).toBe("free");
      instance.db = env.DB;
    });
  });
});
