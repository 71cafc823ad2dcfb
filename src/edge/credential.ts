/**
 * Credential sources (docs/policy.md#credentials): `bearer`, `x-api-key`, `header:NAME`, `query:NAME`. The first
 * source present wins; two different credentials in one request are ambiguous, whether in two
 * sources or twice in one (two headers of a name, which `Headers.get` joins with ", ", or two
 * query parameters), since the origin or a log could read the other one.
 */
import type { CredentialSource, Policy } from "../policy/schema";

export type CredentialResult =
  | { kind: "none" }
  | { kind: "ambiguous" }
  | {
      kind: "found";
      value: string;
      /** Every source that carried it. */
      sources: CredentialSource[];
    };

const BEARER = /^bearer[ \t]+([^ \t]+)[ \t]*$/i;

/**
 * The distinct values in a header that may have been sent more than once. Keys and JWTs never
 * contain `,` or spaces, so every element of the joined list is one value.
 */
function headerValues(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(",")
    .map((element) => element.trim())
    .filter((element) => element !== "");
}

/** Bearer tokens of the Authorization header(s); elements of other schemes are not credentials. */
function bearerTokens(value: string | null): string[] {
  const tokens: string[] = [];
  for (const element of headerValues(value)) {
    const match = BEARER.exec(element);
    if (match) tokens.push(match[1] as string);
  }
  return tokens;
}

/** The distinct values a source carries: none, one (perhaps sent several times), or more. */
function read(source: CredentialSource, headers: Headers, query: URLSearchParams): Set<string> {
  let values: string[];
  if (source === "bearer") values = bearerTokens(headers.get("authorization"));
  else if (source === "x-api-key") values = headerValues(headers.get("x-api-key"));
  else if (source.startsWith("header:")) values = headerValues(headers.get(source.slice("header:".length)));
  else values = query.getAll(source.slice("query:".length)).filter((value) => value !== "");
  return new Set(values);
}

export function extractCredential(
  sources: readonly CredentialSource[],
  headers: Headers,
  query: URLSearchParams,
): CredentialResult {
  let value: string | null = null;
  const present: CredentialSource[] = [];
  for (const source of sources) {
    const values = read(source, headers, query);
    if (values.size === 0) continue;
    if (values.size > 1) return { kind: "ambiguous" };
    const candidate = values.values().next().value as string;
    if (value !== null && candidate !== value) return { kind: "ambiguous" };
    value = candidate;
    present.push(source);
  }
  return value === null ? { kind: "none" } : { kind: "found", value, sources: present };
}

const configured = new WeakMap<Policy, CredentialSource[]>();

/**
 * Every credential source the policy names, its own and its routes': all of them are removed
 * before forwarding, whichever route a request matched (docs/headers.md), so that a copy in a source
 * this route does not read still never reaches the origin.
 */
export function configuredSources(policy: Policy): CredentialSource[] {
  let sources = configured.get(policy);
  if (!sources) {
    sources = [
      ...new Set([...policy.credentials, ...policy.routes.flatMap((route) => route.credentials ?? [])]),
    ];
    configured.set(policy, sources);
  }
  return sources;
}

/**
 * A query parameter name as origins read it: frameworks cut it at a NUL and drop surrounding
 * whitespace, turn `.` and spaces into `_` (PHP), read `name[]` or `name[x]` as `name` (PHP,
 * Rails), and compare names ignoring case (ASP.NET). Two names that fold alike may reach the
 * origin as one.
 */
function foldName(name: string): string {
  return (name.split("\0")[0] as string)
    .replace(/^\s+|\s+$/g, "")
    .replace(/\[.*$/, "")
    .replace(/[. ]/g, "_")
    .toLowerCase();
}

/**
 * Drops every `name` parameter from a raw query string, leaving the rest byte for byte. Names
 * are decoded as `URLSearchParams` decodes them when the credential is read (a leading `?` is
 * ignored too) and folded as origins fold them, so that no spelling of the name slips through.
 */
function dropQueryParameter(rawQuery: string, name: string): string {
  const wanted = foldName(name);
  // Some origins also split on `;` (older Rack and Python): a pair hiding the name behind one
  // goes too.
  return rawQuery
    .split("&")
    .filter(
      (pair) =>
        !pair
          .split(";")
          .some((part) => [...new URLSearchParams(part).keys()].some((key) => foldName(key) === wanted)),
    )
    .join("&");
}

/**
 * Removes the given credential sources from the headers sent to the origin, and returns the
 * raw query string (without `?`) to send, with every query source removed.
 */
export function removeCredential(
  sources: readonly CredentialSource[],
  headers: Headers,
  rawQuery: string,
): string {
  let query = rawQuery;
  for (const source of sources) {
    if (source === "bearer") headers.delete("authorization");
    else if (source === "x-api-key") headers.delete("x-api-key");
    else if (source.startsWith("header:")) headers.delete(source.slice("header:".length));
    else query = dropQueryParameter(query, source.slice("query:".length));
  }
  return query;
}
