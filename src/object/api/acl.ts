// Container ACLs as keystoneauth reads them: X-Container-Read and X-Container-Write hold comma-separated grants —
// "<project>:<user>" (ids, or names of default-domain ones; either may be "*"), and for reads also referrer grants
// (".r:*" anyone may read objects, no token needed; ".r:host", ".r:.domain", ".r:-host" by the Referer header) and
// ".rlistings" (with a referrer grant, listing too). Only the account's owners set them; a grant lets a
// caller without a role in the account read (GET/HEAD) or write (PUT/POST/DELETE) objects in that container.
// Account-wide grants are account-acl.ts's.
import { DEFAULT_DOMAIN_ID } from "../../identity/core.js";
import type { Config } from "../../shared/config.js";
import { syncGranted } from "./container-sync.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { PROJECT_DOMAIN_KEY } from "../store/accounts.js";
import { getContainer } from "../store/containers.js";
import { hasAccess, requestAccountMeta } from "./account-acl.js";
import { header, ownProject, type Ctx } from "./request.js";

/** The stored keys of the two ACL headers. */
export const ACL_HEADERS = ["x-container-read", "x-container-write"] as const;
const MAX_ACL = 4096;

/** ACL changes a container PUT/POST asks for ("" removes); the caller checks that only owners make them. */
export function aclChanges(ctx: Ctx): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of ACL_HEADERS) {
    const raw = ctx.headers[h];
    if (raw === undefined) continue;
    const v = (Array.isArray(raw) ? raw.join(",") : raw).trim();
    if (Buffer.byteLength(v) > MAX_ACL) throw swiftText(400, `${h} is too long`);
    out.set(h, v);
  }
  for (const h of ACL_HEADERS) if (ctx.headers[`x-remove-${h.slice(2)}`] !== undefined) out.set(h, "");
  return out;
}

/**
 * Whether a referrer grant list (`.r:` items in order: `*`, a host, `.domain` for its subdomains, `-` refusing)
 * lets a request with this Referer header read; the last matching item decides, as Swift's referrer_allowed.
 */
export function referrerAllowed(referer: string | undefined, grants: string[]): boolean {
  let host = "unknown";
  if (referer) {
    try {
      host = new URL(referer).hostname || "unknown";
    } catch {
      host = "unknown";
    }
  }
  let allowed = false;
  for (const g of grants) {
    const deny = g.startsWith("-");
    const m = deny ? g.slice(1) : g;
    const named = m === host || (m.startsWith(".") && host.endsWith(m));
    if (deny && named) allowed = false;
    else if (!deny && (m === "*" || named)) allowed = true;
  }
  return allowed;
}

/**
 * Whether grants may name the caller by project and user name, as keystoneauth decides: names are unique only within
 * a domain, so they stand for the default domain's and match only a caller whose user and project (if any) are both
 * there, in their own project's account or in one whose project is recorded in the default domain (an account with
 * no record predates the recording and counts as the default domain's; one whose domain is unknown does not);
 * never when `object.allowNamesInAcls` is off. Ids always match. `meta` reads the account's metadata if needed.
 */
export async function namesAllowed(
  ctx: Ctx,
  cfg: Config,
  account: string,
  meta: () => Promise<Map<string, string>>,
): Promise<boolean> {
  const a = ctx.auth;
  if (!a || !cfg.object.allowNamesInAcls) return false;
  if (a.userDomainId !== DEFAULT_DOMAIN_ID || (a.projectDomainId ?? DEFAULT_DOMAIN_ID) !== DEFAULT_DOMAIN_ID)
    return false;
  if (ownProject(ctx, account)) return true;
  const recorded = (await meta()).get(PROJECT_DOMAIN_KEY);
  return recorded === undefined || recorded === DEFAULT_DOMAIN_ID;
}

/** Whether one grant ("<project>:<user>", ids or — when `names` — names, either may be "*") names the caller. */
export function grants(ctx: Ctx, grant: string, names: boolean): boolean {
  const a = ctx.auth;
  if (!a) return false;
  const colon = grant.indexOf(":");
  if (colon <= 0) return false;
  const project = grant.slice(0, colon).trim();
  const user = grant.slice(colon + 1).trim();
  const projectOk = project === "*" || project === a.projectId || (names && project === a.projectName);
  const userOk = user === "*" || user === a.userId || (names && user === a.userName);
  return projectOk && userOk;
}

/**
 * Require read (GET/HEAD of objects, or `listing`) or write access to objects of a container: the account's owners
 * (and temporary URLs) and its account ACL's grantees of that level pass without looking; anyone else needs a grant
 * in the container's ACL. Without a token and without a public grant it is 401, else 403, whether or not the
 * container exists.
 */
export async function authorizeContainer(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  container: string,
  mode: "read" | "write" | "listing",
): Promise<void> {
  if (await hasAccess(ctx, core, account, mode === "write" ? "write" : "read")) return;
  // A container sync request with this container's key or realm signature reads and writes its objects.
  if (mode !== "listing" && syncGranted(ctx, account, container)) return;
  const c = await getContainer(core, account, container);
  const acl = c?.meta.get(mode === "write" ? "x-container-write" : "x-container-read") ?? "";
  const items = acl
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (mode !== "write" && (mode === "read" || items.includes(".rlistings"))) {
    const referrers = items
      .filter((i) => /^\.r(ef|eferer|eferrer)?:/.test(i))
      .map((i) => i.slice(i.indexOf(":") + 1));
    if (referrerAllowed(header(ctx, "referer"), referrers)) return;
  }
  const names = await namesAllowed(ctx, core.cfg, account, () => requestAccountMeta(ctx, core, account));
  if (items.some((g) => !g.startsWith(".") && grants(ctx, g, names))) return;
  throw swiftError(ctx.auth ? 403 : 401);
}
