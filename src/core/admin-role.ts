/**
 * Administrator roles. GB/T 22239-2019 level 3 asks for separate system,
 * security and audit administrators; each holds its own certificate with the
 * role in its SPIFFE ID (spiffe://<td>/admin/<role>/<name>).
 */
export const ADMIN_ROLES = ["system", "security", "audit"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export function isAdminRole(value: string): value is AdminRole {
  return (ADMIN_ROLES as readonly string[]).includes(value);
}
