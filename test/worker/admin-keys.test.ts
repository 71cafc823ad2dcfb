import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { admin, call, createKey, createWorkspace } from "./helpers";

const KEY_ID = /^key_[A-Za-z0-9]{20}$/;

async function keyCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM keys").first<{ n: number }>();
  return row?.n ?? 0;
}

describe("admin: create", () => {
  it("creates a key, shows it once with no-store, and stores only its hash", async () => {
    const ws = await createWorkspace();
    const { status, json, headers } = await admin("POST", "/keys", {
      workspaceId: ws,
      type: "server",
      name: "backend",
      ownerId: "user_42",
      meta: { team: "billing" },
    });
    expect(status).toBe(201);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(json).toMatchObject({
      id: expect.stringMatching(KEY_ID),
      workspaceId: ws,
      type: "server",
      name: "backend",
      ownerId: "user_42",
      permissions: ["products:read", "products:write"],
      roles: [],
      meta: { team: "billing" },
      plan: null,
      limits: {},
      credits: null,
      ipAllowlist: [],
      enabled: true,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFrom: null,
    });
    expect(json.key).toMatch(/^sk_test_[A-Za-z0-9]{32}_[0-9a-f]{8}$/);
    expect(json.start).toBe(json.key.slice(0, "sk_test_".length + 4));
    const row = await env.DB.prepare("SELECT * FROM keys WHERE id = ?1")
      .bind(json.id)
      .first<Record<string, unknown>>();
    expect(row?.hash).toBe(await sha256Hex(json.key));
    expect(JSON.stringify(row)).not.toContain(json.key.slice("sk_test_".length + 4));
    const audit = await env.DB.prepare("SELECT * FROM audit_log WHERE target_id = ?1").bind(json.id).all();
    expect(audit.results).toMatchObject([{ action: "key.create", actor_type: "root" }]);
    expect(JSON.stringify(audit.results)).not.toContain(json.key);
  });

  it("gives the key type's defaultPermissions only when the body has none", async () => {
    const ws = await createWorkspace();
    expect((await createKey(ws, { type: "browser" })).record.permissions).toEqual(["products:read"]);
    expect((await createKey(ws, { permissions: [] })).record.permissions).toEqual([]);
    expect((await createKey(ws, { permissions: ["orders:*"] })).record.permissions).toEqual(["orders:*"]);
  });

  it("creates keys of an unchecksummed type", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { type: "legacy" });
    expect(key).toMatch(/^lg_[A-Za-z0-9]{32}$/);
    expect((await call("/api/anything", { key })).status).toBe(200);
  });

  it("refuses permissions beyond the key type's ceiling with 400 permission_not_allowed", async () => {
    const ws = await createWorkspace();
    const before = await keyCount();
    const { status, json } = await admin("POST", "/keys", {
      workspaceId: ws,
      type: "browser",
      permissions: ["products:read", "products:write"],
    });
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: "permission_not_allowed", errors: [{ field: "permissions" }] });
    expect(json.detail).toContain("products:write");
    expect(await keyCount()).toBe(before);
  });

  it.each([
    ["malformed JSON", "{", "body"],
    ["an empty body", "", "body"],
    ["wrong types", JSON.stringify({ workspaceId: 1, type: "server" }), "workspaceId"],
    ["a missing type", JSON.stringify({ workspaceId: "ws_x" }), "type"],
    ["an unknown key type", "UNKNOWN_TYPE", "type"],
    ["meta over 4 KiB", "BIG_META", "meta"],
    ["a bad permission", "BAD_PERMISSION", "permissions.0"],
    ["a bad CIDR", "BAD_CIDR", "ipAllowlist.0"],
    ["an unknown field", "UNKNOWN_FIELD", ""],
    ["an expiry in the past", "PAST_EXPIRY", "expiresAt"],
    ["an unknown plan", "UNKNOWN_PLAN", "plan"],
  ])("answers 400 bad_request for %s and changes nothing", async (_, body, field) => {
    const ws = await createWorkspace();
    const bodies: Record<string, unknown> = {
      UNKNOWN_TYPE: { workspaceId: ws, type: "platinum" },
      BIG_META: { workspaceId: ws, type: "server", meta: { blob: "x".repeat(4100) } },
      BAD_PERMISSION: { workspaceId: ws, type: "server", permissions: ["has space"] },
      BAD_CIDR: { workspaceId: ws, type: "server", ipAllowlist: ["10.0.0.0/33"] },
      UNKNOWN_FIELD: { workspaceId: ws, type: "server", colour: "red" },
      PAST_EXPIRY: { workspaceId: ws, type: "server", expiresAt: "2001-01-01T00:00:00Z" },
      UNKNOWN_PLAN: { workspaceId: ws, type: "server", plan: "platinum" },
    };
    const before = await keyCount();
    const { status, json } = await admin("POST", "/keys", bodies[body] ?? body);
    expect(status, JSON.stringify(json)).toBe(400);
    expect(json.code).toBe("bad_request");
    expect(json.errors.length).toBeGreaterThan(0);
    if (field) expect(json.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await keyCount()).toBe(before);
  });

  it("answers 404 not_found for an unknown workspace", async () => {
    const { status, json } = await admin("POST", "/keys", {
      workspaceId: "ws_00000000000000000000",
      type: "server",
    });
    expect(status).toBe(404);
    expect(json.code).toBe("not_found");
  });

  it("answers 413 for a body over 64 KiB", async () => {
    const ws = await createWorkspace();
    const { status, json } = await admin("POST", "/keys", {
      workspaceId: ws,
      type: "server",
      name: "x".repeat(70_000),
    });
    expect(status).toBe(413);
    expect(json.code).toBe("payload_too_large");
  });

  it("answers 400 when the body is not sent as JSON", async () => {
    const ws = await createWorkspace();
    const response = await admin("POST", "/keys", undefined);
    expect(response.status).toBe(400);
    const { exports } = await import("cloudflare:workers");
    const form = await exports.default.fetch(
      new Request("https://api.example.test/_portcullis/admin/v1/keys", {
        method: "POST",
        headers: { Authorization: "Bearer test-root-token-0123456789", "Content-Type": "text/plain" },
        body: JSON.stringify({ workspaceId: ws, type: "server" }),
      }),
    );
    expect(form.status).toBe(400);
  });
});

describe("admin: import", () => {
  it("imports a raw key, never echoing it, and the key then works", async () => {
    const ws = await createWorkspace();
    const key = "lg_imported-from-elsewhere_42";
    const { status, json, text } = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "legacy",
      key,
    });
    expect(status).toBe(201);
    expect(text).not.toContain("imported-from-elsewhere");
    expect(json).toMatchObject({ id: expect.stringMatching(KEY_ID), type: "legacy", start: "lg_impo" });
    expect(json.key).toBeUndefined();
    expect((await call("/api/x", { key })).status).toBe(200);
    const audit = await env.DB.prepare("SELECT action FROM audit_log WHERE target_id = ?1")
      .bind(json.id)
      .all();
    expect(audit.results).toEqual([{ action: "key.import" }]);
  });

  it("imports by hash, and refuses a known hash with 409 conflict", async () => {
    const ws = await createWorkspace();
    const key = "lg_known-by-hash-only";
    const hash = await sha256Hex(key);
    expect((await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", hash })).status).toBe(201);
    expect((await call("/api/x", { key })).status).toBe(200);
    const again = await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", key });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe("conflict");
  });

  it("refuses a key that is not of the named type, and a body with both key and hash", async () => {
    const ws = await createWorkspace();
    const wrongType = await admin("POST", "/keys/import", { workspaceId: ws, type: "server", key: "lg_abc" });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.errors[0].field).toBe("key");
    expect(wrongType.text).not.toContain("lg_abc");
    const both = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "legacy",
      key: "lg_a",
      hash: "0".repeat(64),
    });
    expect(both.status).toBe(400);
  });
});

describe("admin: list, get, patch, revoke, delete", () => {
  it("lists keys by workspace, owner and type, with a cursor, never with secrets", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws, { ownerId: "alice" });
    const b = await createKey(ws, { ownerId: "bob", type: "browser" });
    const c = await createKey(ws, { ownerId: "alice" });
    const all = await admin("GET", `/keys?workspaceId=${ws}`);
    expect(all.status).toBe(200);
    expect(all.json.items.map((k: { id: string }) => k.id).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const secret of [a.key, b.key, c.key]) expect(all.text).not.toContain(secret);
    const alice = await admin("GET", `/keys?workspaceId=${ws}&ownerId=alice`);
    expect(alice.json.items.map((k: { id: string }) => k.id).sort()).toEqual([a.id, c.id].sort());
    const browsers = await admin("GET", `/keys?workspaceId=${ws}&type=browser`);
    expect(browsers.json.items.map((k: { id: string }) => k.id)).toEqual([b.id]);
    const page1 = await admin("GET", `/keys?workspaceId=${ws}&limit=2`);
    expect(page1.json.items).toHaveLength(2);
    const page2 = await admin("GET", `/keys?workspaceId=${ws}&limit=2&cursor=${page1.json.cursor}`);
    expect(page2.json.items).toHaveLength(1);
    expect(page2.json.cursor).toBeNull();
    expect((await admin("GET", `/keys?workspaceId=${ws}&limit=101`)).status).toBe(400);
    expect((await admin("GET", `/keys?workspaceId=${ws}&cursor=garbage`)).status).toBe(400);
  });

  it("gets one record and answers 404 for an unknown id", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { name: "one" });
    const got = await admin("GET", `/keys/${id}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id, name: "one", workspaceId: ws });
    expect(got.text).not.toContain(key);
    expect((await admin("GET", "/keys/key_00000000000000000000")).status).toBe(404);
  });

  it("patches settings, records before and after in the audit log, and validates input", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const patched = await admin("PATCH", `/keys/${id}`, {
      name: "renamed",
      meta: { tier: "gold" },
      permissions: ["products:read"],
      ownerId: "carol",
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      name: "renamed",
      meta: { tier: "gold" },
      permissions: ["products:read"],
      ownerId: "carol",
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
    });
    expect((await admin("GET", `/keys/${id}`)).json.name).toBe("renamed");
    const audit = await env.DB.prepare(
      "SELECT before, after FROM audit_log WHERE target_id = ?1 AND action = 'key.update'",
    )
      .bind(id)
      .first<{ before: string; after: string }>();
    expect(JSON.parse(audit?.before ?? "{}").name).toBeNull();
    expect(JSON.parse(audit?.after ?? "{}").name).toBe("renamed");
    for (const body of [{}, { enabled: "no" }, { meta: { big: "x".repeat(4100) } }, { nope: 1 }]) {
      const bad = await admin("PATCH", `/keys/${id}`, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    expect((await admin("PATCH", "/keys/key_00000000000000000000", { name: "x" })).status).toBe(404);
  });

  it("revokes for good: idempotent, and any later change is 409 key_revoked", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const first = await admin("POST", `/keys/${id}/revoke`);
    expect(first.status).toBe(200);
    expect(first.json.revokedAt).toEqual(expect.any(String));
    const second = await admin("POST", `/keys/${id}/revoke`);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    const reenable = await admin("PATCH", `/keys/${id}`, { enabled: true });
    expect(reenable.status).toBe(409);
    expect(reenable.json.code).toBe("key_revoked");
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ?1 AND action = 'key.revoke'",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("deletes: 204, the key stops, the record is gone, the hash stays reserved", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { type: "legacy" });
    expect((await call("/api/x", { key })).status).toBe(200);
    const deleted = await admin("DELETE", `/keys/${id}`);
    expect(deleted.status).toBe(204);
    expect((await call("/api/x", { key })).status).toBe(401);
    expect((await admin("GET", `/keys/${id}`)).status).toBe(404);
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(404);
    expect((await admin("GET", `/keys?workspaceId=${ws}`)).json.items).toEqual([]);
    const reimport = await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", key });
    expect(reimport.status).toBe(409);
  });
});

describe("key search", () => {
  it("finds keys by an exact prefix of their name or of their start, with % and _ taken literally", async () => {
    const ws = await createWorkspace();
    const alpha = await createKey(ws, { name: "alpha-one" });
    await createKey(ws, { name: "alpha-two" });
    await createKey(ws, { name: "beta" });
    await createKey(ws, { name: "a_b" });
    const names = async (q: string) =>
      (await admin("GET", `/keys?workspaceId=${ws}&q=${encodeURIComponent(q)}`)).json.items
        .map((item: { name: string }) => item.name)
        .sort();
    expect(await names("alp")).toEqual(["alpha-one", "alpha-two"]);
    expect(await names(alpha.record.start)).toEqual(["alpha-one"]);
    expect(await names("%")).toEqual([]);
    expect(await names("a_")).toEqual(["a_b"]);
    expect(await names("ALP")).toEqual([]);
    // Long prefixes (up to the 200 characters allowed) are an ordinary search, never a 503.
    for (const q of ["a".repeat(200), "%".repeat(200), "_\\%".repeat(60)]) {
      const long = await admin("GET", `/keys?workspaceId=${ws}&q=${encodeURIComponent(q)}`);
      expect([long.status, long.json.items], q.slice(0, 8)).toEqual([200, []]);
    }
  });
});

describe("revoke by value", () => {
  it("revokes the key with this value, answers the same record again, and 404 for anything else", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const revoked = await admin("POST", "/keys/revoke-by-value", { key });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id, revokedAt: expect.any(String) });
    expect(revoked.text).not.toContain(key);
    expect((await call("/api/products", { key })).status).toBe(401);
    const again = await admin("POST", "/keys/revoke-by-value", { key });
    expect([again.status, again.json.revokedAt]).toEqual([200, revoked.json.revokedAt]);
    for (const value of ["sk_test_nope", `${key.slice(0, -1)}x`]) {
      const unknown = await admin("POST", "/keys/revoke-by-value", { key: value });
      expect([unknown.status, unknown.json.code]).toEqual([404, "not_found"]);
    }
  });

  it("sees only the admin key's own workspace, and needs keys:revoke", async () => {
    const mine = await createWorkspace();
    const theirs = await createWorkspace();
    const victim = await createKey(theirs);
    const operator = await createKey(mine, { type: "admin", permissions: ["keys:revoke"] });
    const reader = await createKey(mine, { type: "admin", permissions: ["keys:read"] });
    const foreign = await admin("POST", "/keys/revoke-by-value", { key: victim.key }, operator.key);
    expect([foreign.status, foreign.json.code]).toEqual([404, "not_found"]);
    expect((await call("/api/products", { key: victim.key })).status).toBe(200);
    const own = await createKey(mine);
    const weak = await admin("POST", "/keys/revoke-by-value", { key: own.key }, reader.key);
    expect([weak.status, weak.json.code]).toEqual([403, "insufficient_permissions"]);
  });
});
