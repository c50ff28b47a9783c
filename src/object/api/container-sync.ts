// Container sync, the API side (Swift's container_sync middleware and the container server's checks): the
// X-Container-Sync-To and X-Container-Sync-Key a container PUT/POST sets, and the requests another container's
// sync sends here — let in without a token when they carry this container's key (X-Container-Sync-Key with an
// X-Timestamp, keystoneauth's rule) or a valid realm signature (X-Container-Sync-Auth). Such a PUT may carry an SLO
// manifest in its stored form (slo-sync.ts) or a static link whose target is not here yet (symlink.ts), as Swift.
import type { FastifyRequest } from "fastify";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftText } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { SYNC_KEY, SYNC_TO } from "../store/sync.js";
import { pyQuote, realmsOf, sameSignature, syncSignature } from "../sync/realms.js";
import { resolveSyncTo } from "../sync/targets.js";
import { normalize } from "../timestamp.js";
import { header, type Ctx, type SwiftPath } from "./request.js";
import { signedPaths } from "./tempurl.js";

/** The container headers only the account's owners set and see (Swift's swift_owner_headers). */
export const SYNC_HEADERS = [SYNC_TO, SYNC_KEY] as const;

/** Swift's refusal of a full URL when allow_full_urls is off. */
const FULL_URLS_REFUSED =
  "Full URLs are not allowed for X-Container-Sync-To values. Only realm values of the format " +
  "//realm/cluster/account/container are allowed.\n";

/** The sync settings a container PUT/POST asks for ("" removes), checked as Swift does (400 with its reason). */
export function syncChanges(ctx: Ctx, core: ObjectCore): Map<string, string> {
  const out = new Map<string, string>();
  const to = header(ctx, SYNC_TO);
  if (to !== undefined && to.trim() !== "") {
    if (!core.cfg.object.containerSync.allowFullUrls && !to.startsWith("//"))
      throw swiftText(400, FULL_URLS_REFUSED);
    const target = resolveSyncTo(core.cfg, to);
    if ("error" in target) throw swiftText(400, target.error);
    out.set(SYNC_TO, to.trim());
  } else if (to !== undefined) out.set(SYNC_TO, "");
  const key = header(ctx, SYNC_KEY);
  if (key !== undefined) out.set(SYNC_KEY, key);
  for (const h of SYNC_HEADERS) if (ctx.headers[`x-remove-${h.slice(2)}`] !== undefined) out.set(h, "");
  return out;
}

/** Requests a sync key or realm signature let in: the account and container they may read and write objects of. */
const granted = new WeakMap<FastifyRequest, { account: string; container: string }>();

/** Swift's refusal of an X-Container-Sync-Auth that does not verify. */
const badAuth = () =>
  new SwiftError(401, "X-Container-Sync-Auth header not valid; contact cluster operator for support.", {
    "www-authenticate": 'SwiftContainerSync realm="unknown"',
  });

/**
 * Check a container sync request to an object (before the handler): a valid realm signature or a matching sync
 * key lets it into that container; an invalid signature is 401 at once; a wrong key leaves the request to the
 * usual checks (so it is 401 without a token).
 */
export async function checkSyncRequest(ctx: Ctx, core: ObjectCore, path: SwiftPath): Promise<void> {
  if (path.container === undefined || path.object === undefined) return;
  const auth = header(ctx, "x-container-sync-auth");
  const key = header(ctx, "x-container-sync-key");
  if (auth === undefined && key === undefined) return;
  const c = await getContainer(core, path.account, path.container);
  const userKey = c?.meta.get(SYNC_KEY);
  if (auth !== undefined) {
    const parts = auth.trim().split(/\s+/);
    if (parts.length !== 3 || !userKey) throw badAuth();
    const [realmName, nonce, sig] = parts;
    const realm = realmsOf(core.cfg).get(realmName.toUpperCase());
    if (!realm) throw badAuth();
    const ts = header(ctx, "x-timestamp") ?? "0";
    const ok = signedForms(ctx).some((p) =>
      [realm.key, realm.key2].some(
        (k) => k !== undefined && sameSignature(sig, syncSignature(ctx.method, p, ts, nonce, k, userKey)),
      ),
    );
    if (!ok) throw badAuth();
    granted.set(ctx.raw, { account: path.account, container: path.container });
    return;
  }
  if (userKey && key !== undefined && header(ctx, "x-timestamp") !== undefined && sameSignature(key, userKey))
    granted.set(ctx.raw, { account: path.account, container: path.container });
}

/** The paths a realm signature may cover: as sent, and as Swift quotes it, each with and without the mount point. */
function signedForms(ctx: Ctx): string[] {
  const out = new Set<string>();
  for (const p of signedPaths(ctx, ctx.url.split("?")[0])) {
    out.add(p);
    try {
      out.add(pyQuote(decodeURIComponent(p)));
    } catch {
      // Not valid percent-encoding: only the path as sent can match.
    }
  }
  return [...out];
}

/** Whether a sync request was let into this container. */
export function syncGranted(ctx: Ctx, account: string, container: string): boolean {
  const g = granted.get(ctx.raw);
  return g !== undefined && g.account === account && g.container === container;
}

/** The X-Timestamp a sync request carries (kept as the object's timestamp), or undefined for other requests. */
export function syncTimestamp(ctx: Ctx): string | undefined {
  if (!granted.has(ctx.raw)) return undefined;
  const raw = header(ctx, "x-timestamp");
  if (raw === undefined) return undefined;
  const ts = normalize(raw);
  if (ts === null) throw swiftText(400, `X-Timestamp should be a UNIX timestamp float value; was '${raw}'`);
  return ts;
}
