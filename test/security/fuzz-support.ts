/**
 * Shared pieces of the fuzz tests (test/security/fuzz-*.test.ts): the invariants every answer
 * keeps, the row counts that show a refused admin write stored nothing, and generators of
 * hostile input. Every request goes to the real Worker (`exports.default.fetch`).
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { checksumOf } from "../../src/keys/format";

/** Address of the fuzzing client (RFC 6598 space no other test uses), so that its abuse-limit count is its own. */
export const FUZZ_IP = "100.64.77.1";

/** Time each fuzz test may take: its runs take 1 to 15 s on a busy 2-core machine. */
export const FUZZ_TIMEOUT_MS = 50_000;

const TABLES = ["workspaces", "keys", "roles", "audit_log"] as const;

export async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** One line that names the request in a failure message. */
export function describeRequest(request: Request, body?: string): string {
  const headers = [...request.headers].map(([name, value]) => `${name}: ${value}`).join(" | ");
  return `${request.method} ${request.url} [${headers}]${body === undefined ? "" : ` ${body.slice(0, 300)}`}`;
}

/**
 * Sends `request` to the Worker and checks what holds for every answer: no 5xx (nothing here
 * provokes a dependency failure); an error is problem+json whose `code` is `X-Portcullis-Code`
 * and whose `status` is the HTTP status; no secret appears in the body or in a header.
 */
export async function send(request: Request, secrets: readonly string[], context: string): Promise<Answer> {
  const head = request.method === "HEAD";
  const response = await exports.default.fetch(request);
  const answer = { status: response.status, headers: response.headers, text: await response.text() };
  const where = `${context} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(answer.headers.get("content-type"), where).toBe("application/problem+json");
    const code = answer.headers.get("x-portcullis-code");
    expect(code, where).toMatch(/^[a-z_]+$/);
    if (!head) {
      const problem = JSON.parse(answer.text) as {
        code?: unknown;
        status?: unknown;
        detail?: unknown;
        error?: unknown;
      };
      expect(problem.code, where).toBe(code);
      expect(problem.status, where).toBe(answer.status);
      expect(problem.error, where).toEqual({ type: code, message: problem.detail });
    }
  }
  for (const secret of secrets) {
    expect(answer.text.includes(secret), `${where}: the body holds a secret`).toBe(false);
    for (const [name, value] of answer.headers) {
      expect(value.includes(secret), `${where}: header ${name} holds a secret`).toBe(false);
    }
  }
  return answer;
}

/** JSON text spliced in as is: numbers JSON.stringify cannot write, nesting it would recurse on. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written member by member, so that a key may repeat and `__proto__` is a plain key. */
export class Members {
  constructor(readonly entries: ReadonlyArray<readonly [string, Wire]>) {}
}

export type Wire = null | boolean | number | string | RawJson | Members | readonly Wire[];

export function toJsonText(value: Wire): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Members) {
    return `{${value.entries.map(([key, member]) => `${JSON.stringify(key)}:${toJsonText(member)}`).join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  return JSON.stringify(value) ?? "null";
}

/** Any UTF-16 string, lone surrogates and control characters included. */
export const anyText = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  maxLength: 40,
});

/** Strings picked to break parsers, lookups, logs and prototypes. */
export const DANGEROUS_STRINGS = [
  "",
  " ",
  "null",
  "true",
  "0",
  "-1",
  "NaN",
  "Infinity",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "*",
  ":",
  "a:*",
  ".",
  "..",
  "...",
  "../..",
  "..\\..",
  "%00",
  "%2e%2e",
  "%2F",
  "\u0000",
  "\r\n",
  "\u0085",
  "\u2028",
  "\u202e",
  "\ufeff",
  "\ud800",
  "\udfff",
  "🚀",
  "İ",
  "'",
  '"',
  "\\",
  "<script>",
  "{{7*7}}",
  "ws_00000000000000000000",
  "key_00000000000000000000",
  "sk_test_",
  "pc_admin_",
  "2027-01-01T00:00:00Z",
  "2027-02-30T25:61:61Z",
  "0.0.0.0/0",
  "::/0",
  "10.0.0.0/33",
  "a".repeat(129),
  "x".repeat(5000),
];

/** Numbers as JSON text, where the text itself is the attack. */
const RAW_NUMBERS = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "-0",
  "1.0",
  "1E+2",
  "0.1e-400",
  "9007199254740993",
  "-9007199254740993",
  "4294967296",
];

export const FIELD_NAMES = [
  "workspaceId",
  "type",
  "name",
  "ownerId",
  "permissions",
  "roles",
  "meta",
  "plan",
  "limits",
  "credits",
  "ipAllowlist",
  "expiresAt",
  "enabled",
  "key",
  "hash",
  "op",
  "amount",
  "refill",
  "interval",
  "remaining",
  "gracePeriodSeconds",
  "second",
  "minute",
  "day",
  "month",
  "__proto__",
  "constructor",
  "prototype",
];

const fieldName = fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.constantFrom(...DANGEROUS_STRINGS), anyText);

const weirdScalar: fc.Arbitrary<Wire> = fc.oneof(
  fc.constantFrom<Wire>(null, true, false, 0, -1, -0.5, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 2 ** 31),
  fc.constantFrom(...DANGEROUS_STRINGS),
  fc.constantFrom(...RAW_NUMBERS).map((text) => new RawJson(text)),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  anyText,
);

/**
 * Objects or arrays nested `levels` deep, as text: just over a limit, deep enough to exhaust a
 * recursive walk, or as deep as a 64 KiB body allows (about 30,000 levels of arrays).
 */
export const deepNesting: fc.Arbitrary<Wire> = fc
  .tuple(fc.oneof(fc.integer({ min: 9, max: 100 }), fc.integer({ min: 1000, max: 10_000 })), fc.boolean())
  .map(([levels, arrays]) =>
    arrays
      ? new RawJson(`${"[".repeat(levels * 3)}${"]".repeat(levels * 3)}`)
      : new RawJson(`${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`),
  );

/** Any JSON value, hostile at every level, shallow enough to shrink. */
export const weirdValue: fc.Arbitrary<Wire> = fc.letrec<{ value: Wire }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    weirdScalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(fieldName, tie("value")), { maxLength: 4 }).map((entries) => new Members(entries)),
  ),
})).value;

/** A replacement for one field: mostly hostile values, now and then very deep or very large. */
export const fieldValue: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 6, arbitrary: weirdValue },
  { weight: 2, arbitrary: deepNesting },
  { weight: 2, arbitrary: deepNesting.map((deep) => new Members([["nested", deep]])) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 80_000 }).map((size) => "y".repeat(size)) },
);

export type Entries = ReadonlyArray<readonly [string, Wire]>;

/** `valid` with one thing wrong, at its top level or inside one of its objects or arrays. */
function mutated(valid: Wire): fc.Arbitrary<Wire> {
  if (valid instanceof Members) return mutatedBody(valid.entries);
  if (Array.isArray(valid)) {
    return fc.oneof(
      fieldValue,
      fc
        .tuple(fc.nat({ max: valid.length }), fieldValue)
        .map(([i, value]) => [...valid.slice(0, i), value, ...valid.slice(i)]),
    );
  }
  return fieldValue;
}

/**
 * A body of the right shape with one thing wrong: a field replaced (or changed inside), dropped,
 * repeated (JSON.parse keeps the last copy) or added; or the valid body itself.
 */
export function mutatedBody(valid: Entries): fc.Arbitrary<Wire> {
  const added = fc.tuple(fieldName, fieldValue).map(([key, value]) => new Members([...valid, [key, value]]));
  if (valid.length === 0) return fc.oneof(fc.constant(new Members(valid)), added);
  const anyIndex = fc.nat({ max: valid.length - 1 });
  // Objects and arrays are where nesting and size limits live: they are picked more often.
  const structured = valid.flatMap(([, value], i) =>
    value instanceof Members || Array.isArray(value) ? [i] : [],
  );
  const index = structured.length > 0 ? fc.oneof(anyIndex, fc.constantFrom(...structured)) : anyIndex;
  const replaced = (i: number, value: Wire) =>
    new Members(valid.map(([key, old], j) => [key, j === i ? value : old] as const));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(new Members(valid)) },
    { weight: 4, arbitrary: fc.tuple(index, fieldValue).map(([i, value]) => replaced(i, value)) },
    {
      weight: 3,
      arbitrary: index.chain((i) => mutated(valid[i]?.[1] ?? null).map((value) => replaced(i, value))),
    },
    { weight: 1, arbitrary: anyIndex.map((i) => new Members(valid.filter((_, j) => j !== i))) },
    {
      weight: 1,
      arbitrary: fc.tuple(anyIndex, fieldValue, fc.boolean()).map(([i, value, first]) => {
        const key = valid[i]?.[0] ?? "name";
        return new Members(first ? [[key, value], ...valid] : [...valid, [key, value]]);
      }),
    },
    { weight: 1, arbitrary: added },
  );
}

/** JSON text no schema expects: any value, broken JSON, or none at all. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  weirdValue.map(toJsonText),
  deepNesting.map(toJsonText),
  fc.string(),
  anyText,
  fc.constantFrom(
    "",
    "{",
    '{"a":',
    "[",
    "nul",
    "{'a':1}",
    '{"a":1,}',
    "\ufeff{}",
    "{}garbage",
    "{} {}",
    "NaN",
    "undefined",
    "/*x*/{}",
    '{"a":1}\u0000',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
  ),
);

/** Content types a client may claim; JSON ones most often. */
export const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | null>(
      null,
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/problem+json",
      "application/merge-patch+json",
      "text/plain",
      "text/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16",
      "application/jsonx",
    ),
  },
);

/** Percent-encodes the UTF-8 of `text` (a lone surrogate becomes U+FFFD, as fetch would send it). */
export function percentEncode(text: string): string {
  let encoded = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9_.~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

/** Path segments that have broken path handling somewhere: dot segments, encodings, separators. */
export const DANGEROUS_SEGMENTS = [
  "",
  ".",
  "..",
  "...",
  "%2e",
  "%2E%2E",
  ".%2e",
  "%2f",
  "%2F..",
  "%5c",
  "%5C..%5C",
  "\\",
  "..\\",
  "%00",
  "%",
  "%zz",
  "%c0%ae",
  "%C0%AE%C0%AE",
  "%e0%80%ae",
  ";",
  "..;",
  "a;b",
  "%3b",
  "%20",
  "a%20",
  "a.",
  "%09",
  "%0d%0a",
  "%7f",
  "%ff",
  "%C3%BC",
  "ü",
  "~",
  "!",
  "@",
  ":",
  "*",
  "$",
  "%25",
  "%252e%252e",
  "?",
  "%3F",
  "#",
  "%23",
];

/** One path segment: a dangerous piece, a route word in any case, or random text encoded. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...DANGEROUS_SEGMENTS),
  fc.constantFrom(
    "api",
    "API",
    "Api",
    "products",
    "PRODUCTS",
    "reports",
    "server-only",
    "expensive",
    "free",
    "me",
    "public",
    "dashboard",
    "mixed",
    "_portcullis",
    "v1",
    "admin",
    "authorize",
  ),
  anyText.map(percentEncode),
  fc.string({ maxLength: 12 }),
);

/** A path of hostile segments, biased towards the test policy's routes. */
export const hostilePath: fc.Arbitrary<string> = fc.oneof(
  fc.array(pathSegment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join("/")}`),
  fc
    .tuple(
      fc.constantFrom("/api", "/api/products", "/public", "/dashboard", "/mixed"),
      fc.array(pathSegment, { maxLength: 3 }),
    )
    .map(([prefix, segments]) => [prefix, ...segments].join("/")),
);

/** A query string (without `?`): repeated names, overrides, credentials, broken encodings. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        "api_key",
        "key",
        "token",
        "_method",
        "proxy",
        "compat",
        "limit",
        "cursor",
        "a",
        "",
        "%",
        "a[]",
      ),
      fc.oneof(
        fc.constantFrom(...DANGEROUS_SEGMENTS),
        anyText.map(percentEncode),
        fc.constantFrom("GET", "DELETE", "nginx"),
      ),
      fc.boolean(),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([name, value, bare]) => (bare ? name : `${name}=${value}`)).join("&"));

/** Methods fetch lets a client send (not CONNECT, TRACE or TRACK). */
export const method: fc.Arbitrary<string> = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "HEAD",
  "get",
  "Post",
  "PROPFIND",
  "X-CUSTOM",
);

/**
 * Header value characters: tab and visible ASCII with DEL. Fetch also takes U+0080-U+00FF, but
 * workerd sends those as UTF-8 with a warning per request, which would bury the test output.
 */
const headerChar = fc.oneof(
  fc.constant("\t"),
  fc.integer({ min: 0x20, max: 0x7f }).map((code) => String.fromCharCode(code)),
);

/** Whether `text` is a header value of the kind above: tab and visible ASCII with DEL. */
export function isHeaderSafe(text: string): boolean {
  return /^[\t\x20-\x7f]*$/.test(text);
}

export const headerText: fc.Arbitrary<string> = fc.string({ unit: headerChar, maxLength: 60 });

/** Header values a client may send: dangerous path pieces, methods, addresses, any bytes fetch accepts. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  headerText,
  fc.constantFrom(...DANGEROUS_SEGMENTS),
  fc.constantFrom(
    "GET",
    "post",
    "DELETE",
    "G E T",
    "GET, POST",
    "http",
    "https",
    "HTTPS",
    "ftp",
    "javascript",
  ),
  fc.constantFrom(FUZZ_IP, "100.64.77.2", "100.64.77.2, 100.64.77.3", "::ffff:100.64.77.1", "not-an-ip", ""),
  hostilePath.filter(isHeaderSafe),
);

/** A credential and whether it is a secret that no answer may repeat. */
export interface Credential {
  value: string;
  secret: boolean;
}

const keyBody = fc.stringMatching(/^[A-Za-z0-9]{32}$/);

/**
 * Keys that pass the shape check but exist nowhere (right checksum), keys one character off
 * (wrong checksum), and keys of an unchecked type: all secrets.
 */
export const unknownKey: fc.Arbitrary<Credential> = fc
  .tuple(fc.constantFrom("sk_test", "pk_test", "pc_admin", "lg"), keyBody, fc.boolean())
  .map(([prefix, body, rightChecksum]) => {
    if (prefix === "lg") return { value: `lg_${body}`, secret: true };
    const checksum = rightChecksum ? checksumOf(body) : "0badf00d";
    return { value: `${prefix}_${body}_${checksum}`, secret: true };
  });

/**
 * Credentials that are not keys at all, each one a header may carry: not secrets, since an
 * answer may well quote a plain word.
 */
export const garbageCredential: fc.Arbitrary<Credential> = fc
  .oneof(
    fc.constantFrom(...DANGEROUS_STRINGS.filter(isHeaderSafe)),
    headerText,
    fc.constantFrom(
      "a.b.c",
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
      "..",
      "sk_test_",
      "sk_test__",
      "pc_admin_x",
    ),
  )
  .map((value) => ({ value, secret: false }));
