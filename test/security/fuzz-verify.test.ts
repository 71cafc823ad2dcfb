/**
 * Attack class: hostile bodies to the decision API, `POST P/v1/verify` (docs/admin-api.md), fuzzed with
 * fast-check against the real Worker: with the root token (400 cases) and with a workspace's
 * admin key (300 cases). The body is a valid shape with one field replaced, dropped, repeated or
 * added, or no JSON at all, under any content type; `key` is a live, revoked, foreign, unknown
 * or garbage credential. Every answer keeps the invariants of `send` (no 5xx, a well-formed
 * problem, the key sent never echoed), and an admin key learns nothing about another
 * workspace's key.
 */

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import { admin, BASE, createKey, createWorkspace } from "../worker/helpers";
import {
  anyText,
  type Credential,
  contentType,
  describeRequest,
  type Entries,
  FUZZ_IP,
  FUZZ_TIMEOUT_MS,
  garbageCredential,
  hostileText,
  mutatedBody,
  send,
  toJsonText,
  unknownKey,
} from "./fuzz-support";

type Caller = "root" | "adminKey";

interface Fixture {
  adminKey: string;
  own: Credential[];
  foreign: Credential[];
}

interface VerifyCase {
  credential: Credential;
  foreign: boolean;
  body: string;
  contentType: string | null;
}

let fixture: Fixture;

beforeAll(async () => {
  const ws = await createWorkspace("fuzz-verify");
  const otherWs = await createWorkspace("fuzz-verify-other");
  const secret = (value: string): Credential => ({ value, secret: true });
  const revoked = await createKey(ws, { type: "legacy" });
  expect((await admin("POST", `/keys/${revoked.id}/revoke`)).status).toBe(200);
  const adminKey = (await createKey(ws, { type: "admin", permissions: ["*"] })).key;
  fixture = {
    adminKey,
    own: [
      secret((await createKey(ws)).key),
      secret((await createKey(ws, { type: "browser", credits: { remaining: 1000 } })).key),
      secret((await createKey(ws, { ipAllowlist: ["10.0.0.0/8"], plan: "pro" })).key),
      secret(revoked.key),
      secret(adminKey),
    ],
    foreign: [
      secret((await createKey(otherWs)).key),
      secret((await createKey(otherWs, { type: "legacy" })).key),
    ],
  };
});

function credential(): fc.Arbitrary<{ credential: Credential; foreign: boolean }> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fixture.own).map((c) => ({ credential: c, foreign: false })) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...fixture.foreign).map((c) => ({ credential: c, foreign: true })),
    },
    { weight: 2, arbitrary: unknownKey.map((c) => ({ credential: c, foreign: false })) },
    { weight: 1, arbitrary: garbageCredential.map((c) => ({ credential: c, foreign: false })) },
    {
      weight: 1,
      arbitrary: anyText.map((value) => ({ credential: { value, secret: false }, foreign: false })),
    },
  );
}

const OPTIONAL_FIELDS: Entries = [
  ["permissions", ["products:read"]],
  ["anyPermissions", ["reports:read", "products:write"]],
  ["keyTypes", ["server", "browser", "legacy"]],
  ["cost", 1],
  ["ip", "10.1.2.3"],
];

function verifyCase(): fc.Arbitrary<VerifyCase> {
  return fc
    .tuple(credential(), fc.subarray([...OPTIONAL_FIELDS]), contentType)
    .chain(([chosen, optional, type]) =>
      fc
        .oneof(
          {
            weight: 4,
            arbitrary: mutatedBody([["key", chosen.credential.value], ...optional]).map(toJsonText),
          },
          { weight: 1, arbitrary: hostileText },
        )
        .map((body) => ({ ...chosen, body, contentType: type })),
    );
}

/** The `key` the Worker reads from `body` (JSON.parse keeps the last copy of a repeated key). */
function keySent(body: string): unknown {
  try {
    return (JSON.parse(body) as { key?: unknown } | null)?.key;
  } catch {
    return undefined;
  }
}

async function runCase(caller: Caller, c: VerifyCase): Promise<void> {
  const token = caller === "root" ? ROOT_TOKEN : fixture.adminKey;
  const headers = new Headers({ Authorization: `Bearer ${token}`, "CF-Connecting-IP": FUZZ_IP });
  if (c.contentType !== null) headers.set("Content-Type", c.contentType);
  const request = new Request(`${BASE}/_portcullis/v1/verify`, { method: "POST", headers, body: c.body });
  const context = describeRequest(request, c.body);
  const secrets =
    c.credential.secret && c.body.includes(c.credential.value) ? [token, c.credential.value] : [token];
  const answer = await send(request, secrets, context);
  if (caller === "adminKey" && c.foreign && answer.status === 200 && keySent(c.body) === c.credential.value) {
    const decision = JSON.parse(answer.text) as Record<string, unknown>;
    expect(decision, `${context}: an admin key saw another workspace's key`).toMatchObject({
      valid: false,
      code: "invalid_key",
    });
    expect(Object.keys(decision), `${context}: ids of another workspace's key`).not.toContain("keyId");
  }
}

describe("fuzz: POST /v1/verify", () => {
  it(
    "root token, 400 cases: no 5xx, well-formed problems, the key never echoed",
    async () => {
      await fc.assert(
        fc.asyncProperty(verifyCase(), (c) => runCase("root", c)),
        { numRuns: 400 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "admin key, 300 cases: the same, and another workspace's key is invalid_key without ids",
    async () => {
      await fc.assert(
        fc.asyncProperty(verifyCase(), (c) => runCase("adminKey", c)),
        { numRuns: 300 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
