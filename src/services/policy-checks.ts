/**
 * Checks of admin input against the policy, shared by the admin services.
 */

import { ownEntry } from "../policy/own-entry";
import type { Policy } from "../policy/schema";
import { Refusal } from "../refusals";

export function badRequest(field: string, message: string): Refusal {
  return new Refusal("bad_request", `Invalid ${field}: ${message}.`, { errors: [{ field, message }] });
}

/** A plan named in admin input must be one of the policy's plans. */
export function checkPlan(policy: Policy, plan: string | null | undefined): void {
  if (plan && ownEntry(policy.plans, plan) === undefined) {
    const known = Object.keys(policy.plans).join(", ") || "none defined";
    throw badRequest("plan", `unknown plan "${plan}" (known: ${known})`);
  }
}
