// What every Swift request starts with: the account, container and object names from the raw path (names may hold
// any UTF-8, slashes included, and a trailing slash is part of an object's name), checked against Swift's limits,
// and the caller's right to read or write the account.
import type { RequestCtx } from "../../shared/http/route.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { UNKNOWN_DOMAIN } from "../store/accounts.js";
import { tempUrlAccount } from "./tempurl.js";

/** A route handler's context. */
export type Ctx = RequestCtx<any, any, any>;

/** The reseller prefix of the accounts keystoneauth serves (AUTH_<project id>). */
export const RESELLER_PREFIX = "AUTH_";

/** The names a request addresses. */
export interface SwiftPath {
  account: string;
  container?: string;
  object?: string;
}

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Decode a path segment; 412 as Swift for bad UTF-8 or NUL. */
function decode(seg: string): string {
  let out: string;
  try {
    out = decodeURIComponent(seg);
  } catch {
    throw swiftText(412, "Invalid UTF8 or contains NULL");
  }
  if (out.includes("\0") || out.includes("\uFFFD")) throw swiftText(412, "Invalid UTF8 or contains NULL");
  return out;
}

/** The account, container and object of a request (from its raw URL, as Swift's split_path), within limits. */
export function swiftPath(ctx: Ctx, core: ObjectCore): SwiftPath {
  const path = ctx.url.split("?")[0];
  const m = /^\/v1\/([^/]+)(?:\/([^/]*)(?:\/(.*))?)?$/s.exec(path);
  if (!m) throw swiftError(404);
  const account = decode(m[1]);
  const container = m[2] === undefined || m[2] === "" ? undefined : decode(m[2]);
  const object = m[3] === undefined || m[3] === "" || container === undefined ? undefined : decode(m[3]);
  const l = core.limits;
  if (bytes(account) > l.max_account_name_length)
    throw swiftText(400, `Account name length of ${bytes(account)} longer than ${l.max_account_name_length}`);
  if (container !== undefined && bytes(container) > l.max_container_name_length)
    throw swiftText(
      400,
      `Container name length of ${bytes(container)} longer than ${l.max_container_name_length}`,
    );
  if (object !== undefined && bytes(object) > l.max_object_name_length)
    throw swiftText(400, `Object name length of ${bytes(object)} longer than ${l.max_object_name_length}`);
  return { account, container, object };
}

/** The prefix of service accounts (SERVICE_<project id>): their data is a service's, kept for a user's project. */
export const SERVICE_PREFIX = "SERVICE_";
/** Roles a service token needs for service accounts (keystoneauth's SERVICE_service_roles). */
const SERVICE_ROLES = ["service"];

/**
 * Whether the caller's roles let them read or write the whole account (owner roles, system reader, reseller,
 * temporary URL); account-acl.ts adds the account's ACL to this.
 * A service account also needs a service token (X-Service-Token) with a service role beside the user's token, as
 * keystoneauth's multi-prefix setup: a user alone cannot touch what a service keeps for them.
 */
export function ownsAccount(ctx: Ctx, account: string, mode: "read" | "write"): boolean {
  if (tempUrlAccount(ctx) === account) return true;
  if (!ctx.auth) return false;
  if (ctx.allowed("object:reseller_admin", {})) return true;
  const prefix = [RESELLER_PREFIX, SERVICE_PREFIX].find((p) => account.startsWith(p));
  const project = prefix ? account.slice(prefix.length) : "";
  if (project === "") return false;
  if (prefix === SERVICE_PREFIX && !ctx.serviceAuth?.roles.some((r) => SERVICE_ROLES.includes(r)))
    return false;
  return ctx.allowed(`object:${mode}`, { project_id: project });
}

/** Whether the account is the one of the project the caller's token is scoped to (AUTH_ or SERVICE_ prefix). */
export function ownProject(ctx: Ctx, account: string): boolean {
  const p = ctx.auth?.projectId;
  return !!p && (account === RESELLER_PREFIX + p || account === SERVICE_PREFIX + p);
}

/**
 * The project domain to record for an account a request makes or changes (store/accounts.ts's ensureAccount): the
 * token's when the account is its project's, else unknown (a reseller admin's token does not tell).
 */
export function accountDomainOf(ctx: Ctx, account: string): string | undefined {
  if (!ownProject(ctx, account)) return UNKNOWN_DOMAIN;
  return ctx.auth?.projectDomainId ?? undefined;
}

/** A request header's single value (the first of repeated ones). */
export function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A query parameter's single value. */
export function param(ctx: Ctx, name: string): string | undefined {
  const q = ctx.query as Record<string, unknown>;
  if (!Object.hasOwn(q, name)) return undefined;
  const v = q[name];
  return typeof v === "string" ? v : undefined;
}
