/**
 * Claims of the provider's token (docs/portal.md#claims): a top-level claim by name, or a JSON
 * Pointer (RFC 6901) when the name starts with `/`. Only a token's own members are read, never
 * anything a prototype lends (`__proto__`, `constructor`, `toString`); a pointer walks objects
 * only (an array index names no organisation), and values are bounded.
 */

/** Longest claim value read as a string; a longer one is refused like a missing one. */
export const MAX_CLAIM_LENGTH = 256;
/** Most roles a token may name. */
const MAX_ROLES = 64;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The tokens of a JSON Pointer, unescaped (`~1` is `/`, `~0` is `~`). */
function pointerTokens(pointer: string): string[] {
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The claim's value, or undefined when the token does not hold it as its own. */
export function readClaim(payload: Record<string, unknown>, name: string): unknown {
  const path = name.startsWith("/") ? pointerTokens(name) : [name];
  let current: unknown = payload;
  for (const token of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, token)) return undefined;
    current = current[token];
  }
  return current;
}

/** A non-empty string claim of at most `MAX_CLAIM_LENGTH` characters, or null. */
export function stringClaim(payload: Record<string, unknown>, name: string): string | null {
  const value = readClaim(payload, name);
  return typeof value === "string" && value.length > 0 && value.length <= MAX_CLAIM_LENGTH ? value : null;
}

/** The roles claim: one string or an array of strings (each bounded), or null when it is anything else. */
export function rolesClaim(payload: Record<string, unknown>, name: string): string[] | null {
  const value = readClaim(payload, name);
  const roles = typeof value === "string" ? [value] : value;
  if (!Array.isArray(roles) || roles.length > MAX_ROLES) return null;
  const valid = roles.every(
    (role): role is string => typeof role === "string" && role.length > 0 && role.length <= MAX_CLAIM_LENGTH,
  );
  return valid ? [...new Set(roles as string[])] : null;
}
