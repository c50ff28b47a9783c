import type { Readable } from "node:stream";
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { getContainer, type Container } from "../store/containers.js";
import { getObject, removeObject, updateObjectMeta, type StoredObject } from "../store/objects.js";
import { httpDate, newTimestamp } from "../timestamp.js";
import { empty } from "./common.js";
import { checkConditions, multipartRanges, parseRanges } from "./conditions.js";
import { guessContentType } from "./content-type.js";
import { checkManifest, readDlo } from "./dlo.js";
import { deleteAtOf } from "./expiry.js";
import { applyMeta, checkMeta, metaChanges, metaHeaders } from "./metadata.js";
import { authorizeContainer } from "./acl.js";
import { header, param, swiftPath, type Ctx } from "./request.js";
import { authorizeAccount } from "./account-acl.js";
import { syncGranted, syncTimestamp } from "./container-sync.js";
import { tempUrlHeaders } from "./tempurl.js";
import { OlderThanStored, reclaim, writeObject, type WriteSpec } from "./write.js";
import { checkQuota } from "./quotas.js";
import { checkAccountQuota } from "./account-quotas.js";
import {
  isSlo,
  manifestHeaders,
  readRawManifest,
  readSlo,
  sloStat,
  SLO_ETAG,
  SLO_FLAG,
  SLO_SIZE,
  splitSwiftBytes,
  segmentLookup,
  wholeSlo,
} from "./slo.js";
import {
  readSloInput,
  sloCreated,
  SloProblems,
  sloProblemsReply,
  validateSlo,
  type SloPut,
} from "./slo-put.js";
import { heartbeatOn, heartbeatReply } from "./slo-heartbeat.js";
import { extractArchive } from "./extract.js";
import { syncedManifest } from "./slo-sync.js";
import { deleteSlo } from "./slo-delete.js";
import { asyncDeleteOn, expireSegments } from "./slo-async-delete.js";
import { archiveCurrent, versionedDelete, withVersion } from "./versioning.js";
import { VERSION_ID, versionSource } from "./object-versioning.js";
import {
  isSymlink,
  linkHeaders,
  linkItself,
  postedToLink,
  refuseSymlinkPost,
  resolveSymlink,
  symlinkPut,
} from "./symlink.js";

/** Object headers Swift keeps besides user metadata, and the most bytes one may hold. */
const KEPT = ["content-disposition", "content-encoding", "x-object-manifest"];
const MAX_KEPT_VALUE = 1024;
const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);

const nowSeconds = (): number => Date.now() / 1000;
const expired = (o: StoredObject): boolean => o.deleteAt !== null && o.deleteAt <= nowSeconds();

/** The container, 404 when missing. */
async function loadContainer(core: ObjectCore, account: string, name: string): Promise<Container> {
  const c = await getContainer(core, account, name);
  if (!c) throw swiftError(404);
  return c;
}

/** A live (not expired) object, 404 otherwise. */
async function loadObject(core: ObjectCore, c: Container, name: string): Promise<StoredObject> {
  const o = await getObject(core, c.id, name);
  if (!o || expired(o)) throw swiftError(404);
  return o;
}

/** The headers an object is shown with. */
function objectHeaders(o: StoredObject): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": splitSwiftBytes(o.contentType).contentType,
    etag: o.etag,
    "last-modified": httpDate(o.timestamp),
    "x-timestamp": o.timestamp,
    "accept-ranges": "bytes",
    ...metaHeaders(o.meta),
  };
  if (o.deleteAt !== null) h["x-delete-at"] = String(o.deleteAt);
  const version = o.meta.get(VERSION_ID);
  if (version !== undefined) h["x-object-version-id"] = version;
  return h;
}

/** The metadata a write asks for: user metadata and the kept headers (Content-Disposition, Content-Encoding). */
function requestMeta(ctx: Ctx, core: ObjectCore): Map<string, string> {
  const changes = metaChanges(ctx, "object");
  checkMeta(changes, "object", core.limits);
  for (const k of KEPT) {
    const v = header(ctx, k);
    if (v === undefined) continue;
    if (Buffer.byteLength(v) > MAX_KEPT_VALUE + 512) throw swiftText(400, `Header value too long: ${k}`);
    changes.set(k, k === "x-object-manifest" ? checkManifest(v) : v);
  }
  return changes;
}

/** Objects (or ranges) up to this size are read in one buffer when the driver can. */
const SMALL_READ = 64 * 1024;

/** An object's data, opened (a missing file is known before the status line): a buffer when small, else a stream. */
async function openData(
  core: ObjectCore,
  o: StoredObject,
  range?: { start: number; end: number },
): Promise<Readable | Buffer | null> {
  if (o.inline) return range ? o.inline.subarray(range.start, range.end + 1) : o.inline;
  const length = range ? range.end - range.start + 1 : o.size;
  // The whole object is asked for as a range too: its size is known, so the driver need not look it up.
  if (core.data.getBuffer && length <= SMALL_READ)
    return core.data.getBuffer(o.dataKey, range ?? { start: 0, end: o.size - 1 }).catch(() => null);
  const s = core.data.get(o.dataKey, range);
  return new Promise<Readable | Buffer | null>((resolve) => {
    if (!("pending" in s) || !(s as { pending: boolean }).pending) return resolve(s);
    const onError = () => {
      s.destroy();
      resolve(null);
    };
    s.once("error", onError);
    s.once("ready", () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

/**
 * GET/HEAD an object: conditions, then the whole data, one range, or several as multipart/byteranges. `at` (an
 * archived version, the caller already authorized) reads another row than the request's path names.
 */
export async function readObject(
  ctx: Ctx,
  core: ObjectCore,
  at?: { container: Container; name: string },
): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  if (!at) await authorizeContainer(ctx, core, account, container as string, "read");
  const c = at?.container ?? (await loadContainer(core, account, container as string));
  // A replaced object's data may vanish between the lookup and the open: look again once.
  for (let attempt = 0; ; attempt++) {
    let o = await loadObject(core, c, at?.name ?? (object as string));
    // A symlink reads as its target (in the target's account), unless ?symlink=get asks for the link.
    let acct = account;
    let extra: Record<string, string> = {};
    if (isSymlink(o) && linkItself(ctx)) extra = linkHeaders(o);
    else if (isSymlink(o)) {
      const r = await resolveSymlink(ctx, core, account, o);
      ({ object: o, account: acct } = r);
      extra = { "content-location": r.location };
    }
    let headers = { ...tempUrlHeaders(ctx, objectHeaders(o)), ...extra };
    if (isSlo(o)) {
      if (param(ctx, "multipart-manifest") !== "get") return readSlo(ctx, core, acct, o, headers);
      if (param(ctx, "format") === "raw") return readRawManifest(ctx, core, o, headers);
      headers = manifestHeaders(headers);
    }
    if (o.meta.has("x-object-manifest") && param(ctx, "multipart-manifest") !== "get")
      return readDlo(ctx, core, acct, o, headers);
    checkConditions(ctx, o.etag, o.timestamp);
    if (ctx.method === "HEAD")
      return new Reply(200, undefined, { ...headers, "content-length": String(o.size) });
    const ranges = parseRanges(header(ctx, "range"), o.size);
    if (ranges === null) {
      const body = await openData(core, o);
      if (!body) {
        if (attempt === 0) continue;
        throw swiftError(404);
      }
      return new Reply(200, body, { ...headers, "content-length": String(o.size) });
    }
    if (ranges.length === 1) {
      const r = ranges[0];
      const body = await openData(core, o, r);
      if (!body) {
        if (attempt === 0) continue;
        throw swiftError(404);
      }
      return new Reply(206, body, {
        ...headers,
        "content-range": `bytes ${r.start}-${r.end}/${o.size}`,
        "content-length": String(r.end - r.start + 1),
      });
    }
    const mp = multipartRanges(ranges, o.size, o.contentType, (r) => core.data.get(o.dataKey, r));
    return new Reply(206, mp.body, {
      ...headers,
      "content-type": `multipart/byteranges;boundary=${mp.boundary}`,
      "content-length": String(mp.length),
    });
  }
}

/** The Content-Type of a new object: the request's, else guessed from the name (always with X-Detect-Content-Type). */
function contentTypeOf(ctx: Ctx, name: string, fallback?: string): string {
  const given = header(ctx, "content-type");
  const detect = TRUE.has((header(ctx, "x-detect-content-type") ?? "").toLowerCase());
  if (detect) return guessContentType(name);
  if (given !== undefined && given !== "") {
    if (Buffer.byteLength(given) > 256) throw swiftText(400, "Content-Type too long");
    return given;
  }
  return fallback ?? guessContentType(name);
}

/** Swift's PUT preconditions: If-None-Match (only "*" or ETags) against the current version. */
async function checkPutConditions(ctx: Ctx, core: ObjectCore, c: Container, name: string): Promise<void> {
  const inm = header(ctx, "if-none-match");
  if (inm === undefined) return;
  const tags = inm.split(",").map((t) => t.trim().replace(/^"(.*)"$/, "$1"));
  const current = await getObject(core, c.id, name);
  const live = current && !expired(current) ? current : undefined;
  if (tags.includes("*")) {
    if (live) throw swiftError(412);
    return;
  }
  if (live && tags.includes(live.etag)) throw swiftError(412);
}

/** The source of a copy: "/container/object" (X-Copy-From) or "container/object", URL-decoded. */
function copySource(value: string): { container: string; object: string } {
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    throw swiftText(412, "Invalid UTF8 or contains NULL");
  }
  const m = /^\/?([^/]+)\/(.+)$/s.exec(v);
  if (!m) throw swiftText(412, "X-Copy-From header must be of the form <container name>/<object name>");
  return { container: m[1], object: m[2] };
}

/** Copy an object's data and (unless X-Fresh-Metadata) metadata to a new name, then answer 201 as Swift. */
async function copy(
  ctx: Ctx,
  core: ObjectCore,
  source: { account: string; container: string; object: string },
  dst: { account: string; container: string; object: string },
): Promise<Reply> {
  let src = source;
  await authorizeContainer(ctx, core, src.account, src.container, "read");
  await authorizeContainer(ctx, core, dst.account, dst.container, "write");
  const sc = await loadContainer(core, src.account, src.container);
  // `?version-id=` on a copy names the source's version (Swift's copy reads the source with it).
  let so =
    param(ctx, "version-id") === undefined
      ? await loadObject(core, sc, src.object)
      : await versionSource(ctx, core, sc, src.object);
  const srcVersion = so.meta.get(VERSION_ID);
  // A copy of a symlink copies its target, unless ?symlink=get asks for the link itself.
  if (isSymlink(so) && !linkItself(ctx)) {
    const r = await resolveSymlink(ctx, core, src.account, so);
    so = r.object;
    src = { ...src, account: r.account };
  }
  const dc = await loadContainer(core, dst.account, dst.container);
  checkQuota(dc, so.size);
  await checkAccountQuota(core, dst.account, so.size);
  const version = await archiveCurrent(core, dst.account, dc, dst.object);
  const fresh = TRUE.has((header(ctx, "x-fresh-metadata") ?? "").toLowerCase());
  const changes = requestMeta(ctx, core);
  // An SLO copies as its concatenated data (a plain object), unless the manifest itself is asked for.
  const flatten = isSlo(so) && param(ctx, "multipart-manifest") !== "get";
  const base = new Map(fresh ? [] : [...so.meta].filter(([k]) => !flatten || !SLO_KEYS.has(k)));
  if (fresh && isSlo(so) && !flatten) for (const k of SLO_KEYS) base.set(k, so.meta.get(k) as string);
  const meta = withVersion(applyMeta(base, changes, "object", core.limits), version);
  const deleteAt = deleteAtOf(ctx) ?? null;
  const given = header(ctx, "content-type");
  const kept = flatten ? splitSwiftBytes(so.contentType).contentType : so.contentType;
  let contentType = given !== undefined && given !== "" ? contentTypeOf(ctx, dst.object) : kept;
  if (isSlo(so) && !flatten) contentType = withSwiftBytes(splitSwiftBytes(contentType).contentType, so);
  const o = await writeObject(core, dc, dst.object, {
    source: flatten ? await wholeSlo(ctx, core, src.account, so) : core.data.get(so.dataKey),
    length: flatten ? sloStat(so).size : so.size,
    contentType,
    meta,
    deleteAt,
  });
  return empty(201, {
    etag: o.etag,
    "last-modified": httpDate(o.timestamp),
    "x-copied-from": encodeURI(`${src.container}/${src.object}`),
    "x-copied-from-last-modified": httpDate(so.timestamp),
    "x-copied-from-account": encodeURI(src.account),
    ...(srcVersion !== undefined ? { "x-copied-from-version-id": srcVersion } : {}),
    ...(version !== undefined ? { "x-object-version-id": version } : {}),
    // Swift's copy answers with the new object's metadata too.
    ...metaHeaders(o.meta),
    ...(o.deleteAt !== null ? { "x-delete-at": String(o.deleteAt) } : {}),
  });
}

/** The metadata keys that make an object an SLO. */
const SLO_KEYS = new Set([SLO_FLAG, SLO_ETAG, SLO_SIZE]);

/** An SLO manifest's Content-Type as stored: with Swift's `;swift_bytes=<total>` (what listings show as size). */
function withSwiftBytes(contentType: string, slo: StoredObject | number): string {
  const size = typeof slo === "number" ? slo : sloStat(slo).size;
  const ct = `${contentType};swift_bytes=${size}`;
  if (Buffer.byteLength(ct) > 256) throw swiftText(400, "Content-Type too long");
  return ct;
}

/** Refuse X-Static-Large-Object outside a manifest PUT (Swift reserves it). */
function refuseSloHeader(ctx: Ctx): void {
  if (header(ctx, SLO_FLAG) !== undefined)
    throw swiftText(
      400,
      "X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.",
    );
}

/**
 * PUT ?multipart-manifest=put: check the manifest, validate its segments and store it as an SLO; 201 with the SLO's
 * ETag, or with heartbeat=on 202 at once and the outcome in the body (`slo-heartbeat.ts`). A manifest pushed by
 * container sync (`synced`: its origin's timestamp) is stored as sent, segments unchecked, as Swift.
 */
async function putSlo(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  container: string,
  name: string,
  synced?: string,
): Promise<Reply> {
  const at = { account, container, name };
  if (synced !== undefined) return storeSlo(ctx, core, at, await syncedManifest(ctx), synced);
  const input = await readSloInput(ctx, { container, object: name });
  const store = async (beat?: () => void) =>
    storeSlo(
      ctx,
      core,
      at,
      await validateSlo(ctx, input, segmentLookup(ctx, core, account), core.cfg.object.slo.concurrency, beat),
      undefined,
      beat,
    );
  if (heartbeatOn(ctx)) return heartbeatReply(ctx, core.log, core.cfg.object.slo.yieldFrequency, store);
  try {
    return await store();
  } catch (e) {
    if (e instanceof SloProblems) return sloProblemsReply(ctx, e.problems);
    throw e;
  }
}

/** Write a checked manifest (what Swift does after validating its segments, or a synced one as sent). */
async function storeSlo(
  ctx: Ctx,
  core: ObjectCore,
  at: { account: string; container: string; name: string },
  prepared: SloPut,
  synced?: string,
  beat?: () => void,
): Promise<Reply> {
  const { account, container, name } = at;
  const c = await loadContainer(core, account, container);
  const meta = applyMeta(prepared.meta, requestMeta(ctx, core), "object", core.limits);
  const deleteAt = deleteAtOf(ctx) ?? null;
  checkQuota(c, prepared.body.length);
  await checkAccountQuota(core, account, prepared.body.length);
  await checkPutConditions(ctx, core, c, name);
  beat?.();
  const version = await archiveCurrent(core, account, c, name);
  // A synced manifest's type may carry its origin's swift_bytes (Swift's sender strips it, but be sure).
  const type =
    synced !== undefined
      ? contentTypeOf(ctx, name).replace(/;\s*swift_bytes=\d+$/, "")
      : contentTypeOf(ctx, name);
  const o = await writeOr202(core, c, name, {
    source: (async function* () {
      yield prepared.body;
    })(),
    length: prepared.body.length,
    etag: synced !== undefined ? header(ctx, "etag") : undefined,
    contentType: withSwiftBytes(type, prepared.size),
    meta: withVersion(meta, version),
    deleteAt,
    timestamp: synced,
    synced: synced !== undefined,
  });
  if (o instanceof Reply) return o;
  const created =
    synced !== undefined
      ? empty(201, { etag: o.etag, "last-modified": httpDate(o.timestamp) })
      : sloCreated(prepared.sloEtag, o.timestamp);
  if (version !== undefined) created.headers["x-object-version-id"] = version;
  return created;
}

/** writeObject, answering a synced write that lost to a newer stored version as Swift does (202). */
async function writeOr202(
  core: ObjectCore,
  c: Container,
  name: string,
  w: WriteSpec,
): Promise<StoredObject | Reply> {
  try {
    return await writeObject(core, c, name, w);
  } catch (e) {
    if (e instanceof OlderThanStored) return empty(202);
    throw e;
  }
}

/** PUT an object: stream its data in (chunked or with a length), or copy it with X-Copy-From. */
export async function putObject(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  // An archive extracted under a path in a container (Swift's bulk middleware runs before anything else, auth
  // included: the extraction authorizes what it writes).
  const archive = param(ctx, "extract-archive");
  if (archive !== undefined)
    return extractArchive(ctx, core, account, archive, [container, object].filter(Boolean).join("/"));
  await authorizeContainer(ctx, core, account, container as string, "write");
  const name = object as string;
  if (param(ctx, "multipart-manifest") === "put")
    return putSlo(ctx, core, account, container as string, name);
  const synced = syncTimestamp(ctx);
  if (
    synced !== undefined &&
    header(ctx, SLO_FLAG) !== undefined &&
    syncGranted(ctx, account, container as string)
  )
    return putSlo(ctx, core, account, container as string, name, synced);
  refuseSloHeader(ctx);
  const copyFrom = header(ctx, "x-copy-from");
  const lengthRaw = header(ctx, "content-length");
  const chunked = /chunked/i.test(header(ctx, "transfer-encoding") ?? "");
  if (copyFrom !== undefined) {
    if (chunked || (lengthRaw !== undefined && lengthRaw !== "0"))
      throw swiftText(400, "Copy requests require a zero byte body");
    const src = copySource(copyFrom);
    const srcAccount = header(ctx, "x-copy-from-account") ?? account;
    return copy(
      ctx,
      core,
      { account: srcAccount, ...src },
      { account, container: container as string, object: name },
    );
  }
  const link = await symlinkPut(ctx, core, { account, container: container as string, object: name });
  if (lengthRaw === undefined && !chunked && !link) throw swiftError(411);
  let length: number | undefined;
  if (lengthRaw !== undefined && !chunked) {
    if (!/^\d+$/.test(lengthRaw)) throw swiftText(400, "Invalid Content-Length");
    length = Number(lengthRaw);
    if (length > core.limits.max_file_size) throw swiftError(413);
  }
  const etag = header(ctx, "etag");
  const meta = applyMeta(new Map(link?.meta), requestMeta(ctx, core), "object", core.limits);
  const deleteAt = deleteAtOf(ctx) ?? null;
  const contentType = contentTypeOf(ctx, name, link?.contentType);
  const c = await loadContainer(core, account, container as string);
  checkQuota(c, length);
  await checkAccountQuota(core, account, length);
  await checkPutConditions(ctx, core, c, name);
  const version = await archiveCurrent(core, account, c, name);
  const body = link ? undefined : (ctx.body as AsyncIterable<Uint8Array> | undefined);
  const o = await writeOr202(core, c, name, {
    source: body ?? (async function* () {})(),
    length,
    etag,
    contentType,
    meta: withVersion(meta, version),
    deleteAt,
    timestamp: synced,
    synced: synced !== undefined,
  });
  if (o instanceof Reply) return o;
  const done = { etag: o.etag, "last-modified": httpDate(o.timestamp) };
  return empty(201, version === undefined ? done : { ...done, "x-object-version-id": version });
}

/** COPY an object to the Destination header's container/object (and Destination-Account's account). */
export async function copyObject(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  refuseSloHeader(ctx);
  const dstAccount = header(ctx, "destination-account") ?? account;
  await authorizeContainer(ctx, core, account, container as string, "read");
  const dest = header(ctx, "destination");
  if (dest === undefined) {
    // Whether the destination may be written is known only from it: without one, only writers learn of the 412.
    await authorizeAccount(ctx, core, dstAccount, "write");
    throw swiftText(412, "Destination header required");
  }
  const to = copySource(dest);
  return copy(
    ctx,
    core,
    { account, container: container as string, object: object as string },
    { account: dstAccount, ...to },
  );
}

/** POST an object: replace its user metadata (Swift's fast-POST), Content-Type and expiry; 202. */
export async function postObject(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  await authorizeContainer(ctx, core, account, container as string, "write");
  refuseSloHeader(ctx);
  refuseSymlinkPost(ctx);
  const changes = requestMeta(ctx, core);
  const c = await loadContainer(core, account, container as string);
  const o = await loadObject(core, c, object as string);
  // POST replaces the user metadata; removal headers just leave a name out.
  const kept = new Map([...o.meta].filter(([k]) => !k.startsWith("x-object-meta-")));
  const meta = applyMeta(kept, changes, "object", core.limits);
  let deleteAt = deleteAtOf(ctx) ?? o.deleteAt;
  if (header(ctx, "x-remove-delete-at") !== undefined) deleteAt = null;
  const given = header(ctx, "content-type");
  let contentType = given !== undefined && given !== "" ? contentTypeOf(ctx, o.name) : o.contentType;
  if (isSlo(o) && contentType !== o.contentType) contentType = withSwiftBytes(contentType, o);
  const ok = await updateObjectMeta(core, c.id, o.name, {
    meta,
    contentType,
    deleteAt,
    timestamp: newTimestamp(),
  });
  if (!ok) throw swiftError(404);
  if (isSymlink(o)) return postedToLink(o, account);
  return empty(202);
}

/** DELETE an object: 204, or 404 when there is none (an expired one is as good as gone). */
export async function deleteObject(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  if (param(ctx, "multipart-manifest") === "delete") {
    if (!asyncDeleteOn(ctx, core))
      return deleteSlo(ctx, core, account, container as string, object as string);
    // The segments are left to the reaper; the manifest goes now, as any object.
    await expireSegments(ctx, core, account, container as string, object as string);
  }
  await authorizeContainer(ctx, core, account, container as string, "write");
  const c = await loadContainer(core, account, container as string);
  const restored = await versionedDelete(core, account, c, object as string);
  if (restored) return restored;
  // A synced delete removes only what is older than its origin's delete.
  const gone = await removeObject(core, c.id, object as string, undefined, syncTimestamp(ctx));
  if (!gone) throw swiftError(404);
  await reclaim(core, gone.dataKey);
  if (expired(gone)) throw swiftError(404);
  return empty(204, { "x-timestamp": newTimestamp() });
}
