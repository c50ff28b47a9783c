// Container sync realms (Swift's container-sync-realms.conf): named groups of clusters sharing a key; a realm's
// sync requests carry X-Container-Sync-Auth, an HMAC-SHA1 over the request with the realm's key and the
// container's own sync key. Names are case-insensitive (kept upper-case, as Swift does).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Config } from "../../shared/config.js";

/** One realm: its keys and its clusters' endpoints (upper-case cluster name -> URL or own-listener path). */
export interface Realm {
  key: string;
  key2?: string;
  clusters: Map<string, string>;
}

/** The configured realms by upper-case name. */
export function realmsOf(cfg: Config): Map<string, Realm> {
  const out = new Map<string, Realm>();
  for (const [name, r] of Object.entries(cfg.object.containerSync.realms))
    out.set(name.toUpperCase(), {
      key: r.key,
      key2: r.key2,
      clusters: new Map(Object.entries(r.clusters).map(([c, url]) => [c.toUpperCase(), url])),
    });
  return out;
}

/** /info's container_sync entry: realm -> { clusters: { cluster: {} } } for realms with clusters. */
export function realmsInfo(cfg: Config): Record<string, { clusters: Record<string, object> }> {
  const out: Record<string, { clusters: Record<string, object> }> = {};
  for (const [name, r] of realmsOf(cfg))
    if (r.clusters.size)
      out[name] = { clusters: Object.fromEntries([...r.clusters.keys()].map((c) => [c, {}])) };
  return out;
}

/** Swift's realm signature: HMAC-SHA1 hex over "METHOD\npath\nx-timestamp\nnonce\nuser key" with the realm key. */
export function syncSignature(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  realmKey: string,
  userKey: string,
): string {
  return createHmac("sha1", realmKey)
    .update(`${method}\n${path}\n${timestamp}\n${nonce}\n${userKey}`, "utf8")
    .digest("hex");
}

/** Compare two signatures in constant time. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Python's urllib.parse.quote (safe "/"): how Swift quotes the object name in a signed path. */
export function pyQuote(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
