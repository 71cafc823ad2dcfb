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

/** The secrets the example policies name for their session JWTs and their portal's tokens. */
const SECRETS = {
  SUPABASE_JWT_SECRET: "supabase-jwt-secret-for-tests-0123",
  SESSION_SECRET: "ai-gateway-session-secret-0123456",
  PORTAL_SECRET: "provider-portal-secret-for-tests-01",
};

/** A member's token as the system's own login signs it (HS256, 10 minutes). */
function memberToken(
  secret: string,
  claims: Json,
  { sub, iss, aud }: { sub: string; iss?: string; aud?: string },
): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("10m");
  if (iss) jwt = jwt.setIssuer(iss);
  if (aud) jwt = jwt.setAudience(aud);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An organisation id of the provider, new for each test. */
const organisationId = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

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
    /** A workspace serving the provider's organisation `externalId`. */
    async organisation(externalId: string, plan?: string): Promise<string> {
      const ws = await adminCall("POST", "/workspaces", {
        name: externalId,
        externalId,
        ...(plan && { plan }),
      });
      expect(ws.status, JSON.stringify(ws.json)).toBe(201);
      return ws.json.id as string;
    },
    /** A call to P/portal/v1 with a member's token. */
    async portal(method: string, path: string, token: string, body?: unknown) {
      const response = await direct(
        new Request(`https://api.example.test/_portcullis/portal/v1${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(body !== undefined && { "Content-Type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        env,
      );
      return {
        status: response.status,
        code: response.headers.get("x-portcullis-code"),
        json: (await response.json()) as Json,
      };
    },
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
    const expiring = await d.key("business", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
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

/**
 * Each example's `portal` reproduces its system's dashboard as its document describes it: who
 * may create and revoke which keys, on which plans, with the claims the system's own login
 * carries.
 */
describe("examples: the portal (each system's dashboard)", () => {
  it("Clausum: Integraciones → Claves de integración, with the Supabase login's app_metadata", async () => {
    const d = deployment(clausum);
    const org = organisationId("clausum");
    await d.organisation(org);
    const supabase = (
      sub: string,
      permissions: string[],
      metadata: Json = { app_metadata: { workspace_id: org } },
    ) =>
      memberToken(
        SECRETS.SUPABASE_JWT_SECRET,
        { ...metadata, app_permissions: permissions, email: `${sub}@merchant.test` },
        { sub, aud: "authenticated" },
      );
    const admin = await supabase("admin-1", ["dashboard:admin"]);
    const analyst = await supabase("analyst-1", ["dashboard:read"]);

    const session = await d.portal("GET", "/session", admin);
    expect(session.status, JSON.stringify(session.json)).toBe(200);
    expect(session.json.keyTypes.map((type: Json) => type.label)).toEqual([
      "Checkout (browser)",
      "Server (backend)",
      "Event ingest",
    ]);
    // A dashboard admin creates a checkout key, shown once; it scores payments and nothing else.
    const created = await d.portal("POST", "/keys", admin, { type: "checkout", name: "web checkout" });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.key).toMatch(/^clm_pub_/);
    expect(created.json.createdBy).toEqual({ type: "portal", id: "admin-1", name: "admin-1@merchant.test" });
    expect((await d.call("POST", "/api/v1/assess", bearer(created.json.key))).status).toBe(200);
    expect((await d.call("GET", "/api/v1/merchant/tx", bearer(created.json.key))).code).toBe(
      "wrong_key_type",
    );
    const shown = await d.portal("GET", `/keys/${created.json.id}`, admin);
    expect(shown.json.key).toBeUndefined();
    // A browser key is never more than `assess`, from the dashboard either.
    const wide = await d.portal("POST", "/keys", admin, { type: "checkout", name: "x", permissions: ["*"] });
    expect([wide.status, wide.code]).toEqual([400, "permission_not_allowed"]);
    const server = await d.portal("POST", "/keys", admin, {
      type: "server",
      name: "backend",
      permissions: ["transactions:read"],
    });
    expect(server.status).toBe(201);
    expect((await d.call("GET", "/api/v1/merchant/tx", bearer(server.json.key))).status).toBe(200);
    expect((await d.call("POST", "/api/v1/report-fraud", bearer(server.json.key))).code).toBe(
      "insufficient_permissions",
    );
    // A member who may only read the dashboard sees the keys and changes none.
    const listed = await d.portal("GET", "/keys", analyst);
    expect(listed.status).toBe(200);
    expect(listed.json.items).toHaveLength(2);
    const refused = await d.portal("POST", "/keys", analyst, { type: "checkout", name: "mine" });
    expect([refused.status, refused.code]).toEqual([403, "insufficient_permissions"]);
    expect((await d.portal("POST", `/keys/${created.json.id}/revoke`, analyst)).status).toBe(403);
    // user_metadata is the user's to edit: a workspace named there is no workspace at all.
    const forged = await supabase("admin-1", ["dashboard:admin"], { user_metadata: { workspace_id: org } });
    expect((await d.portal("GET", "/keys", forged)).code).toBe("invalid_token");
    // Revocation in the dashboard is immediate.
    expect((await d.portal("POST", `/keys/${created.json.id}/revoke`, admin)).status).toBe(200);
    expect((await d.call("POST", "/api/v1/assess", bearer(created.json.key))).code).toBe("key_revoked");
  });

  it("Closient: Owners and Managers manage API keys, Editors do not; a csu key follows its member's role", async () => {
    const d = deployment(closient);
    const org = organisationId("closient");
    const ws = await d.organisation(org);
    // A key's object reads `policy.roles` from the runtime's own POLICY binding, which in this
    // test runtime is the test policy (not the example's): the workspace gets the example's
    // roles as its own, with the same names and permissions (test/e2e/examples-run.test.ts
    // runs them as policy roles under wrangler dev).
    for (const [name, role] of Object.entries(closient.roles)) {
      const defined = await d.admin("POST", "/roles", {
        workspaceId: ws,
        name,
        permissions: role.permissions,
      });
      expect(defined.status, JSON.stringify(defined.json)).toBe(201);
    }
    const member = (sub: string, role: string) =>
      memberToken(
        SECRETS.PORTAL_SECRET,
        { org_id: org, org_role: role, name: sub },
        { sub, iss: "https://login.closient.example", aud: "closient-portal" },
      );
    const owner = await member("olga", "owner");
    const manager = await member("mia", "manager");
    const editor = await member("ed", "editor");

    const business = await d.portal("POST", "/keys", owner, { type: "business", name: "erp sync" });
    expect(business.status, JSON.stringify(business.json)).toBe(201);
    expect(business.json.key).toMatch(/^csb_/);
    expect(
      (await d.call("GET", "/products/api/v1/products", { "X-API-Key": business.json.key })).status,
    ).toBe(200);
    for (const type of ["business", "user", "publishable"]) {
      const refused = await d.portal("POST", "/keys", editor, { type, name: "mine" });
      expect([refused.status, refused.code], type).toEqual([403, "insufficient_permissions"]);
    }
    expect((await d.portal("GET", "/keys", editor)).status).toBe(403);

    // The manager's own user key, with catalogue writes its role grants.
    const own = await d.portal("POST", "/keys", manager, {
      type: "user",
      name: "mia's scripts",
      permissions: ["catalog:read", "catalog:write"],
    });
    expect(own.status, JSON.stringify(own.json)).toBe(201);
    expect(own.json).toMatchObject({ ownerId: "mia", type: "user" });
    const csu = { "X-API-Key": own.json.key as string };
    expect((await d.call("POST", "/products/api/v1/products", csu)).status).toBe(200);

    // Closient demotes Mia to Billing: her key loses catalog:write for the next request.
    const demoted = await d.admin("PUT", `/owners/mia/roles?workspaceId=${ws}`, { roles: ["billing"] });
    expect(demoted.status, JSON.stringify(demoted.json)).toBe(200);
    const write = await d.call("POST", "/products/api/v1/products", csu);
    expect([write.status, write.code]).toEqual([403, "insufficient_permissions"]);
    expect((await d.call("GET", "/products/api/v1/products", csu)).status).toBe(200);
    // Her token from before the demotion no longer manages keys either.
    const stale = await d.portal("POST", "/keys", manager, { type: "business", name: "again" });
    expect([stale.status, stale.code]).toEqual([403, "insufficient_permissions"]);
    // Removed from the organisation: the key holds nothing.
    await d.admin("PUT", `/owners/mia/roles?workspaceId=${ws}`, { roles: [] });
    expect((await d.call("GET", "/products/api/v1/products", csu)).code).toBe("insufficient_permissions");

    // Publishable keys take per-key limits (rate_limit_per_minute/day), up to their plan's.
    const session = await d.portal("GET", "/session", owner);
    expect(session.json.keyTypes.find((type: Json) => type.type === "publishable").limits).toEqual([
      { window: "minute", max: 60 },
      { window: "day", max: 5000 },
    ]);
    const widget = await d.portal("POST", "/keys", owner, {
      type: "publishable",
      name: "widget",
      limits: { minute: 30 },
    });
    expect(widget.status, JSON.stringify(widget.json)).toBe(201);
    const shown = await d.portal("GET", `/keys/${widget.json.id}`, owner);
    expect(shown.json.limits.find((window: Json) => window.window === "minute")).toMatchObject({ limit: 30 });
  });

  it("Clodura: the developer dashboard generates the account's key and shows the remaining daily quota", async () => {
    const d = deployment(clodura);
    const org = organisationId("clodura");
    await d.organisation(org, "professional");
    const token = await memberToken(
      SECRETS.PORTAL_SECRET,
      { account_id: org, role: "user" },
      { sub: "sam", iss: "https://app.clodura.example", aud: "clodura-developer" },
    );
    const session = await d.portal("GET", "/session", token);
    expect(session.status, JSON.stringify(session.json)).toBe(200);
    expect(session.json.workspace.plan).toBe("professional");
    const generated = await d.portal("POST", "/keys", token, { type: "api", name: "my key" });
    expect(generated.status, JSON.stringify(generated.json)).toBe(201);
    expect(generated.json.key).toMatch(/^cld_/);
    // One key per account: Generate Key once; Regenerate is a rotation.
    const second = await d.portal("POST", "/keys", token, { type: "api", name: "another" });
    expect([second.status, second.code]).toEqual([409, "limit_reached"]);
    for (let i = 0; i < 2; i += 1)
      expect((await d.call("GET", "/api/v1/companies", { "X-API-KEY": generated.json.key })).status).toBe(
        200,
      );
    const shown = await d.portal("GET", `/keys/${generated.json.id}`, token);
    expect(shown.status).toBe(200);
    expect(shown.json.limits.find((window: Json) => window.window === "day")).toMatchObject({
      limit: 2000,
      remaining: 1998,
    });
    const rotated = await d.portal("POST", `/keys/${generated.json.id}/rotate`, token, {
      gracePeriodSeconds: 3600,
    });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(201);
    expect((await d.call("GET", "/api/v1/companies", { "X-API-KEY": rotated.json.key })).status).toBe(200);
  });

  it("Clarky: Settings > API Keys only on Standard, Pro or Enterprise; scopes chosen at creation", async () => {
    const d = deployment(clarky);
    const member = async (plan: string) => {
      const org = organisationId(`clarky-${plan}`);
      await d.organisation(org, plan);
      return memberToken(
        SECRETS.PORTAL_SECRET,
        { workspace_id: org, workspace_role: "member" },
        { sub: "kim", iss: "https://clarky.example", aud: "clarky-settings" },
      );
    };
    const starter = await member("starter");
    const refused = await d.portal("POST", "/keys", starter, {
      type: "live",
      name: "zapier",
      permissions: ["read"],
    });
    expect([refused.status, refused.code]).toEqual([403, "plan_required"]);
    expect((await d.portal("GET", "/session", starter)).json.keyTypes[0].canCreate).toBe(false);

    const pro = await member("pro");
    const reader = await d.portal("POST", "/keys", pro, {
      type: "live",
      name: "Production data warehouse",
      permissions: ["read"],
    });
    expect(reader.status, JSON.stringify(reader.json)).toBe(201);
    expect(reader.json.key).toMatch(/^ck_live_/);
    expect((await d.call("GET", "/api/v1/contacts", bearer(reader.json.key))).status).toBe(200);
    const write = await d.call("POST", "/api/v1/contacts", bearer(reader.json.key));
    expect([write.status, write.code]).toEqual([403, "insufficient_permissions"]);
    const writer = await d.portal("POST", "/keys", pro, {
      type: "live",
      name: "Lead capture",
      permissions: ["write"],
    });
    expect((await d.call("POST", "/api/v1/contacts", bearer(writer.json.key))).status).toBe(200);
    const unknown = await d.portal("POST", "/keys", pro, { type: "live", name: "x", permissions: ["admin"] });
    expect([unknown.status, unknown.code]).toEqual([400, "permission_not_allowed"]);
    // Revocation is immediate and permanent.
    expect((await d.portal("POST", `/keys/${reader.json.id}/revoke`, pro)).status).toBe(200);
    expect((await d.call("GET", "/api/v1/contacts", bearer(reader.json.key))).code).toBe("key_revoked");
    expect((await d.portal("PATCH", `/keys/${reader.json.id}`, pro, { enabled: true })).status).toBe(409);
  });

  it("AI gateway: each user creates keys from the profile page, with the dashboard's own login", async () => {
    const d = deployment(aiGateway);
    const user = `user-${crypto.randomUUID().slice(0, 8)}`;
    const token = await memberToken(SECRETS.SESSION_SECRET, { role: "user" }, { sub: user });
    // A user who registered has an account: its workspace is made on the first call.
    const session = await d.portal("GET", "/session", token);
    expect(session.status, JSON.stringify(session.json)).toBe(200);
    expect(session.json.workspace.name).toBe(user);
    const inference = await d.portal("POST", "/keys", token, { type: "api", name: "inference" });
    expect(inference.status, JSON.stringify(inference.json)).toBe(201);
    expect(inference.json.key).toMatch(/^cm_/);
    expect(inference.json.permissions).toEqual(["service:*"]);
    expect(inference.json.expiresAt).toBeNull();
    expect((await d.call("POST", "/v1/chat/completions", bearer(inference.json.key))).status).toBe(200);
    expect((await d.call("GET", "/api/v1/bots/1", bearer(inference.json.key))).code).toBe(
      "insufficient_permissions",
    );
    const bots = await d.portal("POST", "/keys", token, {
      type: "api",
      name: "bot reader",
      permissions: ["service:llm", "bots:read"],
    });
    expect((await d.call("GET", "/api/v1/bots/1", bearer(bots.json.key))).status).toBe(200);
    expect((await d.call("POST", "/v1/search", bearer(bots.json.key))).code).toBe("insufficient_permissions");
    // Another user's profile page does not see these keys.
    const other = await memberToken(SECRETS.SESSION_SECRET, { role: "user" }, { sub: `${user}-other` });
    expect((await d.portal("GET", `/keys/${inference.json.id}`, other)).status).toBe(404);
    expect((await d.portal("POST", `/keys/${inference.json.id}/revoke`, token)).status).toBe(200);
    expect((await d.call("POST", "/v1/chat/completions", bearer(inference.json.key))).code).toBe(
      "key_revoked",
    );
  });
});
