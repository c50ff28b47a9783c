// Account ACLs (tempauth's X-Account-Access-Control, offered here under Keystone): a JSON object whose "admin",
// "read-write" and "read-only" lists name Keystone identities as container ACLs do ("<project>:<user>" by id, or by
// name for default-domain ones as acl.ts's namesAllowed decides, either may be "*"; a bare "<project>" is "<project>:*"). Read-only reads everything
// unprivileged, read-write also changes containers and objects (not the account, not privileged headers), admin is
// the account's owner.
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { accountMeta } from "../store/accounts.js";
import { grants, namesAllowed } from "./acl.js";
import { header, ownsAccount, type Ctx } from "./request.js";

/** The request and response header. */
export const ACCOUNT_ACL_HEADER = "x-account-access-control";
/** Where the ACL is kept: account system metadata, as Swift's core-access-control sysmeta (never shown as is). */
export const ACCOUNT_ACL_KEY = "x-account-sysmeta-core-access-control";
/** The longest value accepted, in bytes (Swift's largest header line). */
export const MAX_ACCOUNT_ACL = 8192;

/**
 * The /info section: Swift's keystoneauth registers an empty `keystoneauth` section, tempauth reports account ACLs
 * as `tempauth: {account_acls: true}`; the auth here is Keystone's, so its section says it.
 */
export const ACCOUNT_ACL_INFO = { account_acls: true };

/** The three levels, highest first. */
const LEVELS = ["admin", "read-write", "read-only"] as const;
type Level = (typeof LEVELS)[number];

/** What a caller may do in an account: own it, change its containers and objects, or read it. */
export type AccountAccess = "owner" | "write" | "read";
const ACCESS_OF: ReadonlyMap<Level, AccountAccess> = new Map([
  ["admin", "owner"],
  ["read-write", "write"],
  ["read-only", "read"],
]);
const RANK: ReadonlyMap<AccountAccess | null, number> = new Map([
  [null, 0],
  ["read", 1],
  ["write", 2],
  ["owner", 3],
]);

/** A parsed ACL: grantees per level. */
export type AccountAcl = Map<Level, string[]>;

/** A 400 in tempauth's words. */
const invalid = (why: string, input: string) =>
  swiftText(400, `X-Account-Access-Control invalid: ${why}\n\nInput: ${input}\n`);

/** Parse and check a header value as tempauth does (a JSON object of known keys to lists of strings); 400 otherwise. */
export function parseAccountAcl(raw: string): AccountAcl {
  if (Buffer.byteLength(raw) > MAX_ACCOUNT_ACL)
    throw swiftText(400, `X-Account-Access-Control invalid: longer than ${MAX_ACCOUNT_ACL} bytes\n`);
  const acl: AccountAcl = new Map();
  if (raw === "") return acl;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw invalid(`Syntax error in input (${JSON.stringify(raw)})`, raw);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw invalid(`Syntax error in input (${JSON.stringify(raw)})`, raw);
  for (const [key, value] of Object.entries(data)) {
    const level = LEVELS.find((l) => l === key);
    if (!level) throw invalid(`Key ${JSON.stringify(key)} not recognized`, raw);
    if (!Array.isArray(value)) throw invalid(`Value for key ${JSON.stringify(key)} must be a list`, raw);
    if (!value.every((g) => typeof g === "string"))
      throw invalid(`Elements of ${JSON.stringify(key)} list must be strings`, raw);
    acl.set(level, value as string[]);
  }
  return acl;
}

/** Swift's format_acl v2: compact JSON, keys sorted, non-ASCII as \uXXXX. */
export function formatAccountAcl(acl: AccountAcl): string {
  const sorted = [...acl].sort(([a], [b]) => (a < b ? -1 : 1));
  const json = `{${sorted.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The ACL change an account request asks for: undefined when it names none, "" to remove the ACL (an empty value
 * or `{}`), else the value to store in Swift's canonical form. A malformed value is 400.
 */
export function accountAclChange(ctx: Ctx): string | undefined {
  const v = header(ctx, ACCOUNT_ACL_HEADER);
  if (v === undefined) return undefined;
  // Header values arrive as latin-1; the bytes are UTF-8 (JSON may also escape them).
  const acl = parseAccountAcl(Buffer.from(v.trim(), "latin1").toString("utf8"));
  return acl.size === 0 ? "" : formatAccountAcl(acl);
}

/** The stored ACL as the response header shows it (undefined when none), for the account's owners only. */
export function accountAclHeader(meta: Map<string, string>): string | undefined {
  const stored = meta.get(ACCOUNT_ACL_KEY);
  return stored ? stored : undefined;
}

/** The level an ACL grants the caller (the highest naming them; by name only when `names`), or null. */
function granted(ctx: Ctx, stored: string | undefined, names: boolean): AccountAccess | null {
  if (!stored || !ctx.auth) return null;
  let acl: AccountAcl;
  try {
    acl = parseAccountAcl(stored);
  } catch {
    return null;
  }
  for (const level of LEVELS) {
    const grantees = acl.get(level) ?? [];
    // A bare project (no colon) names all of its users.
    if (grantees.some((g) => grants(ctx, g.includes(":") ? g : `${g}:*`, names)))
      return ACCESS_OF.get(level) as AccountAccess;
  }
  return null;
}

/** Per request, each account's metadata as its access checks read it. */
const metaSeen = new WeakMap<object, Map<string, Promise<Map<string, string>>>>();

/** An account's metadata for the access checks of a request: read at most once per request and account. */
export function requestAccountMeta(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
): Promise<Map<string, string>> {
  let byAccount = metaSeen.get(ctx.raw);
  if (!byAccount) metaSeen.set(ctx.raw, (byAccount = new Map()));
  let meta = byAccount.get(account);
  if (!meta) byAccount.set(account, (meta = accountMeta(core, account)));
  return meta;
}

/** Per request, the access already worked out for each account. */
const seen = new WeakMap<object, Map<string, Promise<AccountAccess | null>>>();

/**
 * What the caller may do in an account: the owner rules (operator roles, reseller admin, temporary URL) or a reader
 * role first, then the account's ACL, whichever is higher. Looked up once per request and account.
 */
export function accountAccess(ctx: Ctx, core: ObjectCore, account: string): Promise<AccountAccess | null> {
  let byAccount = seen.get(ctx.raw);
  if (!byAccount) seen.set(ctx.raw, (byAccount = new Map()));
  let access = byAccount.get(account);
  if (!access) {
    access = (async () => {
      if (ownsAccount(ctx, account, "write")) return "owner";
      const base = ownsAccount(ctx, account, "read") ? "read" : null;
      if (!ctx.auth) return base;
      const meta = await requestAccountMeta(ctx, core, account);
      const stored = meta.get(ACCOUNT_ACL_KEY);
      const names = stored ? await namesAllowed(ctx, core.cfg, account, async () => meta) : false;
      const acl = granted(ctx, stored, names);
      return (RANK.get(acl) as number) > (RANK.get(base) as number) ? acl : base;
    })();
    byAccount.set(account, access);
  }
  return access;
}

/** Whether the caller's access to an account reaches `need`. */
export async function hasAccess(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  need: AccountAccess,
): Promise<boolean> {
  const access = await accountAccess(ctx, core, account);
  return (RANK.get(access) as number) >= (RANK.get(need) as number);
}

/**
 * Require `need` in an account: "read" (GET/HEAD anything), "write" (change containers and objects) or "owner"
 * (the account itself and privileged headers). 401 without a token, 403 with one.
 */
export async function authorizeAccount(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  need: AccountAccess,
): Promise<void> {
  if (await hasAccess(ctx, core, account, need)) return;
  throw swiftError(ctx.auth ? 403 : 401);
}
