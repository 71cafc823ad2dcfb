/**
 * Attack class: a demoted member's key in another isolate that holds a lease on it, over real
 * HTTP (docs/portal.md#permissions, docs/consistency.md#owners). With `syncOwnerRoles`, the
 * member's next portal call with a newer token sets its owner roles; the change must be in
 * force, at its answer, for the member's key in a second isolate deciding under its own lease.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { E2E_ROOT_TOKEN, E2E_SIGNING_SECRET, e2ePolicy } from "../e2e/fixtures";
import { type IsolatePair, startIsolatePair } from "../e2e/second-isolate";

const PORTAL_SECRET = "portal-e2e-provider-secret-0123456789";
const ISSUER = "https://login.provider.test";
const AUDIENCE = "portal-e2e";
const LEASE_MS = 1000;

function policy() {
  const base = e2ePolicy(inject("originUrl"));
  return {
    ...base,
    leases: { ms: LEASE_MS },
    keyTypes: {
      ...base.keyTypes,
      member: { prefix: "mk_e2e", defaultPermissions: ["products:read"], ownerScoped: true },
    },
    roles: {
      viewer: { permissions: ["products:read"] },
      editor: { permissions: ["products:read", "products:write"] },
    },
    portal: {
      jwt: { secretEnv: "PORTAL_SECRET", issuer: ISSUER, audience: AUDIENCE },
      roles: { editor: ["keys:own"], viewer: ["keys:own"] },
      keyTypes: {
        member: { ownedBy: "member", grantable: ["products:read", "products:write"], limits: ["minute"] },
      },
      syncOwnerRoles: true,
    },
  };
}

function token(org: string, role: string, iat: number): Promise<string> {
  return new SignJWT({ org_id: org, org_role: role })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject("member_1")
    .setIssuedAt(iat)
    .setExpirationTime(iat + 600)
    .sign(new TextEncoder().encode(PORTAL_SECRET));
}

describe("portal: a provider's demotion, seen by the member's next portal call", () => {
  let pair: IsolatePair;

  beforeAll(async () => {
    pair = await startIsolatePair({
      POLICY: JSON.stringify(policy()),
      ADMIN_TOKEN: E2E_ROOT_TOKEN,
      ORIGIN_SIGNING_SECRET: E2E_SIGNING_SECRET,
      PORTAL_SECRET,
    });
  }, 300_000);
  afterAll(async () => {
    await pair?.stop();
  });

  const write = (url: string, key: string) =>
    fetch(`${url}/api/products`, { method: "POST", headers: { "X-API-Key": key } }).then((r) => r.status);

  it("is in force at its answer for the member's key in another isolate holding a lease", {
    timeout: 180_000,
  }, async () => {
    const org = `org_${crypto.randomUUID().slice(0, 8)}`;
    const workspace = await fetch(`${pair.first.url}/_portcullis/admin/v1/workspaces`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_ROOT_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "demotion", externalId: org }),
    });
    expect(workspace.status).toBe(201);
    const now = Math.floor(Date.now() / 1000);
    const editor = await token(org, "editor", now - 10);
    const created = await fetch(`${pair.first.url}/_portcullis/portal/v1/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${editor}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        type: "member",
        name: "mine",
        permissions: ["products:read", "products:write"],
        limits: { minute: 100_000 },
      }),
    });
    const body = (await created.json()) as { key: string };
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i += 1) expect(await write(pair.second.url, body.key)).toBe(200);

    const viewer = await token(org, "viewer", now);
    const session = await fetch(`${pair.first.url}/_portcullis/portal/v1/session`, {
      headers: { Authorization: `Bearer ${viewer}` },
    });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { member: { roles: string[] } }).member.roles).toEqual(["viewer"]);
    expect(await write(pair.second.url, body.key)).toBe(403);
    expect(await write(pair.first.url, body.key)).toBe(403);
  });
});
