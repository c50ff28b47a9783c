/** Identity headers a client must never be able to set (keystonemiddleware's list; OSSA-2026-001). */
const STRIP_PREFIXES = [
  "x-identity-",
  "x-service-",
  "x-user",
  "x-tenant",
  "x-project-",
  "x-domain-",
  "x-role",
  "x-system-",
  "x-is-admin",
  "x-roles",
  "x-auth-application-credential",
];
const STRIP_EXACT = new Set([
  "x-user-id",
  "x-project-id",
  "x-domain-id",
  "x-roles",
  "x-role",
  "x-service-catalog",
  "x-is-admin-project",
  "x-trust-id",
  "x-identity-status",
  "x-service-identity-status",
]);

/** Removes every incoming identity header in place; returns the names removed. */
export function stripIdentityHeaders(headers: Record<string, unknown>): string[] {
  const removed: string[] = [];
  for (const name of Object.keys(headers)) {
    const n = name.toLowerCase();
    if (n === "x-auth-token" || n === "x-subject-token" || n === "x-service-token") continue;
    if (STRIP_EXACT.has(n) || STRIP_PREFIXES.some((p) => n.startsWith(p))) {
      delete headers[name];
      removed.push(n);
    }
  }
  return removed;
}
