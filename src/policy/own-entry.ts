/**
 * Lookups by a name that came from outside (a plan, role or key type named in admin input or a
 * stored record): own entries only, so that `constructor` or `__proto__` never resolves to
 * something inherited from `Object.prototype`.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
