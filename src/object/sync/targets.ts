// X-Container-Sync-To values (Swift's validate_sync_to): a full URL to a container on an allowed host, or a realm
// form "//realm/cluster/account/container" resolved through the configured realms.
import type { Config } from "../../shared/config.js";
import { realmsOf } from "./realms.js";

/** Where a container syncs to: the target container's URL, and the realm signing the requests (if any). */
export interface SyncTarget {
  /** The target container's URL (no trailing slash); a realm cluster given as a path is this cloud's own. */
  url: string;
  realm?: { name: string; key: string };
}

/**
 * Check a sync-to value as Swift's container server does; returns the error text (Swift's 400 body) or the target.
 * `self` is this cloud's own listener ("http://127.0.0.1:5000"), for realm clusters given as a path.
 */
export function resolveSyncTo(cfg: Config, value: string, self = ""): { error: string } | SyncTarget {
  const data = value.trim();
  if (data.startsWith("//")) {
    const parts = data.slice(2).split("/");
    if (parts.length !== 4 || parts.some((p) => p === ""))
      return { error: `Invalid X-Container-Sync-To format '${value}'` };
    const [realmName, cluster, account, container] = parts;
    const realm = realmsOf(cfg).get(realmName.toUpperCase());
    if (!realm) return { error: `No realm key for '${realmName}'` };
    const endpoint = realm.clusters.get(cluster.toUpperCase());
    if (endpoint === undefined) return { error: `No cluster endpoint for '${realmName}' '${cluster}'` };
    const base = endpoint.startsWith("/") ? `${self}${endpoint}` : endpoint;
    return {
      url: `${base.replace(/\/+$/, "")}/${account}/${container}`,
      realm: { name: realmName.toUpperCase(), key: realm.key },
    };
  }
  let u: URL;
  try {
    u = new URL(data);
  } catch {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(data)?.[1] ?? "";
    return { error: `Invalid scheme '${scheme}' in X-Container-Sync-To, must be "//", "http", or "https".` };
  }
  const scheme = u.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https")
    return { error: `Invalid scheme '${scheme}' in X-Container-Sync-To, must be "//", "http", or "https".` };
  const path = /^[a-z]+:\/\/[^/?#]*([^?#]*)/i.exec(data)?.[1] ?? "";
  if (!path) return { error: "Path required in X-Container-Sync-To" };
  if (u.search || u.hash || /[;?#]/.test(data.slice(data.indexOf(path))))
    return { error: "Params, queries, and fragments not allowed in X-Container-Sync-To" };
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!cfg.object.containerSync.allowedHosts.includes(host))
    return { error: `Invalid host '${host}' in X-Container-Sync-To` };
  return { url: data.replace(/\/+$/, "") };
}
