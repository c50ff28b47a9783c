// Symlinks (Swift's symlink middleware): a zero-byte object PUT with X-Symlink-Target (and X-Symlink-Target-Account)
// reads as its target (followed at most symloop_max times, with Content-Location naming it); with
// X-Symlink-Target-Etag it is a static link, checked against its target when made and when read.
// ?symlink=get reads the link itself; a POST to a link updates the link and answers 307 to the target.
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftText } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { getObject, type StoredObject } from "../store/objects.js";
import { authorizeContainer } from "./acl.js";
import { syncGranted } from "./container-sync.js";
import { header, param, type Ctx } from "./request.js";
import { isSlo, sloStat, splitSwiftBytes } from "./slo.js";

/** What /info reports. */
export const SYMLINK_INFO = { symloop_max: 2, static_links: true };

const TARGET = "x-object-sysmeta-symlink-target";
const ACCOUNT = "x-object-sysmeta-symlink-target-account";
const ETAG = "x-object-sysmeta-symlink-target-etag";
const BYTES = "x-object-sysmeta-symlink-target-bytes";
/** A static link to an SLO: that SLO's ETag and S3 ETag (carried into the link's listing row, as Swift). */
const SLO_ETAG = "x-object-sysmeta-symlink-target-slo-etag";
const S3_ETAG = "x-object-sysmeta-symlink-target-s3-etag";
const FORM = "X-Symlink-Target header must be of the form <container name>/<object name>";

/** Whether an object is a symlink. */
export const isSymlink = (o: StoredObject): boolean => o.meta.has(TARGET);

/** Whether a request reads or writes the link itself (?symlink=get). */
export const linkItself = (ctx: Ctx): boolean => param(ctx, "symlink") === "get";

/** A followed link: where it led and the object there. */
export interface Resolved {
  account: string;
  container: string;
  object: StoredObject;
  /** "/v1/<account>/<container>/<object>" of the last target, for Content-Location. */
  location: string;
}

/** Swift's %r of a string (Python's repr, single-quoted). */
const repr = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** The ETag a link compares against: an SLO's own, else the object's. */
const etagOf = (o: StoredObject): string => (isSlo(o) ? sloStat(o).etag : o.etag);

/** The live object at account/container/object, read as the caller; null when missing. */
async function lookup(ctx: Ctx, core: ObjectCore, account: string, container: string, name: string) {
  await authorizeContainer(ctx, core, account, container, "read");
  const c = await getContainer(core, account, container);
  const o = c && (await getObject(core, c.id, name));
  if (!o || (o.deleteAt !== null && o.deleteAt <= Date.now() / 1000)) return null;
  return o;
}

/** A link's target path (decoded) and account. */
function targetOf(o: StoredObject, account: string): { account: string; container: string; object: string } {
  const raw = decodeURIComponent(o.meta.get(TARGET) as string);
  const slash = raw.indexOf("/");
  const acct = o.meta.get(ACCOUNT);
  return {
    account: acct ? decodeURIComponent(acct) : account,
    container: raw.slice(0, slash),
    object: raw.slice(slash + 1),
  };
}

/**
 * Follow a link to a non-link object (static links only when `softToo` is false): 409 past symloop_max or on a
 * static link's ETag mismatch, 404 (with Content-Location) when the target is missing.
 */
export async function resolveSymlink(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  link: StoredObject,
  softToo = true,
): Promise<Resolved> {
  let cur = link;
  let at = { account, container: "", object: "" };
  let expect: string | undefined;
  let location = "";
  for (let hops = 0; isSymlink(cur) && (softToo || cur.meta.has(ETAG)); hops++) {
    const found = cur.meta.get(ETAG) ?? cur.etag;
    if (expect !== undefined && expect !== found)
      throw mismatch("X-Symlink-Target-Etag headers do not match", location);
    if (hops >= SYMLINK_INFO.symloop_max)
      throw swiftText(
        409,
        `Too many levels of symbolic links, maximum allowed is ${SYMLINK_INFO.symloop_max}`,
      );
    at = targetOf(cur, at.account);
    location = `/v1/${at.account}/${at.container}/${at.object}`;
    expect = cur.meta.get(ETAG);
    const next = await lookup(ctx, core, at.account, at.container, at.object);
    if (!next) throw new SwiftError(404, undefined, { "content-location": encodeURI(location) });
    cur = next;
  }
  if (expect !== undefined && etagOf(cur) !== expect)
    throw mismatch(
      `Object Etag ${repr(etagOf(cur))} does not match X-Symlink-Target-Etag header ${repr(expect)}`,
      location,
    );
  return { account: at.account, container: at.container, object: cur, location: encodeURI(location) };
}

/** A 409 explained in plain text, naming the link's target. */
const mismatch = (text: string, location: string): SwiftError =>
  new SwiftError(409, text, { "content-location": encodeURI(location) });

/**
 * The metadata a PUT with X-Symlink-Target stores (undefined when it is no link), after Swift's checks: a zero-byte
 * body, the target's form, not itself, a static link's target existing with that ETag. `contentType` is what the
 * link gets when the request names none.
 */
export async function symlinkPut(
  ctx: Ctx,
  core: ObjectCore,
  self: { account: string; container: string; object: string },
): Promise<{ meta: Map<string, string>; contentType?: string } | undefined> {
  const target = header(ctx, "x-symlink-target");
  if (target === undefined) return undefined;
  const length = header(ctx, "content-length");
  if (length !== undefined ? length !== "0" : /chunked/i.test(header(ctx, "transfer-encoding") ?? ""))
    throw swiftText(400, "Symlink requests require a zero byte body");
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    throw swiftText(412, FORM);
  }
  const m = /^([^/]+)\/(.+)$/s.exec(decoded);
  if (decoded.startsWith("/") || !m || Buffer.byteLength(decoded) > 2048) throw swiftText(412, FORM);
  const [, container, object] = m;
  const acctHeader = header(ctx, "x-symlink-target-account");
  let account = self.account;
  if (acctHeader !== undefined) {
    account = decodeURIComponent(acctHeader);
    if (!account) throw swiftText(412, "Account name cannot be empty");
    if (account.includes("/")) throw swiftText(412, "Account name cannot contain slashes");
  }
  if (account === self.account && container === self.container && object === self.object)
    throw swiftText(400, "Symlink cannot target itself");
  const meta = new Map([[TARGET, encodeURI(`${container}/${object}`)]]);
  if (acctHeader !== undefined) meta.set(ACCOUNT, encodeURI(account));
  const etag = header(ctx, "x-symlink-target-etag")?.replace(/^"(.*)"$/, "$1");
  let contentType: string | undefined = "application/symlink";
  if (etag && syncGranted(ctx, self.account, self.container)) {
    // Pushed by container sync (Swift's swift.symlink_override): the target may not be here yet; trust the link.
    const bytes = header(ctx, "x-symlink-target-bytes") ?? "";
    if (/[;"\\]/.test(etag) || !/^\d{1,20}$/.test(bytes))
      throw swiftText(400, "Bad X-Symlink-Target-Etag or X-Symlink-Target-Bytes");
    meta.set(ETAG, etag);
    meta.set(BYTES, bytes);
  } else if (etag) {
    if (/[;"\\]/.test(etag)) throw swiftText(400, "Bad X-Symlink-Target-Etag format");
    const location = encodeURI(`/v1/${account}/${container}/${object}`);
    const found = await lookup(ctx, core, account, container, object);
    if (!found) throw mismatch("X-Symlink-Target does not exist", decodeURI(location));
    const t = isSymlink(found) ? (await resolveSymlink(ctx, core, account, found, false)).object : found;
    if (etagOf(t) !== etag)
      throw mismatch(
        `Object Etag ${repr(etagOf(t))} does not match X-Symlink-Target-Etag header ${repr(etag)}`,
        decodeURI(location),
      );
    meta.set(ETAG, etag);
    meta.set(BYTES, String(isSlo(t) ? sloStat(t).size : t.size));
    const ct = splitSwiftBytes(t.contentType);
    if (isSlo(t)) meta.set(SLO_ETAG, sloStat(t).etag);
    if (ct.s3Etag !== undefined) meta.set(S3_ETAG, ct.s3Etag);
    contentType = ct.contentType;
  }
  return { meta, contentType };
}

/** Python's quote(s, safe="/"), as Swift's listings write a link's path. */
const pyQuote = (s: string): string =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");

/** A stored (URI-encoded) value decoded, or as stored when it does not decode. */
const decoded = (v: string): string => {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
};

/**
 * The fields a link's JSON listing row carries, as Swift's symlink middleware adds them: symlink_etag and
 * symlink_bytes (static links), symlink_path ("/v1/<account>/<container>/<object>"), and a static link to an SLO
 * that SLO's quoted slo_etag and s3_etag; none for other objects. `account` is the listed container's.
 */
export function symlinkListing(meta: Map<string, string>, account: string): Record<string, string | number> {
  const target = meta.get(TARGET);
  if (target === undefined) return {};
  const out: Record<string, string | number> = {};
  const etag = meta.get(ETAG);
  if (etag !== undefined) {
    out.symlink_etag = etag;
    out.symlink_bytes = Number(meta.get(BYTES) ?? 0);
  }
  const acct = meta.get(ACCOUNT);
  out.symlink_path = `/v1/${pyQuote(acct !== undefined ? decoded(acct) : account)}/${pyQuote(decoded(target))}`;
  const slo = meta.get(SLO_ETAG);
  if (slo !== undefined) out.slo_etag = `"${slo}"`;
  const s3 = meta.get(S3_ETAG);
  if (s3 !== undefined) out.s3_etag = `"${s3}"`;
  return out;
}

/** A link's own headers (?symlink=get): its target as X-Symlink-Target* headers. */
export function linkHeaders(o: StoredObject): Record<string, string> {
  const h: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined) h[k] = v;
  };
  put("x-symlink-target", o.meta.get(TARGET));
  put("x-symlink-target-account", o.meta.get(ACCOUNT));
  put("x-symlink-target-etag", o.meta.get(ETAG));
  put("x-symlink-target-bytes", o.meta.get(BYTES));
  return h;
}

/** Refuse X-Symlink-Target on a POST, as Swift. */
export function refuseSymlinkPost(ctx: Ctx): void {
  if (header(ctx, "x-symlink-target") !== undefined)
    throw swiftText(400, "A PUT request is required to set a symlink target");
}

/** After a POST to a link: 307 to its target, as Swift. */
export function postedToLink(o: StoredObject, account: string): Reply {
  const t = targetOf(o, account);
  const h: Record<string, string> = {
    location: encodeURI(`/v1/${t.account}/${t.container}/${t.object}`),
    "content-type": "text/plain; charset=UTF-8",
  };
  const etag = o.meta.get(ETAG);
  if (etag) h["x-symlink-target-etag"] = etag;
  return new Reply(
    307,
    "The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.",
    h,
  );
}
