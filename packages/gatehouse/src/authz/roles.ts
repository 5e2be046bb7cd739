/** A role → permissions map. Permission names are free-form strings such as `"users:read"`. */
export type RolePermissions = Readonly<Record<string, readonly string[]>>;

/** The built-in roles. Extend them with the `roles` option of `createGatehouse`. */
export const DEFAULT_ROLES: RolePermissions = Object.freeze({
  user: Object.freeze(["account:read", "account:update"]),
  admin: Object.freeze(["account:read", "account:update", "users:read", "users:write"]),
});

/** Merges user-defined roles over the defaults; a role given by the user replaces the default's list. */
export function resolveRoles(extra: RolePermissions | undefined): RolePermissions {
  return Object.freeze({ ...DEFAULT_ROLES, ...extra });
}

/** Whether `role` grants `permission` under `roles`. Unknown roles grant nothing. */
export function roleHasPermission(roles: RolePermissions, role: string, permission: string): boolean {
  return Object.hasOwn(roles, role) && (roles[role] as readonly string[]).includes(permission);
}
