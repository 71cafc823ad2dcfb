/**
 * `portcullis portal check` over real HTTP against `wrangler dev` with a portal policy: the
 * portal as a member's token meets it, printed for the operator checking the policy's `portal`
 * settings; a refusal is a problem with exit code 1; the token is never printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../../examples/portal/server.mjs";
import { runCli } from "./cli-run";
import { type DevServer, startWranglerDev } from "./wrangler-dev";

const ROOT_TOKEN = "cli-portal-root-token";
const SECRET = "cli-portal-provider-secret-0123456789";
const ISSUER = "https://login.provider.test";
const AUDIENCE = "provider-portal";

const POLICY = {
  origin: "echo",
  keyTypes: { server: { prefix: "sk_cp", defaultPermissions: ["products:read"] } },
  plans: { pro: { limits: { minute: 600 } }, free: {} },
  routes: [{ path: "/api/*" }],
  portal: {
    jwt: { secretEnv: "PORTAL_SECRET", issuer: ISSUER, audience: AUDIENCE },
    nameClaim: "name",
    roles: { admin: ["keys:manage", "usage:read"], viewer: ["keys:read"] },
    keyTypes: {
      server: { label: "Server key", ownedBy: "workspace", grantable: ["products:read"], limits: ["minute"] },
    },
    createOnPlans: ["pro"],
  },
};

let dev: DevServer;

function token(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return signToken({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims }, SECRET);
}

/** `portcullis ARGS` against this deployment. The member's token is the credential: no admin token. */
function cli(args: string[], input = "") {
  return runCli(args, { PORTCULLIS_URL: dev.url, PORTCULLIS_TOKEN: "" }, input);
}

beforeAll(async () => {
  dev = await startWranglerDev({
    vars: { POLICY: JSON.stringify(POLICY), ADMIN_TOKEN: ROOT_TOKEN, PORTAL_SECRET: SECRET },
  });
  const created = await fetch(`${dev.url}/_portcullis/admin/v1/workspaces`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Acme Foods", externalId: "acme", plan: "pro" }),
  });
  expect(created.status).toBe(201);
}, 180_000);

afterAll(async () => {
  await dev?.stop();
});

describe("portcullis portal check", () => {
  it("prints the workspace, the member's roles and permissions, and what it may create", async () => {
    const ana = token({ sub: "ana", name: "Ana", org_id: "acme", org_role: "admin" });
    const result = await cli(["portal", "check", ana]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Acme Foods");
    expect(result.stdout).toMatch(/permissions\s+keys:read keys:manage usage:read/);
    expect(result.stdout).toContain('server "Server key" (workspace); can create; grantable products:read');
    expect(result.stdout).toContain("minute <= 600");
    expect(result.stdout + result.stderr).not.toContain(ana);

    const viewer = token({ sub: "vic", org_id: "acme", org_role: "viewer" });
    const json = await cli(["portal", "check", "-", "--json"], `${viewer}\n`);
    expect(json.code, json.stderr).toBe(0);
    const session = JSON.parse(json.stdout);
    expect(session.permissions).toEqual(["keys:read"]);
    expect(session.keyTypes[0].canCreate).toBe(false);
  }, 60_000);

  it("reports a refused token as the portal's problem, exit code 1, without the token", async () => {
    const stranger = token({ sub: "eve", org_id: "unknown-org", org_role: "admin" });
    const unknown = await cli(["portal", "check", stranger]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("workspace_unknown");
    const forged = signToken({ sub: "eve", org_id: "acme", org_role: "admin", exp: 9_999_999_999 }, "wrong");
    const invalid = await cli(["portal", "check", forged]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("invalid_token");
    expect(unknown.stdout + unknown.stderr + invalid.stdout + invalid.stderr).not.toContain(forged);
  }, 60_000);
});
