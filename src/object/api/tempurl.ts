// Temporary URLs (Swift's tempurl): an object request without a token is allowed when its query carries an HMAC
// (SHA-1, SHA-256 or SHA-512, hex or "<digest>:<base64>") over method, expiry and path — or a path prefix, and
// optionally a client IP range — made with one of the account's or the container's Temp-URL keys.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { ObjectCore } from "../core.js";
import { SwiftError } from "../errors.js";
import { accountMeta } from "../store/accounts.js";
import { getContainer } from "../store/containers.js";
import { param, type Ctx, type SwiftPath } from "./request.js";

/** What /info says of temporary URLs. */
export const TEMPURL_INFO = {
  methods: ["GET", "HEAD", "PUT", "POST", "DELETE"],
  incoming_remove_headers: ["x-timestamp"],
  incoming_allow_headers: [],
  outgoing_remove_headers: ["x-object-meta-*"],
  outgoing_allow_headers: ["x-object-meta-public-*"],
  allowed_digests: ["sha1", "sha256", "sha512"],
};

const HEX_DIGESTS: ReadonlyMap<number, string> = new Map([
  [40, "sha1"],
  [64, "sha256"],
  [128, "sha512"],
]);
const KEY_NAMES = ["temp-url-key", "temp-url-key-2"];
/** Metadata only the account's owners see: the keys (a reader who saw one could sign writes). */
export const OWNER_ONLY_ACCOUNT_META = KEY_NAMES.map((k) => `x-account-meta-${k}`);
export const OWNER_ONLY_CONTAINER_META = KEY_NAMES.map((k) => `x-container-meta-${k}`);

/** Requests a temporary URL let in: the account, and how the download is to be named. */
const granted = new WeakMap<FastifyRequest, { account: string; disposition: string | null }>();

const invalid = (): SwiftError => new SwiftError(401, "401 Unauthorized: Temp URL invalid\n");

/** The digest and raw signature of a temp_url_sig value, or null when it is neither form. */
export function parseSig(sig: string): { digest: string; mac: Buffer } | null {
  const colon = sig.indexOf(":");
  if (colon > 0) {
    const digest = sig.slice(0, colon);
    if (!TEMPURL_INFO.allowed_digests.includes(digest)) return null;
    const b64 = sig
      .slice(colon + 1)
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return null;
    return { digest, mac: Buffer.from(b64, "base64") };
  }
  const digest = HEX_DIGESTS.get(sig.length);
  if (!digest || !/^[0-9a-fA-F]+$/.test(sig)) return null;
  return { digest, mac: Buffer.from(sig, "hex") };
}

/** Unix seconds of a temp_url_expires value (integer, or ISO 8601 UTC as Swift accepts), or null. */
function parseExpires(v: string): number | null {
  if (/^\d{1,12}$/.test(v)) return Number(v);
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v)) return Date.parse(v) / 1000;
  return null;
}

/** Whether an IPv4 address is inside a CIDR range or equals an address. */
function inRange(ip: string, range: string): boolean {
  const v4 = (s: string) => {
    const p = s.replace(/^::ffff:/, "").split(".");
    if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return null;
    return p.reduce((n, x) => n * 256 + Number(x), 0);
  };
  const [net, bitsRaw] = range.split("/");
  const a = v4(ip);
  const b = v4(net);
  if (a === null || b === null) return ip === range;
  const bits = bitsRaw === undefined ? 32 : Number(bitsRaw);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}

/**
 * The paths a signature may cover: Swift's own (/v1/...), and the same below the mount point of the service
 * (/object-store/v1/...), which is what clients that sign the endpoint URL's path (tempest) sign.
 */
export function signedPaths(ctx: Ctx, path: string): string[] {
  const raw = ctx.raw.url.split("?")[0];
  const own = ctx.url.split("?")[0];
  const mount = raw.endsWith(own) ? raw.slice(0, raw.length - own.length) : "";
  return mount ? [path, `${mount}${path}`] : [path];
}

/** The Temp-URL keys of an account and one of its containers (0 to 4). */
export async function tempUrlKeys(core: ObjectCore, account: string, container: string): Promise<string[]> {
  const keys: string[] = [];
  const acctMeta = await accountMeta(core, account);
  const cont = await getContainer(core, account, container);
  for (const k of KEY_NAMES) {
    const a = acctMeta.get(`x-account-meta-${k}`);
    if (a) keys.push(a);
    const c = cont?.meta.get(`x-container-meta-${k}`);
    if (c) keys.push(c);
  }
  return keys;
}

/**
 * Check a request's temporary URL (when its query has temp_url_sig): 401 as Swift when it is invalid or expired;
 * once valid the request is let into the path's account by ownsAccount().
 */
export async function checkTempUrl(ctx: Ctx, core: ObjectCore, path: SwiftPath): Promise<void> {
  const sigRaw = param(ctx, "temp_url_sig");
  if (sigRaw === undefined) return;
  if (path.container === undefined || path.object === undefined) throw invalid();
  const expires = parseExpires(param(ctx, "temp_url_expires") ?? "");
  const sig = parseSig(sigRaw);
  if (expires === null || !sig || expires < Date.now() / 1000) throw invalid();
  if (!TEMPURL_INFO.methods.includes(ctx.method)) throw invalid();
  const prefix = param(ctx, "temp_url_prefix");
  const objectPath = `/v1/${path.account}/${path.container}/${path.object}`;
  if (prefix !== undefined && !path.object.startsWith(prefix)) throw invalid();
  const signedPath =
    prefix !== undefined ? `prefix:/v1/${path.account}/${path.container}/${prefix}` : objectPath;
  const ipRange = param(ctx, "temp_url_ip_range");
  if (ipRange !== undefined && !inRange(ctx.raw.ip, ipRange)) throw invalid();
  const keys = await tempUrlKeys(core, path.account, path.container);
  // A HEAD may use a URL signed for GET, HEAD or PUT, as Swift allows.
  const methods = ctx.method === "HEAD" ? ["HEAD", "GET", "PUT"] : [ctx.method];
  const expiresText = param(ctx, "temp_url_expires") as string;
  const ok = keys.some((key) =>
    methods.some((m) =>
      signedPaths(ctx, signedPath).some((p) => {
        const body = `${ipRange !== undefined ? `ip=${ipRange}\n` : ""}${m}\n${expiresText}\n${p}`;
        const mac = createHmac(sig.digest, key).update(body).digest();
        return mac.length === sig.mac.length && timingSafeEqual(mac, sig.mac);
      }),
    ),
  );
  if (!ok) throw invalid();
  const filename = param(ctx, "filename");
  const inline = param(ctx, "inline") !== undefined;
  const base = filename ?? path.object.slice(path.object.lastIndexOf("/") + 1);
  const quoted = base.replace(/["\\\r\n]/g, "_");
  const disposition =
    ctx.method !== "GET"
      ? null
      : inline
        ? filename !== undefined
          ? `inline; filename="${quoted}"; filename*=UTF-8''${encodeURIComponent(base)}`
          : "inline"
        : `attachment; filename="${quoted}"; filename*=UTF-8''${encodeURIComponent(base)}`;
  granted.set(ctx.raw, { account: path.account, disposition });
}

/** The account a temporary URL let this request into, if any. */
export function tempUrlAccount(ctx: Ctx): string | undefined {
  return granted.get(ctx.raw)?.account;
}

/** The Content-Disposition a temporary URL's GET answers with, if any. */
export function tempUrlDisposition(ctx: Ctx): string | null {
  return granted.get(ctx.raw)?.disposition ?? null;
}

/** Drop user metadata from a temporary URL's answer, but x-object-meta-public-* (outgoing_remove_headers). */
export function tempUrlHeaders(ctx: Ctx, headers: Record<string, string>): Record<string, string> {
  if (!granted.has(ctx.raw)) return headers;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (!k.startsWith("x-object-meta-") || k.startsWith("x-object-meta-public-")) out[k] = v;
  const d = tempUrlDisposition(ctx);
  if (d) out["content-disposition"] = d;
  return out;
}
