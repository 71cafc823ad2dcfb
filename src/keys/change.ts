/**
 * Whether a change to a key only restricts it. The consistency rule (docs/consistency.md) depends on it:
 * a restriction is put in force in the Durable Object before D1 is written, anything else is
 * written to D1 first. When in doubt a change counts as a widening, whose failure undoes it.
 */
import { WINDOWS } from "../policy/schema";
import { holds } from "./permissions";
import type { KeyRecord } from "./record";

type Direction = "same" | "narrower" | "wider";

function subset(after: readonly string[], before: readonly string[]): boolean {
  return after.every((value) => before.includes(value));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && subset(a, b) && subset(b, a);
}

function permissionsDirection(before: KeyRecord, after: KeyRecord): Direction {
  if (sameSet(before.permissions, after.permissions)) return "same";
  return after.permissions.every((p) => holds(before.permissions, p)) ? "narrower" : "wider";
}

function setDirection(before: readonly string[], after: readonly string[]): Direction {
  if (sameSet(before, after)) return "same";
  return subset(after, before) ? "narrower" : "wider";
}

function allowlistDirection(before: readonly string[], after: readonly string[]): Direction {
  if (sameSet(before, after)) return "same";
  if (before.length === 0) return "narrower";
  if (after.length === 0) return "wider";
  return subset(after, before) ? "narrower" : "wider";
}

function expiryDirection(before: number | null, after: number | null): Direction {
  if (before === after) return "same";
  if (after === null) return "wider";
  return before === null || after < before ? "narrower" : "wider";
}

function limitsDirection(before: KeyRecord, after: KeyRecord): Direction {
  let direction: Direction = "same";
  for (const window of WINDOWS) {
    const was = before.limits[window] ?? 0;
    const now = after.limits[window] ?? 0;
    if (was === now) continue;
    // A positive limit below a positive one narrows; anything involving 0 (the plan's value
    // applies) cannot be judged without the plan and counts as wider.
    if (was > 0 && now > 0 && now < was) direction = "narrower";
    else return "wider";
  }
  return direction;
}

export function onlyRestricts(before: KeyRecord, after: KeyRecord): boolean {
  const directions: Direction[] = [
    before.revokedAt === after.revokedAt ? "same" : after.revokedAt !== null ? "narrower" : "wider",
    before.enabled === after.enabled ? "same" : after.enabled ? "wider" : "narrower",
    expiryDirection(before.expiresAt, after.expiresAt),
    permissionsDirection(before, after),
    setDirection(before.roles, after.roles),
    allowlistDirection(before.ipAllowlist, after.ipAllowlist),
    limitsDirection(before, after),
    before.plan === after.plan ? "same" : "wider",
  ];
  return directions.includes("narrower") && !directions.includes("wider");
}
