/**
 * Attack class: oversized, overdeep or poisoned admin input (docs/admin-api.md "Bad input of any kind").
 * Each limit is a 400 `bad_request` naming the field (413 for bodies over 64 KiB), and a
 * refused write stores nothing.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import { ADMIN, admin, BASE, createKey, createWorkspace, expectProblem, type Json } from "../worker/helpers";

const TABLES = ["workspaces", "keys", "roles", "audit_log"] as const;

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** Sends a raw admin body and expects a 400 `bad_request` naming `field`; nothing may be stored. */
async function expectRefused(method: string, path: string, body: unknown, field: string): Promise<Json> {
  const before = await rowCounts();
  const response = await exports.default.fetch(
    new Request(`${ADMIN}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  const problem = await expectProblem(response, 400, "bad_request");
  expect(problem.errors.map((error: { field: string }) => error.field)).toContain(field);
  expect(await rowCounts()).toEqual(before);
  return problem;
}

/** `{"a":{"a":...1...}}` with `levels` objects, as raw JSON text (JSON.stringify would recurse). */
function nestedObjects(levels: number, leaf = "1"): string {
  return `${'{"a":'.repeat(levels)}${leaf}${"}".repeat(levels)}`;
}

function nestedArrays(levels: number): string {
  return `${"[".repeat(levels)}${"]".repeat(levels)}`;
}

/** Strings no name may hold: C0, DEL, C1, and both halves of a surrogate pair alone. */
const POISONED = {
  nul: "a\u0000b",
  "line feed": "a\nb",
  escape: "a\u001bb",
  delete: "a\u007fb",
  "next line (C1)": "a\u0085b",
  "C1 end": "a\u009fb",
  "lone high surrogate": "a\ud800b",
  "lone low surrogate": "a\udc00b",
  "reversed pair": "\udc00\ud800",
};

let ws: string;
let keyId: string;

beforeAll(async () => {
  ws = await createWorkspace("input-limits");
  keyId = (await createKey(ws)).id;
});

describe("meta nesting: checked before anything recursive runs", () => {
  it("answers a meta nested 2000 levels deep 400 naming meta, not 500", async () => {
    await expectRefused(
      "POST",
      "/keys",
      `{"workspaceId":"${ws}","type":"server","meta":${nestedObjects(2000)}}`,
      "meta",
    );
    await expectRefused("PATCH", `/keys/${keyId}`, `{"meta":${nestedObjects(2000)}}`, "meta");
  });

  it("answers the deepest meta a 64 KiB body can carry 400, in objects and in arrays", async () => {
    await expectRefused(
      "POST",
      "/keys",
      `{"workspaceId":"${ws}","type":"server","meta":${nestedObjects(10_000)}}`,
      "meta",
    );
    await expectRefused(
      "POST",
      "/keys/import",
      `{"workspaceId":"${ws}","type":"server","hash":"${"a".repeat(64)}","meta":{"a":${nestedArrays(30_000)}}}`,
      "meta",
    );
  });

  it("accepts 8 levels (meta itself is the first) and refuses 9", async () => {
    const eight = await admin(
      "POST",
      "/keys",
      `{"workspaceId":"${ws}","type":"server","meta":${nestedObjects(7, "[]")}}`,
    );
    expect(eight.status, eight.text).toBe(201);
    await expectRefused(
      "POST",
      "/keys",
      `{"workspaceId":"${ws}","type":"server","meta":${nestedObjects(8, "[]")}}`,
      "meta",
    );
    await expectRefused("PATCH", `/keys/${keyId}`, `{"meta":${nestedObjects(9)}}`, "meta");
  });

  it("refuses a meta over 4 KiB serialised", async () => {
    await expectRefused(
      "POST",
      "/keys",
      { workspaceId: ws, type: "server", meta: { blob: "x".repeat(4096) } },
      "meta",
    );
  });
});

describe("text fields: no control characters, no lone surrogates", () => {
  for (const [label, text] of Object.entries(POISONED)) {
    it(`refuses ${label} in names, ownerId and every string of meta`, async () => {
      await expectRefused("POST", "/workspaces", { name: text }, "name");
      await expectRefused("PATCH", `/workspaces/${ws}`, { name: text }, "name");
      await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", name: text }, "name");
      await expectRefused("PATCH", `/keys/${keyId}`, { name: text }, "name");
      await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", ownerId: text }, "ownerId");
      await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", meta: { note: text } }, "meta");
      await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", meta: { [text]: 1 } }, "meta");
      await expectRefused("PATCH", `/keys/${keyId}`, { meta: { list: [{ deep: [text] }] } }, "meta");
      await expectRefused("POST", "/roles", { workspaceId: ws, name: text, permissions: [] }, "name");
    });
  }

  it("keeps well-formed text: surrogate pairs, accents, tabs-free punctuation", async () => {
    const text = "Zoë 🚀 «billing» — ünïcödé";
    const created = await admin("POST", "/keys", {
      workspaceId: ws,
      type: "server",
      name: text,
      meta: { [text]: text },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ name: text, meta: { [text]: text } });
  });
});

describe("ownerId: [A-Za-z0-9_.:@-]{1,128}, not dots only", () => {
  it.each([".", "..", "...", "a/b", "a b", "a%2Fb", "", "x".repeat(129), "ä"])(
    "refuses %j",
    async (ownerId) => {
      await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", ownerId }, "ownerId");
      await expectRefused("PATCH", `/keys/${keyId}`, { ownerId }, "ownerId");
    },
  );

  it("accepts every allowed character, dots among others, and 128 characters", async () => {
    for (const ownerId of ["user@example.com:team_a-1", ".hidden", "a..b", "x".repeat(128)]) {
      const created = await admin("POST", "/keys", { workspaceId: ws, type: "server", ownerId });
      expect(created.status, created.text).toBe(201);
      expect(created.json.ownerId).toBe(ownerId);
    }
  });
});

describe("role names: [A-Za-z0-9_.:-]{1,64}, not dots only, wherever a role name is accepted", () => {
  it.each([".", "..", "...."])("refuses %j in a role body and in a key's roles", async (name) => {
    await expectRefused("POST", "/roles", { workspaceId: ws, name, permissions: [] }, "name");
    await expectRefused("POST", "/keys", { workspaceId: ws, type: "server", roles: [name] }, "roles.0");
    await expectRefused("PATCH", `/keys/${keyId}`, { roles: [name] }, "roles.0");
  });

  it.each(["...", "%2E%2E%2E", ".%2e.%2E"])("refuses the path parameter %s", async (segment) => {
    const response = await exports.default.fetch(
      new Request(`${ADMIN}/roles/${segment}?workspaceId=${ws}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${ROOT_TOKEN}` },
      }),
    );
    const problem = await expectProblem(response, 400, "bad_request");
    expect(problem.errors).toEqual([expect.objectContaining({ field: "name" })]);
  });

  it("accepts a name with dots among other characters", async () => {
    const created = await admin("POST", "/roles", {
      workspaceId: ws,
      name: "billing.v2:read-only_x",
      permissions: [],
    });
    expect(created.status, created.text).toBe(201);
  });
});

describe("admin bodies: at most 64 KiB", () => {
  const oversized = JSON.stringify({ name: "x".repeat(64 * 1024) });

  it("answers 413 payload_too_large with a Content-Length", async () => {
    const before = await rowCounts();
    const response = await exports.default.fetch(
      new Request(`${ADMIN}/workspaces`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ROOT_TOKEN}`,
          "Content-Type": "application/json",
          "Content-Length": String(oversized.length),
        },
        body: oversized,
      }),
    );
    await expectProblem(response, 413, "payload_too_large");
    expect(await rowCounts()).toEqual(before);
  });

  it("answers 413 payload_too_large when sent chunked, without Content-Length", async () => {
    const before = await rowCounts();
    const bytes = new TextEncoder().encode(oversized);
    const chunks = [bytes.slice(0, 30_000), bytes.slice(30_000, 60_000), bytes.slice(60_000)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const request = new Request(`${ADMIN}/workspaces`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(request.headers.get("content-length")).toBeNull();
    await expectProblem(await exports.default.fetch(request), 413, "payload_too_large");
    expect(await rowCounts()).toEqual(before);
  });
});

describe("deeply nested JSON anywhere in a body is a 400, never a 500", () => {
  const deep = nestedArrays(30_000);
  const routes: Array<[string, string]> = [
    ["POST", "/workspaces"],
    ["PATCH", "/workspaces/ws_00000000000000000000"],
    ["POST", "/keys"],
    ["POST", "/keys/import"],
    ["PATCH", "/keys/key_00000000000000000000"],
    ["POST", "/keys/key_00000000000000000000/credits"],
    ["POST", "/keys/key_00000000000000000000/rotate"],
    ["POST", "/roles"],
  ];

  it.each(routes)("%s %s: a deep body, and a deep value in a field", async (method, path) => {
    for (const body of [deep, `{"name":${deep}}`, `{"workspaceId":${deep}}`]) {
      const before = await rowCounts();
      const response = await exports.default.fetch(
        new Request(`${ADMIN}${path}`, {
          method,
          headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
          body,
        }),
      );
      await expectProblem(response, 400, "bad_request");
      expect(await rowCounts()).toEqual(before);
    }
  });

  it("POST /v1/verify: a deep body, and a deep value in a field", async () => {
    for (const body of [nestedArrays(200_000), `{"key":${deep}}`, `{"key":"sk_test_x","keyTypes":${deep}}`]) {
      const response = await exports.default.fetch(
        new Request(`${BASE}/_portcullis/v1/verify`, {
          method: "POST",
          headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
          body,
        }),
      );
      await expectProblem(response, 400, "bad_request");
    }
  });
});

describe("usage ranges", () => {
  it("an impossible date is 400, not 500 (found by the admin fuzz)", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    for (const query of ["to=2027-13-45", "from=2026-02-30", "to=0000-00-00"]) {
      const answer = await admin("GET", `/keys/${id}/usage?${query}`);
      expect([answer.status, answer.json.code], query).toEqual([400, "bad_request"]);
    }
  });
});
