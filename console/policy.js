/**
 * The policy's choices (`GET /policy`): key types, plans, roles, permissions and event types, so
 * that forms offer them instead of free text. Read once per credential; a failed read answers null and is
 * tried again on the next screen, and the forms fall back to text fields meanwhile.
 */
import { api, session } from "./api.js";

/**
 * @typedef {{
 *   keyTypes: {name: string, prefix: string, defaultPermissions: string[] | null,
 *     allowedPermissions: string[] | null, plan: string | null}[],
 *   adminPermissions: string[],
 *   plans: {name: string}[],
 *   permissions: string[],
 *   eventTypes: string[],
 * }} PolicyChoices
 */

/** @type {{credential: string | null, read: Promise<PolicyChoices | null>} | null} */
let cached = null;

/** @returns {Promise<PolicyChoices | null>} */
export function policyChoices() {
  const credential = session.credential();
  if (cached?.credential !== credential) {
    const read = api("GET", "/policy").catch(() => {
      if (cached?.read === read) cached = null;
      return null;
    });
    cached = { credential, read };
  }
  return cached.read;
}

/**
 * The permissions a key of `type` may be given: the admin permissions for an admin key, else
 * the type's ceiling, else every permission the policy names.
 * @param {PolicyChoices} policy
 * @param {string} type
 */
export function permissionsFor(policy, type) {
  if (type === "admin") return policy.adminPermissions;
  const keyType = policy.keyTypes.find((candidate) => candidate.name === type);
  return keyType?.allowedPermissions ?? policy.permissions;
}

/**
 * Options of a plan select: none first (the key's type, workspace or the default plan decide),
 * then the policy's plans, and `current` if the policy no longer has it.
 * @param {PolicyChoices} policy
 * @param {string | null} current
 * @returns {[string, string][]}
 */
export function planOptions(policy, current) {
  const names = policy.plans.map((plan) => plan.name);
  if (current && !names.includes(current)) names.push(current);
  return [["", "None"], ...names.map((name) => /** @type {[string, string]} */ ([name, name]))];
}
