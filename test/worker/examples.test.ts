/**
 * The example policies in examples/ reproduce five real API-key systems as their public documentation describes them: each test
 * shows the documented behaviour of its system through Portcullis (the origin replaced by
 * the built-in echo origin).
 */
import { crc32 } from "node:zlib";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import aiGateway from "../../examples/ai-gateway.json";
import clarky from "../../examples/clarky.json";
import clausum from "../../examples/clausum.json";
import clodura from "../../examples/clodura.json";
import closient from "../../examples/closient.json";
import { loadPolicy } from "../../src/policy/load";
import { adminRequest, direct, type Json } from "./helpers";

/** The secrets the example policies name for their session JWTs. */
const SECRETS = {
  SUPABASE_JWT_SECRET: "supabase-jwt-secret-for-tests-0123",
  SESSION_SECRET: "ai-gateway-session-secret-0123456",
};

function session(secret: string, claims: Json, audience?: string): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1")
    .setExpirationTime("24h");
  return (audience ? jwt.setAudience(audience) : jwt).sign(new TextEncoder().encode(secret));
}

function deployment(example: Json) {
  const env = { POLICY: JSON.stringify({ ...example, origin: "echo" }), ...SECRETS };
  const adminCall = async (method: string, path: string, body?: unknown) => {
    const response = await direct(adminRequest(method, path, body), env);
    return { status: response.status, json: (await response.json()) as Json };
  };
  return {
    async key(type: string, fields: Json = {}, workspacePlan?: string) {
      const ws = await adminCall("POST", "/workspaces", {
        name: "example",
        ...(workspacePlan && { plan: workspacePlan }),
      });
      const created = await adminCall("POST", "/keys", { workspaceId: ws.json.id, type, ...fields });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      return created.json as { key: string; id: string };
    },
    admin: adminCall,
    async call(method: string, path: string, headers: Record<string, string> = {}, scheme = "https") {
      const response = await direct(
        new Request(`${scheme}://api.example.test${path}`, {
          method,
          headers,
          body: method === "GET" || method === "HEAD" ? undefined : "{}",
        }),
        env,
      );
      return { status: response.status, code: response.headers.get("x-portcullis-code"), response };
    },
  };
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe("examples", () => {
  it("every example is a valid policy", () => {
    for (const example of [clausum, closient, clodura, clarky, aiGateway])
      expect(loadPolicy(example).ok).toBe(true);
  });

  it("Clausum: three key types, each limited to its endpoints; resource:action permissions with *", async () => {
    const d = deployment(clausum);
    const checkout = await d.key("checkout");
    const server = await d.key("server");
    const ingest = await d.key("ingest");
    expect((await d.call("POST", "/api/v1/assess", bearer(checkout.key))).status).toBe(200);
    expect((await d.call("GET", "/api/v1/merchant/transactions", bearer(checkout.key))).code).toBe(
      "wrong_key_type",
    );
    expect((await d.call("POST", "/api/v1/report-fraud", bearer(checkout.key))).code).toBe("wrong_key_type");
    for (const [method, path] of [
      ["POST", "/api/v1/assess"],
      ["POST", "/api/v1/report-fraud"],
      ["GET", "/api/v1/merchant/transactions"],
    ] as const) {
      expect((await d.call(method, path, bearer(server.key))).status, path).toBe(200);
    }
    expect((await d.call("POST", "/api/webhooks/ingest", bearer(ingest.key))).status).toBe(200);
    expect((await d.call("POST", "/api/v1/assess", bearer(ingest.key))).code).toBe("wrong_key_type");
    const readOnly = await d.key("server", { permissions: ["transactions:read"] });
    expect((await d.call("GET", "/api/v1/merchant/tx", bearer(readOnly.key))).status).toBe(200);
    const denied = await d.call("POST", "/api/v1/report-fraud", bearer(readOnly.key));
    expect([denied.status, denied.code]).toEqual([403, "insufficient_permissions"]);
    // A browser (checkout) key can never be given more than `assess`.
    const ws = await d.admin("POST", "/workspaces", { name: "x" });
    expect(
      (await d.admin("POST", "/keys", { workspaceId: ws.json.id, type: "checkout", permissions: ["*"] }))
        .status,
    ).toBe(400);
    // The api_key query parameter works too, and never reaches the origin.
    const viaQuery = await d.call("POST", `/api/v1/assess?api_key=${checkout.key}`);
    expect(viaQuery.status).toBe(200);
    expect(JSON.stringify(await viaQuery.response.json())).not.toContain(checkout.key);
    const revoked = await d.key("server");
    await d.admin("POST", `/keys/${revoked.id}/revoke`);
    expect((await d.call("POST", "/api/v1/assess", bearer(revoked.key))).status).toBe(401);
    // Dashboard routes take the Supabase session JWT, not clm_ keys.
    const dashboard = await session(
      SECRETS.SUPABASE_JWT_SECRET,
      { app_permissions: ["dashboard:read"] },
      "authenticated",
    );
    expect((await d.call("GET", "/api/dashboard/cases", bearer(dashboard))).status).toBe(200);
    expect((await d.call("GET", "/api/dashboard/cases", bearer(server.key))).code).toBe("invalid_token");
  });

  it("Closient: X-API-Key, prefix_body_crc32 keys that Closient's own check accepts, is_active and expiry", async () => {
    const d = deployment(closient);
    const business = await d.key("business");
    // Closient's documented client-side check: three parts, known prefix, crc32(body) as 08x.
    const [prefix, body, checksum] = business.key.split("_");
    expect(business.key.split("_")).toHaveLength(3);
    expect(["csb", "csu", "cpk"]).toContain(prefix);
    expect(body).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(checksum).toBe(
      crc32(body ?? "")
        .toString(16)
        .padStart(8, "0"),
    );
    expect((await d.call("GET", "/products/api/v1/products", { "X-API-Key": business.key })).status).toBe(
      200,
    );
    expect((await d.call("GET", "/products/api/v1/products", bearer(business.key))).code).toBe(
      "missing_credential",
    );
    expect((await d.call("GET", "/products/api/v1/public/catalog")).status).toBe(200);
    const publishable = await d.key("publishable");
    expect((await d.call("GET", "/products/api/v1/products", { "X-API-Key": publishable.key })).status).toBe(
      200,
    );
    expect((await d.call("POST", "/products/api/v1/products", { "X-API-Key": publishable.key })).code).toBe(
      "insufficient_permissions",
    );
    expect(
      (await d.call("GET", "/organizations/api/v1/api-keys/list", { "X-API-Key": publishable.key })).code,
    ).toBe("wrong_key_type");
    await d.admin("PATCH", `/keys/${business.id}`, { enabled: false });
    expect((await d.call("GET", "/products/api/v1/products", { "X-API-Key": business.key })).code).toBe(
      "key_disabled",
    );
    const expiring = await d.key("user", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await d.call("GET", "/products/api/v1/products", { "X-API-Key": expiring.key })).status).toBe(
      200,
    );
    await d.admin("PATCH", `/keys/${expiring.id}`, { expiresAt: "2020-01-01T00:00:00Z" });
    expect((await d.call("GET", "/products/api/v1/products", { "X-API-Key": expiring.key })).code).toBe(
      "key_expired",
    );
  });

  it("Clodura: X-API-KEY over HTTPS only; plans gate enterprise endpoints with 403", async () => {
    const d = deployment(clodura);
    const starter = await d.key("api", { plan: "starter" });
    expect((await d.call("GET", "/api/v1/people", { "x-api-key": starter.key })).status).toBe(200);
    expect((await d.call("GET", "/api/v1/people", { "X-API-KEY": starter.key }, "http")).code).toBe(
      "https_required",
    );
    const gated = await d.call("GET", "/api/v1/enterprise/intent", { "X-API-KEY": starter.key });
    expect([gated.status, gated.code]).toEqual([403, "insufficient_permissions"]);
    // The workspace's plan applies to keys that name none.
    const enterprise = await d.key("api", {}, "enterprise");
    expect((await d.call("GET", "/api/v1/enterprise/intent", { "X-API-KEY": enterprise.key })).status).toBe(
      200,
    );
    expect((await d.call("GET", "/api/v1/people")).status).toBe(401);
  });

  it("Clarky: Bearer ck_live_ keys; read allows GET and HEAD, write allows POST, PATCH, DELETE", async () => {
    const d = deployment(clarky);
    const reader = await d.key("live", { permissions: ["read"] });
    const writer = await d.key("live", { permissions: ["write"] });
    expect(reader.key).toMatch(/^ck_live_/);
    expect((await d.call("GET", "/api/v1/contacts", bearer(reader.key))).status).toBe(200);
    expect((await d.call("HEAD", "/api/v1/contacts", bearer(reader.key))).status).toBe(200);
    for (const method of ["POST", "PATCH", "DELETE"]) {
      const denied = await d.call(method, "/api/v1/contacts/1", bearer(reader.key));
      expect([denied.status, denied.code]).toEqual([403, "insufficient_permissions"]);
      expect((await d.call(method, "/api/v1/contacts/1", bearer(writer.key))).status).toBe(200);
    }
    expect((await d.call("GET", "/api/v1/contacts", bearer(writer.key))).status).toBe(200);
    // Keys imported from Clarky's own format (38-39 characters) keep working.
    const imported = "ck_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123";
    const ws = await d.admin("POST", "/workspaces", { name: "clarky" });
    expect(
      (await d.admin("POST", "/keys/import", { workspaceId: ws.json.id, type: "live", key: imported }))
        .status,
    ).toBe(201);
    expect((await d.call("GET", "/api/v1/contacts", bearer(imported))).status).toBe(200);
    // Revocation is permanent: the key cannot be re-enabled.
    await d.admin("POST", `/keys/${reader.id}/revoke`);
    expect((await d.admin("PATCH", `/keys/${reader.id}`, { enabled: true })).status).toBe(409);
    expect((await d.call("GET", "/api/v1/contacts", bearer(reader.key))).code).toBe("key_revoked");
  });

  it("AI gateway: cm_ keys; service permissions (default all) beside resource scopes (default none)", async () => {
    const d = deployment(aiGateway);
    const inference = await d.key("api");
    expect((await d.call("POST", "/v1/chat/completions", bearer(inference.key))).status).toBe(200);
    expect((await d.call("POST", "/v1/audio/speech", bearer(inference.key))).status).toBe(200);
    const noScope = await d.call("GET", "/api/v1/bots/1", bearer(inference.key));
    expect([noScope.status, noScope.code]).toEqual([403, "insufficient_permissions"]);
    const manager = await d.key("api", { permissions: ["service:llm", "bots:read"] });
    expect((await d.call("GET", "/api/v1/bots/1", bearer(manager.key))).status).toBe(200);
    expect((await d.call("POST", "/api/v1/bots/1", bearer(manager.key))).code).toBe(
      "insufficient_permissions",
    );
    expect((await d.call("POST", "/v1/search", bearer(manager.key))).code).toBe("insufficient_permissions");
    // x-api-key works on the Anthropic-compatible endpoint only.
    expect((await d.call("POST", "/v1/messages", { "x-api-key": inference.key })).status).toBe(200);
    expect((await d.call("POST", "/v1/chat/completions", { "x-api-key": inference.key })).code).toBe(
      "missing_credential",
    );
  });
});
