/**
 * Attack class: hostile requests to the protected API (every path outside `P`, 700 cases) and
 * to forward-auth (`P/v1/authorize` as nginx, Traefik or another proxy, and Envoy's
 * `P/v1/authorize/<path>`, 700 cases), fuzzed with fast-check against the real Worker: methods,
 * paths built from dangerous segments and random text, query strings, and headers (credential
 * schemes, repeated headers, forwarded and override headers, any ASCII a header may hold). Only
 * invariants that hold for any correct implementation are checked: no 5xx, every error a
 * well-formed problem, and no key or JWT sent as a credential ever in a response body or header.
 */

import fc from "fast-check";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_AUDIENCE, SESSION_ISSUER, SESSION_SECRET } from "../fixtures/policy";
import { admin, BASE, call, createKey, createWorkspace, expectProblem } from "../worker/helpers";
import {
  type Credential,
  describeRequest,
  FUZZ_IP,
  FUZZ_TIMEOUT_MS,
  garbageCredential,
  headerText,
  headerValue,
  hostilePath,
  hostileQuery,
  method,
  send,
  unknownKey,
} from "./fuzz-support";

let credentials: Credential[];
let liveKey: string;
let session: string;

beforeAll(async () => {
  const ws = await createWorkspace("fuzz-gateway");
  const revoked = await createKey(ws);
  expect((await admin("POST", `/keys/${revoked.id}/revoke`)).status).toBe(200);
  const secret = (value: string): Credential => ({ value, secret: true });
  session = await new SignJWT({ permissions: "dashboard:read" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1")
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(SESSION_SECRET));
  liveKey = (await createKey(ws)).key;
  credentials = [
    secret(liveKey),
    secret((await createKey(ws, { type: "browser" })).key),
    secret((await createKey(ws, { type: "legacy", credits: { remaining: 1000 } })).key),
    secret((await createKey(ws, { ipAllowlist: ["10.0.0.0/8"] })).key),
    secret((await createKey(ws, { type: "admin", permissions: ["*"] })).key),
    secret(revoked.key),
    secret(session),
  ];
});

function credential(): fc.Arbitrary<Credential> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...credentials) },
    { weight: 2, arbitrary: unknownKey },
    { weight: 1, arbitrary: garbageCredential },
  );
}

const SCHEMES = ["Bearer", "bearer", "BEARER", "Bearer ", "Bearer\t", "Basic", "Token", "ApiKey", ""];

/** A credential header: Authorization under any scheme, or X-API-Key; sometimes sent twice. */
function credentialHeaders(): fc.Arbitrary<{ headers: Array<[string, string]>; secrets: string[] }> {
  const one = fc.oneof(
    fc
      .tuple(fc.constantFrom(...SCHEMES), credential())
      .map(([scheme, c]) => ({ header: ["Authorization", `${scheme} ${c.value}`] as [string, string], c })),
    credential().map((c) => ({ header: ["X-API-Key", c.value] as [string, string], c })),
  );
  return fc.array(one, { maxLength: 3 }).map((list) => ({
    headers: list.map(({ header }) => header),
    secrets: list.filter(({ c }) => c.secret).map(({ c }) => c.value),
  }));
}

const FORWARDING_HEADERS = [
  "X-Forwarded-For",
  "X-Forwarded-Proto",
  "X-Forwarded-Host",
  "X-Forwarded-Method",
  "X-Forwarded-Uri",
  "X-Original-URI",
  "X-Original-Method",
  "X-Real-IP",
  "Forwarded",
  "X-HTTP-Method-Override",
  "X-HTTP-Method",
  "X-Method-Override",
  "X-Request-Id",
  "X-Portcullis-Key-Id",
  "X-Portcullis-Assertion",
  "X-Portcullis-Permissions",
  "Origin",
  "Access-Control-Request-Method",
  "Access-Control-Request-Headers",
  "Content-Type",
  "Cookie",
  "CF-Connecting-IP",
];

/** Headers besides the credential: forwarding and override headers, and made-up names. */
const otherHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...FORWARDING_HEADERS), fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)),
    headerValue,
  ),
  { maxLength: 5 },
);

/** A URI as a proxy reports it: a hostile path and, sometimes, a query. */
const reportedUri = fc
  .tuple(hostilePath, fc.option(hostileQuery))
  .map(([path, query]) => (query === null ? path : `${path}?${query}`));

interface HttpCase {
  url: string;
  method: string;
  headers: Array<[string, string]>;
  secrets: string[];
  body: string | null;
}

function gatewayCase(): fc.Arbitrary<HttpCase> {
  return fc
    .tuple(
      method,
      hostilePath,
      fc.option(hostileQuery),
      credentialHeaders(),
      otherHeaders,
      fc.option(headerText),
    )
    .map(([verb, path, query, auth, others, body]) => ({
      url: `${BASE}${path}${query === null ? "" : `?${query}`}`,
      method: verb,
      headers: [["CF-Connecting-IP", FUZZ_IP], ...auth.headers, ...others],
      secrets: auth.secrets,
      body,
    }));
}

/** Headers a proxy sets, each one sometimes missing, with a hostile or a plausible value. */
function proxyHeaders(uriHeader: string, methodHeader: string, ipHeader: string) {
  const maybe = (name: string, value: fc.Arbitrary<string>) =>
    fc.option(
      value.map((v): [string, string] => [name, v]),
      { freq: 5 },
    );
  return fc
    .tuple(
      maybe(uriHeader, fc.oneof(reportedUri, headerValue)),
      maybe(methodHeader, fc.oneof(method, headerValue)),
      maybe("X-Forwarded-Proto", fc.oneof(fc.constant("https"), headerValue)),
      maybe("X-Forwarded-Host", fc.oneof(fc.constant("api.example.test"), headerValue)),
      maybe(ipHeader, headerValue),
    )
    .map((list) => list.filter((header): header is [string, string] => header !== null));
}

function forwardAuthCase(): fc.Arbitrary<HttpCase> {
  const authorize = `${BASE}/_portcullis/v1/authorize`;
  const asked = fc.oneof(
    fc.tuple(
      fc.constantFrom(
        "?proxy=nginx",
        "?compat=nginx",
        "?proxy=nginx&compat=nginx",
        "?proxy=nginx&proxy=traefik",
      ),
      proxyHeaders("X-Original-URI", "X-Original-Method", "X-Real-IP"),
    ),
    fc.tuple(
      fc.constantFrom("?proxy=traefik", "?proxy=caddy", "?proxy=TRAEFIK"),
      proxyHeaders("X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-For"),
    ),
    fc.tuple(
      fc.oneof(
        fc.constantFrom("", "?proxy=", "?proxy=envoy", "?proxy=apache"),
        hostileQuery.map((q) => `?${q}`),
      ),
      proxyHeaders("X-Forwarded-Uri", "X-Original-Method", "X-Forwarded-For"),
    ),
    // Envoy: the path and query of the call are the client's.
    fc.tuple(reportedUri, proxyHeaders("X-Envoy-Original-Path", "X-Forwarded-Method", "X-Forwarded-For")),
  );
  return fc
    .tuple(asked, fc.oneof(fc.constant("GET"), method), credentialHeaders(), otherHeaders)
    .map(([[suffix, proxy], verb, auth, others]) => ({
      url: `${authorize}${suffix}`,
      method: verb,
      headers: [["CF-Connecting-IP", FUZZ_IP], ...proxy, ...auth.headers, ...others],
      secrets: auth.secrets,
      body: null,
    }));
}

/** The request, or null when fetch itself refuses to build it (then there is nothing to send). */
function build(c: HttpCase): Request | null {
  try {
    const headers = new Headers();
    for (const [name, value] of c.headers) headers.append(name, value);
    const bodyAllowed = c.method.toUpperCase() !== "GET" && c.method.toUpperCase() !== "HEAD";
    return new Request(c.url, { method: c.method, headers, body: bodyAllowed ? c.body : null });
  } catch (error) {
    if (error instanceof TypeError) return null;
    throw error;
  }
}

async function runCase(c: HttpCase): Promise<void> {
  const request = build(c);
  fc.pre(request !== null);
  if (request) await send(request, c.secrets, describeRequest(request, c.body ?? undefined));
}

describe("fuzz: the protected API and forward-auth", () => {
  it(
    "gateway, 700 cases: no 5xx, well-formed problems, no credential echoed (not even by the echo origin)",
    async () => {
      await fc.assert(fc.asyncProperty(gatewayCase(), runCase), { numRuns: 700 });
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "forward-auth, 700 cases: no 5xx, well-formed problems, no credential echoed",
    async () => {
      await fc.assert(fc.asyncProperty(forwardAuthCase(), runCase), { numRuns: 700 });
    },
    FUZZ_TIMEOUT_MS,
  );
});

/**
 * Cases the fuzzing above found (docs/headers.md: every configured credential source's header is removed
 * before forwarding, on public routes and preflights too; docs/policy.md#sessions: a JWT is read only from
 * `Authorization: Bearer`). The forwarding code is not this file's to fix; these stay red until
 * it is.
 */
describe("found by fuzzing: credentials reaching the origin", () => {
  async function echoed(path: string, init: RequestInit): Promise<{ status: number; text: string }> {
    const response = await call(path, init);
    return { status: response.status, text: await response.text() };
  }

  it("a public route forwards no credential", async () => {
    const answer = await echoed("/public/page", { headers: { "X-API-Key": liveKey } });
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(liveKey);
  });

  it("a CORS preflight forwards no credential", async () => {
    const answer = await echoed("/api/products", {
      method: "OPTIONS",
      headers: { Authorization: `Bearer ${liveKey}`, "Access-Control-Request-Method": "GET" },
    });
    expect(answer.text).not.toContain(liveKey);
  });

  it("an Authorization header under another scheme is removed with the X-API-Key that was used", async () => {
    const answer = await echoed("/api/products", {
      headers: { "X-API-Key": liveKey, Authorization: `ApiKey ${liveKey}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(liveKey);
  });

  it("a session JWT in X-API-Key is an API key (malformed_key), not a session", async () => {
    const response = await call("/dashboard/home", { headers: { "X-API-Key": session } });
    const body = await expectProblem(response, 401, "malformed_key");
    expect(JSON.stringify(body)).not.toContain(session);
  });
});
