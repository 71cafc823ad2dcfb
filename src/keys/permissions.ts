/**
 * Permission strings (docs/admin-api.md): `resource:action` or a plain word; a held `*` covers everything,
 * a held `resource:*` every action on `resource`.
 */

/** Whether holding `held` covers `wanted`. */
export function covers(held: string, wanted: string): boolean {
  if (held === "*" || held === wanted) return true;
  if (!held.endsWith(":*")) return false;
  const resource = held.slice(0, -1); // keeps the colon: "transactions:"
  return wanted.startsWith(resource);
}

/** Whether any permission in `held` covers `wanted`. */
export function holds(held: readonly string[], wanted: string): boolean {
  return held.some((permission) => covers(permission, wanted));
}

export interface PermissionCheck {
  /** All of these are required. */
  permissions: readonly string[];
  /** At least one of these is required (when non-empty). */
  anyPermissions: readonly string[];
}

export function satisfies(held: readonly string[], check: PermissionCheck): boolean {
  return (
    check.permissions.every((wanted) => holds(held, wanted)) &&
    (check.anyPermissions.length === 0 || check.anyPermissions.some((wanted) => holds(held, wanted)))
  );
}

/**
 * The meet of two permission sets (⊓, docs/consistency.md#owners): a set that grants exactly what both `a`
 * and `b` grant. `*` ⊓ `tx:read` = `tx:read`, `tx:*` ⊓ `tx:read` = `tx:read`, `tx:*` ⊓ `tx:*` =
 * `tx:*`. Whatever covers a permission is that permission, a `resource:*` above it or `*`, and
 * any two of those cover one another one way: so keeping each side's entries that the other
 * side covers keeps every permission both grant, and nothing else.
 */
export function meet(a: readonly string[], b: readonly string[]): string[] {
  return unique([
    ...a.filter((permission) => holds(b, permission)),
    ...b.filter((permission) => holds(a, permission)),
  ]);
}

/**
 * A key's effective permissions: what it holds, limited by its type's ceiling. The result
 * grants exactly what both the held set and the ceiling grant: a held `*` under a ceiling of
 * `["assess"]` becomes `["assess"]`, a held `tx:read` under `["tx:*"]` stays `tx:read`.
 */
export function capPermissions(held: readonly string[], ceiling: readonly string[] | undefined): string[] {
  return ceiling ? meet(held, ceiling) : unique(held);
}

/** The permissions of `wanted` that `ceiling` does not cover. */
export function beyondCeiling(wanted: readonly string[], ceiling: readonly string[] | undefined): string[] {
  return ceiling ? wanted.filter((permission) => !holds(ceiling, permission)) : [];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
