// What every network route shares: the caller as the store sees it, Neutron's 404-before-403 enforcement, the
// attribute rules of a create or update, read-guarded attributes, and the time format.
import { ApiError } from "../../shared/http/errors.js";
import type { RequestCtx } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { Caller } from "../core.js";
import { nerr } from "../errors.js";

/** A network route's request context. */
export type Ctx = RequestCtx<any, any, any>;

/**
 * The caller: project, admin-ness (rule admin_only) and whether it reads every project (a cloud reader, or a
 * service user: Neutron's service role is not held to its project, the get_* rules then decide per resource).
 */
export function callerOf(ctx: Ctx): Caller {
  const isAdmin = ctx.allowed("admin_only", {});
  return {
    projectId: ctx.auth?.projectId ?? null,
    isAdmin,
    readsAll: isAdmin || ctx.allowed("cloud_reader", {}) || isService(ctx),
  };
}

/** Whether the caller is a service user (rule service_api: compute's nova user, with the service role). */
export function isService(ctx: Ctx): boolean {
  return ctx.allowed("service_api", {});
}

/** A rule's failure as Neutron words it: "rule:NAME is disallowed by policy" (attribute rules joined by and). */
function disallowed(rules: string[]): ApiError {
  const text = rules.length === 1 ? `rule:${rules[0]}` : `(${rules.map((r) => `rule:${r}`).join(" and ")})`;
  return nerr(403, "PolicyNotAuthorized", `${text} is disallowed by policy`);
}

/**
 * Enforce `rule` on an existing resource as Neutron does: a caller who may not even read it (`readRule`) gets
 * `notFound` (its existence is not revealed); one who may read it but not do this gets 403.
 */
export function enforceOn(
  ctx: Ctx,
  rule: string,
  readRule: string,
  target: Target,
  notFound: ApiError,
): void {
  if (ctx.allowed(rule, target)) return;
  if (!ctx.auth) throw new ApiError(401, "The request you have made requires authentication.");
  if (rule === readRule || !ctx.allowed(readRule, target)) throw notFound;
  throw disallowed([rule]);
}

/** Enforce `<action>_<resource>` and the rules of the attributes set (`<action>_<resource>:<attr>`); 403. */
export function enforceWrite(ctx: Ctx, action: string, attrs: string[], target: Target): void {
  const rule = action;
  if (!ctx.allowed(rule, target)) throw disallowed([rule]);
  for (const a of attrs) {
    const sub = `${action}:${a}`;
    if (!ctx.allowed(sub, target)) throw disallowed([rule, sub]);
  }
}

/** Remove attributes the caller may not read (`get_<resource>:<attr>` rules: provider and binding attributes). */
export function stripGuarded(
  ctx: Ctx,
  view: Record<string, unknown>,
  readRule: string,
  guarded: readonly string[],
  target: Target,
): Record<string, unknown> {
  for (const attr of guarded) if (!ctx.allowed(`${readRule}:${attr}`, target)) delete view[attr];
  return view;
}

/** Neutron's timestamps: ISO 8601 to the second, UTC, with a Z. */
export function isoTime(stored: string): string {
  const ms = Date.parse(stored);
  if (Number.isNaN(ms)) return stored;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
