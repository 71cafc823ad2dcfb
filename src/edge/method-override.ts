/**
 * Method overrides (docs/policy.md): frameworks such as Rails, Laravel, Express' method-override and
 * many Java and .NET stacks route a request by `X-HTTP-Method-Override`, `X-HTTP-Method`,
 * `X-Method-Override` or a `_method` parameter instead of its own method, so an origin may
 * honour either. The request is decided under both; an override that is not one clear method
 * is refused rather than guessed.
 */
import { asciiUpperCase } from "../policy/routes";

const OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;
const OVERRIDE_PARAMETER = "_method";

/** An HTTP token (RFC 9110 5.6.2), which every method is. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type MethodOverride =
  | { ok: true /** The override, upper case; null when the request carries none. */; method: string | null }
  | { ok: false; reason: string };

/** Every override value the request carries, as sent. */
function overrideValues(headers: Headers, query: URLSearchParams): string[] {
  const values: string[] = [];
  for (const name of OVERRIDE_HEADERS) {
    const value = headers.get(name);
    // Repeated headers arrive joined with ", ": each element is a value of its own.
    if (value !== null) values.push(...value.split(",").map((element) => element.trim()));
  }
  values.push(...query.getAll(OVERRIDE_PARAMETER));
  return values;
}

export function carriesMethodOverride(headers: Headers, query: URLSearchParams): boolean {
  return OVERRIDE_HEADERS.some((name) => headers.has(name)) || query.has(OVERRIDE_PARAMETER);
}

export function readMethodOverride(headers: Headers, query: URLSearchParams): MethodOverride {
  const values = overrideValues(headers, query);
  if (values.length === 0) return { ok: true, method: null };
  if (!values.every((value) => TOKEN.test(value))) {
    return { ok: false, reason: "a method override is not an HTTP method" };
  }
  const methods = new Set(values.map(asciiUpperCase));
  if (methods.size > 1) return { ok: false, reason: "the request carries two different method overrides" };
  return { ok: true, method: [...methods][0] as string };
}
