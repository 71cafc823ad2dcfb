/**
 * Attack class: a workspace's `externalId` (docs/admin-api.md#workspaces), the provider's own id
 * of the organisation it serves. A malformed one is refused and stores nothing; two workspaces
 * never share one, however many creates race for it; an admin key cannot learn whether another
 * workspace holds an id.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, createKey, createWorkspace } from "../worker/helpers";

function uniqueId(label: string): string {
  return `${label}|${crypto.randomUUID()}`;
}

async function workspacesNamed(name: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM workspaces WHERE name = ?1")
    .bind(name)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("externalId validation", () => {
  const bad: [string, unknown][] = [
    ["a space", "org 42"],
    ["a slash", "org/42"],
    ["a question mark", "org?42"],
    ["a percent sign", "org%2F42"],
    ["129 characters", "o".repeat(129)],
    ["the empty string", ""],
    ["a tab", "org\t42"],
    ["a newline", "org\n42"],
    ["NUL", "org\u000042"],
    ["DEL", "org\u007f42"],
    ["a non-ASCII letter", "orgé42"],
    ["a lone surrogate", "org\ud80042"],
    ["a number", 42],
  ];

  for (const [what, externalId] of bad) {
    it(`refuses ${what} on create and stores nothing`, async () => {
      const name = `bad-external-${crypto.randomUUID()}`;
      const answer = await admin("POST", "/workspaces", { name, externalId });
      expect(answer.status).toBe(400);
      expect(answer.json.code).toBe("bad_request");
      expect(answer.json.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: "externalId" })]),
      );
      expect(await workspacesNamed(name)).toBe(0);
    });

    it(`refuses ${what} on patch and changes nothing`, async () => {
      const id = await createWorkspace("patched");
      const answer = await admin("PATCH", `/workspaces/${id}`, { externalId });
      expect(answer.status).toBe(400);
      expect((await admin("GET", `/workspaces/${id}`)).json.externalId).toBeNull();
    });
  }

  it("accepts the longest id and every allowed character, as given", async () => {
    const externalId = `Aa0_.:@|-${"x".repeat(119)}`;
    expect(externalId).toHaveLength(128);
    const created = await admin("POST", "/workspaces", { name: "longest", externalId });
    expect(created.status, created.text).toBe(201);
    expect(created.json.externalId).toBe(externalId);
    const found = await admin("GET", `/workspaces?externalId=${encodeURIComponent(externalId)}`);
    expect(found.json.items).toMatchObject([{ id: created.json.id, externalId }]);
  });

  it("refuses a malformed id in the lookup", async () => {
    expect((await admin("GET", `/workspaces?externalId=${encodeURIComponent("a b")}`)).status).toBe(400);
    expect((await admin("GET", `/workspaces?externalId=${"o".repeat(129)}`)).status).toBe(400);
  });
});

describe("externalId uniqueness", () => {
  it("20 concurrent creates with one externalId: exactly one 201, the rest 409", async () => {
    const externalId = uniqueId("org_race");
    const name = `race-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => admin("POST", "/workspaces", { name, externalId })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.json.code).toBe("conflict");
    expect(await workspacesNamed(name)).toBe(1);
    const audited = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'workspace.create' AND after LIKE ?1",
    )
      .bind(`%${externalId}%`)
      .first<{ n: number }>();
    expect(audited?.n).toBe(1);
  });

  it("a patch to an id another workspace holds is 409 and changes nothing", async () => {
    const externalId = uniqueId("org_taken");
    const holder = await admin("POST", "/workspaces", { name: "holder", externalId });
    expect(holder.status).toBe(201);
    const other = await createWorkspace("other");
    const answer = await admin("PATCH", `/workspaces/${other}`, { externalId, name: "renamed" });
    expect(answer.status).toBe(409);
    expect(answer.json.code).toBe("conflict");
    expect((await admin("GET", `/workspaces/${other}`)).json).toMatchObject({
      name: "other",
      externalId: null,
    });
  });

  it("20 concurrent patches of different workspaces to one id: exactly one succeeds", async () => {
    const externalId = uniqueId("org_patch_race");
    const ids = await Promise.all(Array.from({ length: 20 }, () => createWorkspace("patch-race")));
    const answers = await Promise.all(ids.map((id) => admin("PATCH", `/workspaces/${id}`, { externalId })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
    expect(
      (await admin("GET", `/workspaces?externalId=${encodeURIComponent(externalId)}`)).json.items,
    ).toHaveLength(1);
  });
});

describe("an admin key and externalIds of other workspaces", () => {
  it("never learns whether another workspace holds an externalId", async () => {
    const theirs = await admin("POST", "/workspaces", { name: "theirs", externalId: uniqueId("org_theirs") });
    const mineId = uniqueId("org_mine");
    const mine = await admin("POST", "/workspaces", { name: "mine", externalId: mineId });
    const operator = await createKey(mine.json.id, { type: "admin", permissions: ["*"] });

    const probe = await admin(
      "GET",
      `/workspaces?externalId=${encodeURIComponent(theirs.json.externalId)}`,
      undefined,
      operator.key,
    );
    const absent = await admin(
      "GET",
      `/workspaces?externalId=${encodeURIComponent(uniqueId("org_nobody"))}`,
      undefined,
      operator.key,
    );
    expect(probe.status).toBe(200);
    expect(probe.json).toEqual({ items: [], cursor: null });
    expect(absent.json).toEqual(probe.json);

    const own = await admin(
      "GET",
      `/workspaces?externalId=${encodeURIComponent(mineId)}`,
      undefined,
      operator.key,
    );
    expect(own.json.items).toMatchObject([{ id: mine.json.id, externalId: mineId }]);
  });

  it("cannot set or clear its workspace's externalId: only root binds a workspace to an organisation", async () => {
    const takenId = uniqueId("org_other");
    expect((await admin("POST", "/workspaces", { name: "theirs", externalId: takenId })).status).toBe(201);
    const ownId = uniqueId("org_own");
    const mine = await admin("POST", "/workspaces", { name: "mine", externalId: ownId });
    const operator = await createKey(mine.json.id, { type: "admin", permissions: ["*"] });
    // A taken id and a free one get the same answer: no existence oracle, and no capture of
    // another organisation's members through the id the portal maps them by.
    for (const externalId of [takenId, uniqueId("org_free"), null]) {
      const answer = await admin("PATCH", `/workspaces/${mine.json.id}`, { externalId }, operator.key);
      expect(answer.status).toBe(403);
      expect(answer.json.code).toBe("insufficient_permissions");
    }
    expect((await admin("GET", `/workspaces/${mine.json.id}`)).json.externalId).toBe(ownId);
    // Its name it may still change.
    expect((await admin("PATCH", `/workspaces/${mine.json.id}`, { name: "ours" }, operator.key)).status).toBe(
      200,
    );
  });
});
