/**
 * What a key may be given (docs/admin-api.md): its type's format, its roles (which must exist in
 * its workspace), and permissions within its type's ceiling; admin keys hold admin permissions
 * only, and an admin-key caller grants nothing it does not hold itself.
 */
import { isAdminPermission } from "../keys/admin-permissions";
import type { KeyFormat } from "../keys/format";
import { beyondCeiling, holds } from "../keys/permissions";
import { ADMIN_FORMAT, type CompiledPolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { type FieldError, Refusal } from "../refusals";
import { type RoleStore, resolveRoles } from "../storage/roles";
import type { AdminContext } from "./admin-context";
import { badRequest } from "./policy-checks";

export class KeyEntitlements {
  constructor(
    private readonly compiled: CompiledPolicy,
    private readonly roles: RoleStore,
  ) {}

  /**
   * Permissions of each named role; every role must exist in the workspace or in the policy
   * (a workspace role replaces the policy's of its name).
   */
  async rolePermissions(
    workspaceId: string,
    type: string,
    names: readonly string[],
  ): Promise<Record<string, string[]>> {
    if (names.length === 0) return {};
    if (type === ADMIN_KEY_TYPE)
      throw badRequest("roles", "admin keys hold admin permissions only, no roles");
    const found = await this.roles.find(workspaceId, names);
    const resolved = resolveRoles(names, found, this.compiled.policy.roles);
    const missing = names.filter((name) => !Object.hasOwn(resolved, name));
    if (missing.length > 0)
      throw badRequest("roles", `unknown role(s) in this workspace and the policy: ${missing.join(", ")}`);
    return resolved;
  }

  formatOf(type: string): KeyFormat {
    if (type === ADMIN_KEY_TYPE) return ADMIN_FORMAT;
    const format = this.compiled.formats.find((candidate) => candidate.type === type);
    if (!format) {
      const known = Object.keys(this.compiled.policy.keyTypes).join(", ");
      throw badRequest("type", `unknown key type "${type}" (known: ${known}, admin)`);
    }
    return format;
  }

  /**
   * Permissions a key may be given: within its type's ceiling, admin permissions only for admin
   * keys, and for an admin-key caller nothing it does not hold itself.
   */
  check(context: AdminContext, type: string, permissions: string[]): void {
    if (type === ADMIN_KEY_TYPE) {
      const unknown = permissions.filter((p) => !isAdminPermission(p));
      if (unknown.length > 0) throw badRequest("permissions", `not admin permissions: ${unknown.join(", ")}`);
      const beyond = permissions.filter((p) => !holds(context.permissions, p));
      if (beyond.length > 0) {
        throw new Refusal(
          "insufficient_permissions",
          `An admin key can grant only what it holds; it lacks: ${beyond.join(", ")}.`,
        );
      }
      return;
    }
    const ceiling = ownEntry(this.compiled.policy.keyTypes, type)?.allowedPermissions;
    const beyond = beyondCeiling(permissions, ceiling);
    if (beyond.length > 0) {
      const errors: FieldError[] = beyond.map((p) => ({
        field: "permissions",
        message: `"${p}" is beyond the ceiling of key type "${type}"`,
      }));
      throw new Refusal(
        "permission_not_allowed",
        `Key type "${type}" does not allow: ${beyond.join(", ")}.`,
        { errors },
      );
    }
  }
}
