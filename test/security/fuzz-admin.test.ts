/**
 * Attack class: hostile input to every admin route (docs/admin-api.md), fuzzed with fast-check against the
 * real Worker, with the root token (600 cases) and with a workspace's `*` admin key (400 cases).
 * Bodies are valid shapes with one field replaced, dropped, repeated or added (wrong types, huge
 * and negative numbers, any UTF-16, `__proto__`/`constructor`, deep nesting), or no JSON at all,
 * under any content type; ids and query strings are hostile too. Every answer keeps the
 * invariants of `send` (no 5xx, a well-formed problem, no secret echoed), a 4xx stores nothing
 * in `workspaces`, `keys`, `roles` or `audit_log`, and an admin key never succeeds on another
 * workspace's objects.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import { ADMIN, admin, createKey, createWorkspace } from "../worker/helpers";
import {
  contentType,
  DANGEROUS_STRINGS,
  describeRequest,
  type Entries,
  FUZZ_IP,
  FUZZ_TIMEOUT_MS,
  hostileText,
  Members,
  mutatedBody,
  pathSegment,
  percentEncode,
  rowCounts,
  send,
  toJsonText,
  type Wire,
} from "./fuzz-support";

interface Fixture {
  ws: string;
  otherWs: string;
  scratchWs: string;
  adminKey: string;
  role: string;
  victims: string[];
  revoked: string;
  otherKey: string;
}

type Caller = "root" | "adminKey";

/** What a path's id stands for; `fresh` is a key created for the case alone. */
type Target = "victim" | "fresh" | "revoked" | "other" | "unknown" | "hostile";

interface AdminCase {
  method: string;
  path: string;
  query: string;
  body: string | null;
  contentType: string | null;
  /** Secrets the request carries besides its credential (an imported key's value). */
  secrets: string[];
  /** The case is about another workspace's object. */
  foreign: boolean;
  fresh: boolean;
}

const UNKNOWN_KEY = "key_00000000000000000000";
const UNKNOWN_WS = "ws_00000000000000000000";

let fixture: Fixture;

beforeAll(async () => {
  const ws = await createWorkspace("fuzz-admin");
  const otherWs = await createWorkspace("fuzz-admin-other");
  const scratchWs = await createWorkspace("fuzz-admin-scratch");
  const role = "fuzz-role";
  expect((await admin("POST", "/roles", { workspaceId: ws, name: role, permissions: ["a:b"] })).status).toBe(
    201,
  );
  const victims: string[] = [];
  for (let i = 0; i < 4; i += 1) victims.push((await createKey(ws, { credits: { remaining: 100 } })).id);
  const revoked = (await createKey(ws)).id;
  expect((await admin("POST", `/keys/${revoked}/revoke`)).status).toBe(200);
  fixture = {
    ws,
    otherWs,
    scratchWs,
    adminKey: (await createKey(ws, { type: "admin", permissions: ["*"] })).key,
    role,
    victims,
    revoked,
    otherKey: (await createKey(otherWs)).id,
  };
});

/** A hostile path segment, encoded as a client would put it in a URL. */
const hostileSegment = fc.oneof(pathSegment, fc.constantFrom(...DANGEROUS_STRINGS).map(percentEncode));

interface Aim {
  target: Target;
  segment: string;
}

const aim = (target: Target, segment: fc.Arbitrary<string>) =>
  segment.map((text): Aim => ({ target, segment: text }));

/**
 * The key a path names; `FRESH` is replaced by a key created for the case. Revoke and delete
 * get no long-lived victim, so that the victims stay alive for the other routes.
 */
function keyTarget(destructive = false): fc.Arbitrary<Aim> {
  return fc.oneof(
    aim(
      destructive ? "fresh" : "victim",
      destructive ? fc.constant("FRESH") : fc.constantFrom(...fixture.victims),
    ),
    { weight: 2, arbitrary: aim("fresh", fc.constant("FRESH")) },
    aim("revoked", fc.constant(fixture.revoked)),
    aim("other", fc.constant(fixture.otherKey)),
    aim("unknown", fc.constant(UNKNOWN_KEY)),
    aim("hostile", hostileSegment),
  );
}

/** The workspace a path names: root changes only a scratch workspace, so the fixture keeps its plan. */
function workspaceTarget(caller: Caller): fc.Arbitrary<Aim> {
  return fc.oneof(
    aim("victim", fc.constant(caller === "root" ? fixture.scratchWs : fixture.ws)),
    aim("other", fc.constant(caller === "root" ? fixture.scratchWs : fixture.otherWs)),
    aim("unknown", fc.constant(UNKNOWN_WS)),
    aim("hostile", hostileSegment),
  );
}

/** A workspace id for a body or query: the caller's own, another, unknown or hostile. */
function workspaceField(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(fixture.ws) },
    { weight: 1, arbitrary: fc.constantFrom(fixture.otherWs, UNKNOWN_WS, ...DANGEROUS_STRINGS) },
  );
}

const optionalSubset = (entries: Entries) => fc.subarray([...entries]);

function createKeyFields(ws: string, type: string): Entries {
  return [
    ["workspaceId", ws],
    ["type", type],
  ];
}

function keySettings(): Entries {
  return [
    ["name", "fuzz key"],
    ["ownerId", "owner-1"],
    ["permissions", ["products:read"]],
    ["roles", [fixture.role]],
    ["meta", new Members([["team", "billing"]])],
    ["plan", "pro"],
    ["limits", new Members([["minute", 60]])],
    [
      "credits",
      new Members([
        ["remaining", 10],
        [
          "refill",
          new Members([
            ["interval", "day"],
            ["amount", 10],
          ]),
        ],
      ]),
    ],
    ["ipAllowlist", ["10.0.0.0/8", "::1"]],
    ["expiresAt", "2099-01-01T00:00:00Z"],
  ];
}

/** The body: mostly a mutated valid shape, sometimes hostile text of any kind. */
function bodyText(valid: fc.Arbitrary<Entries>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: valid.chain(mutatedBody).map((wire: Wire) => toJsonText(wire)) },
    { weight: 1, arbitrary: hostileText },
  );
}

const dayOrGarbage = fc.constantFrom(
  "2027-01-01",
  "2026-12-31",
  "0000-01-01",
  "9999-12-31",
  "2027-02-30",
  "2027-13-45",
  "2027-01-01T00:00:00Z",
  "-1",
  "",
  "%00",
);

/** A query string from the names admin routes read, with hostile values. */
function adminQuery(): fc.Arbitrary<string> {
  const names = ["workspaceId", "ownerId", "type", "cursor", "limit", "from", "to", "granularity", "q"];
  const value = fc.oneof(
    workspaceField().map(percentEncode),
    dayOrGarbage,
    fc.constantFrom("0", "-1", "1", "100", "101", "1e3", "1.5", "abc", "day", "hour", "minute", "server"),
    fc.constantFrom(...DANGEROUS_STRINGS).map(percentEncode),
    fc.string({ maxLength: 40 }).map((text) => btoa(text).replace(/=+$/, "")),
  );
  return fc
    .array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 4 })
    .map((pairs) => pairs.map(([name, v]) => `${name}=${v}`).join("&"));
}

const randomHash = fc.stringMatching(/^[0-9a-f]{64}$/);
const legacyKey = fc.stringMatching(/^[A-Za-z0-9]{24}$/).map((rest) => `lg_${rest}`);

function adminCase(caller: Caller): fc.Arbitrary<AdminCase> {
  const base = { query: "", body: null, secrets: [] as string[], foreign: false, fresh: false };
  const withBody = (
    method: string,
    path: string,
    valid: fc.Arbitrary<Entries>,
    extra: Partial<AdminCase> = {},
  ) =>
    fc
      .tuple(bodyText(valid), contentType)
      .map(([body, type]) => ({ ...base, method, path, body, contentType: type, ...extra }));
  const onKey = (
    build: (target: Aim) => fc.Arbitrary<AdminCase>,
    destructive = false,
  ): fc.Arbitrary<AdminCase> =>
    keyTarget(destructive).chain((target) =>
      build(target).map((c) => ({
        ...c,
        foreign: target.target === "other",
        fresh: target.target === "fresh",
      })),
    );
  const keyPath = (segment: string, suffix = "") => `/keys/${segment}${suffix}`;

  return fc.oneof(
    // Workspaces
    withBody(
      "POST",
      "/workspaces",
      fc
        .constant<Entries>([["name", "fuzz ws"]])
        .chain((required) => optionalSubset([["plan", "pro"]]).map((optional) => [...required, ...optional])),
    ),
    workspaceTarget(caller).chain(({ target, segment }) =>
      withBody(
        "PATCH",
        `/workspaces/${segment}`,
        optionalSubset([
          ["name", "renamed"],
          ["plan", null],
        ]),
        {
          foreign: caller === "adminKey" && target === "other",
        },
      ),
    ),
    workspaceTarget(caller).map(({ target, segment }) => ({
      ...base,
      method: "GET",
      path: `/workspaces/${segment}`,
      contentType: null,
      foreign: caller === "adminKey" && target === "other",
    })),
    adminQuery().map((query) => ({ ...base, method: "GET", path: "/workspaces", query, contentType: null })),
    // Keys
    fc
      .tuple(workspaceField(), fc.constantFrom("server", "browser", "legacy", "admin", "nope"))
      .chain(([workspaceId, type]) =>
        withBody(
          "POST",
          "/keys",
          optionalSubset(keySettings()).map((optional) => [
            ...createKeyFields(workspaceId, type),
            ...optional,
          ]),
          { foreign: caller === "adminKey" && workspaceId !== fixture.ws },
        ),
      ),
    fc
      .tuple(workspaceField(), fc.boolean(), randomHash, legacyKey)
      .chain(([workspaceId, byHash, hash, key]) =>
        withBody(
          "POST",
          "/keys/import",
          optionalSubset(keySettings()).map((optional) => [
            ...createKeyFields(workspaceId, byHash ? "server" : "legacy"),
            byHash ? (["hash", hash] as const) : (["key", key] as const),
            ...optional,
          ]),
          { secrets: byHash ? [] : [key], foreign: caller === "adminKey" && workspaceId !== fixture.ws },
        ),
      ),
    adminQuery().map((query) => ({ ...base, method: "GET", path: "/keys", query, contentType: null })),
    onKey(({ segment }) =>
      fc.constant({ ...base, method: "GET", path: keyPath(segment), contentType: null }),
    ),
    onKey(({ segment }) =>
      adminQuery().map((query) => ({
        ...base,
        method: "GET",
        path: keyPath(segment, "/usage"),
        query,
        contentType: null,
      })),
    ),
    onKey(({ segment }) =>
      withBody(
        "PATCH",
        keyPath(segment),
        optionalSubset([...keySettings().filter(([name]) => name !== "credits"), ["enabled", true]]).map(
          (fields) => (fields.length > 0 ? fields : [["name", "renamed"] as const]),
        ),
      ),
    ),
    onKey(({ segment }) =>
      withBody(
        "POST",
        keyPath(segment, "/credits"),
        fc.constantFrom<Entries>(
          [
            ["op", "set"],
            ["amount", 5],
          ],
          [
            ["op", "decrement"],
            ["amount", 1],
            ["refill", null],
          ],
          [
            ["op", "increment"],
            ["amount", 2],
            [
              "refill",
              new Members([
                ["interval", "month"],
                ["amount", 3],
              ]),
            ],
          ],
        ),
      ),
    ),
    onKey(({ segment }) =>
      withBody("POST", keyPath(segment, "/rotate"), optionalSubset([["gracePeriodSeconds", 60]])),
    ),
    onKey(
      ({ segment }) =>
        fc.tuple(fc.option(hostileText), contentType).map(([body, type]) => ({
          ...base,
          method: "POST",
          path: keyPath(segment, "/revoke"),
          body,
          contentType: type,
        })),
      true,
    ),
    onKey(
      ({ segment }) => fc.constant({ ...base, method: "DELETE", path: keyPath(segment), contentType: null }),
      true,
    ),
    // Roles
    fc
      .tuple(workspaceField(), fc.constantFrom(fixture.role, "fuzz-other-role", "r.1:x"))
      .chain(([workspaceId, name]) =>
        withBody(
          "POST",
          "/roles",
          fc.constant<Entries>([
            ["workspaceId", workspaceId],
            ["name", name],
            ["permissions", ["reports:read"]],
          ]),
          { foreign: caller === "adminKey" && workspaceId !== fixture.ws },
        ),
      ),
    adminQuery().map((query) => ({ ...base, method: "GET", path: "/roles", query, contentType: null })),
    fc
      .tuple(
        fc.oneof(fc.constantFrom("fuzz-other-role", "r.1:x", "missing"), hostileSegment),
        workspaceField(),
      )
      .map(([name, workspaceId]) => ({
        ...base,
        method: "DELETE",
        path: `/roles/${name}`,
        query: `workspaceId=${percentEncode(workspaceId)}`,
        contentType: null,
        foreign: caller === "adminKey" && workspaceId !== fixture.ws,
      })),
    // Audit
    adminQuery().map((query) => ({ ...base, method: "GET", path: "/audit", query, contentType: null })),
  );
}

async function runCase(caller: Caller, c: AdminCase): Promise<void> {
  let path = c.path;
  if (c.fresh) path = path.replace("FRESH", (await createKey(fixture.ws)).id);
  const token = caller === "root" ? ROOT_TOKEN : fixture.adminKey;
  const headers = new Headers({ Authorization: `Bearer ${token}`, "CF-Connecting-IP": FUZZ_IP });
  if (c.contentType !== null) headers.set("Content-Type", c.contentType);
  const request = new Request(`${ADMIN}${path}${c.query ? `?${c.query}` : ""}`, {
    method: c.method,
    headers,
    body: c.method === "GET" ? undefined : (c.body ?? undefined),
  });
  const context = describeRequest(request, c.body ?? undefined);
  const before = await rowCounts();
  const answer = await send(request, [token, ...c.secrets], context);
  if (answer.status >= 400)
    expect(await rowCounts(), `${context}: a ${answer.status} stored rows`).toEqual(before);
  if (caller === "adminKey" && c.foreign) {
    expect(
      answer.status >= 200 && answer.status < 300,
      `${context}: an admin key changed or read another workspace`,
    ).toBe(false);
  }
}

describe("fuzz: admin routes", () => {
  it(
    "root token, 600 cases: no 5xx, well-formed problems, nothing stored on 4xx, no secret echoed",
    async () => {
      await fc.assert(
        fc.asyncProperty(adminCase("root"), (c) => runCase("root", c)),
        { numRuns: 600 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "admin key, 400 cases: the same, and never a 2xx on another workspace's objects",
    async () => {
      await fc.assert(
        fc.asyncProperty(adminCase("adminKey"), (c) => runCase("adminKey", c)),
        { numRuns: 400 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
