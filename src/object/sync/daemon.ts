// The container sync daemon (Swift's container-sync): every interval it claims syncing containers with changes past
// their sync point (a lease row in the DB, so several processes share the work), pushes a bounded batch of each
// one's changes to its X-Container-Sync-To target — PUT with data, metadata and timestamp, or DELETE — and records
// how far it got. A change that fails stops that container's batch, to be retried from there next pass.
import { randomBytes } from "node:crypto";
import type { ObjectCore } from "../core.js";
import { getContainerById, type Container } from "../store/containers.js";
import { getObject, type StoredObject } from "../store/objects.js";
import {
  advanceSync,
  changesAfter,
  claimableContainers,
  claimContainer,
  SYNC_KEY,
  SYNC_TO,
  type SyncChange,
} from "../store/sync.js";
import { isSymlink, linkHeaders } from "../api/symlink.js";
import { pyQuote, syncSignature } from "./realms.js";
import { send } from "./push.js";
import { resolveSyncTo, type SyncTarget } from "./targets.js";
import { runPeriodically, type Periodic } from "../periodic.js";

/** Containers claimed per pass. */
const CONTAINERS_PER_PASS = 20;
/** Changes pushed per container per pass. */
const BATCH = 100;
/** How long a claim holds a container (Swift's container_time is 60 s); a pass stops pushing before it ends. */
const LEASE_MS = 60_000;
/** Timeout of one request to a target. */
const REQUEST_TIMEOUT_MS = 30_000;

/** What a pass did: changes pushed (or found in place already), and containers whose batch stopped on a failure. */
export interface SyncPass {
  pushed: number;
  failed: number;
}

/** One pass over the claimable containers; `self` is this cloud's listener (for realm clusters given as paths). */
export async function syncOnce(core: ObjectCore, owner: string, self: string): Promise<SyncPass> {
  const pass = { pushed: 0, failed: 0 };
  const now = Date.now();
  for (const id of await claimableContainers(core, now, CONTAINERS_PER_PASS)) {
    const start = Date.now();
    const point = await claimContainer(core, id, owner, start, start + LEASE_MS);
    if (point === null) continue;
    let reached = point;
    try {
      reached = await syncContainer(core, id, point, self, start + LEASE_MS / 2, pass);
    } catch (e) {
      pass.failed++;
      core.log.warn({ err: e, containerId: id }, "container sync failed");
    } finally {
      await advanceSync(core, id, owner, reached);
    }
  }
  return pass;
}

/** Push a batch of one container's changes; returns the new sync point. */
async function syncContainer(
  core: ObjectCore,
  id: number,
  point: number,
  self: string,
  deadline: number,
  pass: SyncPass,
): Promise<number> {
  const c = await getContainerById(core, id);
  const to = c?.meta.get(SYNC_TO);
  const key = c?.meta.get(SYNC_KEY);
  if (!c || !to || !key) return point;
  const sync = core.cfg.object.containerSync;
  if (!sync.allowFullUrls && !to.startsWith("//")) {
    pass.failed++;
    core.log.warn({ container: c.name }, "container sync: full URLs are not allowed");
    return point;
  }
  const target = resolveSyncTo(core.cfg, to, self);
  if ("error" in target) {
    pass.failed++;
    core.log.warn({ container: c.name, reason: target.error }, "container sync target refused");
    return point;
  }
  let reached = point;
  for (const ch of await changesAfter(core, id, point, BATCH)) {
    if (Date.now() > deadline) break;
    if (!(await pushChange(core, c, target, key, ch))) {
      pass.failed++;
      break;
    }
    pass.pushed++;
    reached = ch.id;
  }
  return reached;
}

/** The headers that let a sync request in: the realm's signature, or the container's key. */
function authHeaders(
  target: SyncTarget,
  method: string,
  name: string,
  timestamp: string,
  key: string,
): Record<string, string> {
  if (!target.realm) return { "x-container-sync-key": key };
  const nonce = randomBytes(16).toString("hex");
  const path = `${new URL(target.url).pathname}/${pyQuote(name)}`;
  const sig = syncSignature(method, path, timestamp, nonce, target.realm.key, key);
  return { "x-container-sync-auth": `${target.realm.name} ${nonce} ${sig}` };
}

/** Push one change; true when the target has it (or a later change will carry it), false to retry later. */
async function pushChange(
  core: ObjectCore,
  c: Container,
  target: SyncTarget,
  key: string,
  ch: SyncChange,
): Promise<boolean> {
  const url = `${target.url}/${pyQuote(ch.name)}`;
  const obj = await getObject(core, c.id, ch.name);
  if (ch.deleted) {
    // Written again since: that write's change comes later.
    if (obj && Number(obj.timestamp) > Number(ch.timestamp)) return true;
    const headers = {
      "x-timestamp": ch.timestamp,
      ...authHeaders(target, "DELETE", ch.name, ch.timestamp, key),
    };
    const r = await send("DELETE", url, headers, undefined, REQUEST_TIMEOUT_MS);
    return done(core, c, ch, r.status, [404, 409]);
  }
  // Gone or changed since: a later change carries what there is now (expired: the reaper's delete will).
  if (!obj || obj.timestamp !== ch.timestamp) return true;
  if (obj.deleteAt !== null && obj.deleteAt <= Date.now() / 1000) return true;
  // The link itself, not its target (an SLO's HEAD shows the manifest's own timestamp anyway).
  const head = await send(
    "HEAD",
    `${url}?symlink=get`,
    { "x-timestamp": obj.timestamp, ...authHeaders(target, "HEAD", ch.name, obj.timestamp, key) },
    undefined,
    REQUEST_TIMEOUT_MS,
  );
  const remote = head.headers["x-timestamp"];
  if (head.status < 300 && typeof remote === "string" && Number(remote) >= Number(obj.timestamp)) return true;
  const headers = {
    ...objectHeaders(obj),
    ...authHeaders(target, "PUT", ch.name, obj.timestamp, key),
  };
  const r = await send("PUT", url, headers, core.data.get(obj.dataKey), REQUEST_TIMEOUT_MS);
  return done(core, c, ch, r.status, [409]);
}

/** Whether a push's status counts as done (2xx or one of `ok`); logs the others. */
function done(core: ObjectCore, c: Container, ch: SyncChange, status: number, ok: number[]): boolean {
  if ((status >= 200 && status < 300) || ok.includes(status)) return true;
  core.log.info({ container: c.name, object: ch.name, status }, "container sync push refused");
  return false;
}

/**
 * The headers a synced PUT carries: the object's size, type, ETag, timestamp, expiry and visible metadata — for an
 * SLO its stored manifest with X-Static-Large-Object, for a DLO X-Object-Manifest, for a symlink its X-Symlink-Target
 * headers (as Swift's sync GETs with ?symlink=get through a pipeline without slo and dlo).
 */
function objectHeaders(o: StoredObject): Record<string, string> {
  const h: Record<string, string> = {
    "content-length": String(o.size),
    // Without an SLO's listed size (Swift's clean_content_type): the receiver works it out again.
    "content-type": o.contentType.replace(/;\s*swift_bytes=\d+$/, ""),
    etag: o.etag,
    "x-timestamp": o.timestamp,
  };
  for (const [k, v] of o.meta) if (!/^x-object-sysmeta-/.test(k)) h[k] = v;
  if (o.deleteAt !== null) h["x-delete-at"] = String(o.deleteAt);
  if (isSymlink(o)) Object.assign(h, linkHeaders(o));
  return h;
}

/** Run syncOnce every `intervalSeconds` until stopped; a failed pass is logged and retried next time. */
export function startSyncDaemon(core: ObjectCore, intervalSeconds: number, self: () => string): Periodic {
  const owner = randomBytes(12).toString("hex");
  return runPeriodically(core, intervalSeconds, "container sync pass", () => syncOnce(core, owner, self()));
}
