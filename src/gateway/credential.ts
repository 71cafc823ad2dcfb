/**
 * Credential sources (SPEC 3.1): `bearer`, `x-api-key`, `header:NAME`, `query:NAME`. The first
 * source present wins; two different credentials in one request are ambiguous.
 */
import type { CredentialSource } from "../policy/schema";

export type CredentialResult =
  | { kind: "none" }
  | { kind: "ambiguous" }
  | {
      kind: "found";
      value: string;
      /** Every source that carried it, so that forwarding can remove them all. */
      sources: CredentialSource[];
    };

const BEARER = /^bearer[ \t]+([^ \t]+)[ \t]*$/i;

function read(source: CredentialSource, headers: Headers, query: URLSearchParams): string | null {
  if (source === "bearer") {
    const match = BEARER.exec(headers.get("authorization") ?? "");
    return match ? (match[1] as string) : null;
  }
  if (source === "x-api-key") return headers.get("x-api-key") || null;
  if (source.startsWith("header:")) return headers.get(source.slice("header:".length)) || null;
  return query.get(source.slice("query:".length)) || null;
}

export function extractCredential(
  sources: readonly CredentialSource[],
  headers: Headers,
  query: URLSearchParams,
): CredentialResult {
  let value: string | null = null;
  const present: CredentialSource[] = [];
  for (const source of sources) {
    const candidate = read(source, headers, query);
    if (candidate === null) continue;
    if (value !== null && candidate !== value) return { kind: "ambiguous" };
    value = candidate;
    present.push(source);
  }
  return value === null ? { kind: "none" } : { kind: "found", value, sources: present };
}

/** Drops every `name` parameter from a raw query string, leaving the rest byte for byte. */
function dropQueryParameter(rawQuery: string, name: string): string {
  return rawQuery
    .split("&")
    .filter((pair) => {
      const key = pair.split("=", 1)[0] as string;
      try {
        return decodeURIComponent(key.replace(/\+/g, " ")) !== name;
      } catch {
        return true;
      }
    })
    .join("&");
}

/**
 * Removes the credential's sources from the headers sent to the origin, and returns the raw
 * query string (without `?`) to send, with any query credential removed.
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
