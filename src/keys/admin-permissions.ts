/**
 * The permissions an admin key can hold (docs/admin-api.md). `*` stands for all of them.
 */
export const ADMIN_PERMISSIONS = [
  "workspaces:read",
  "workspaces:write",
  "keys:read",
  "keys:write",
  "keys:revoke",
  "keys:verify",
  "roles:read",
  "roles:write",
  "audit:read",
  "*",
] as const;

export type AdminPermission = (typeof ADMIN_PERMISSIONS)[number];

export function isAdminPermission(value: string): value is AdminPermission {
  return (ADMIN_PERMISSIONS as readonly string[]).includes(value);
}
