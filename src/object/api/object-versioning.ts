// Object versioning (Swift's newer API): `X-Versions-Enabled: true` on a container PUT/POST keeps every version of
// its objects. The current version stays in the container (with its id in X-Object-Sysmeta-Version-Id); older
// versions and delete markers live in a hidden versions container of the same account, named so that no request
// can address it, as rows `<name>\x01<inverted version id><v|n>` (newest first per name; `n`: the null version,
// written while versioning was off). Version ids are Swift timestamps. `?versions` lists every version,
// `?version-id=` reads or deletes one, and `X-Versions-Enabled: false` suspends versioning (new writes are null
// versions and replace the null one).
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import {
  getContainer,
  putContainer,
  updateContainerMeta,
  deleteContainer,
  type Container,
} from "../store/containers.js";
import { getObject, removeObject, scanObjects, type StoredObject } from "../store/objects.js";
import { newTimestamp } from "../timestamp.js";
import { authorizeContainer } from "./acl.js";
import { empty } from "./common.js";
import { listParams, renderListing, type Row } from "./listing.js";
import { readObject } from "./object.js";
import { reclaim, writeObject } from "./write.js";
import { header, param, swiftPath, type Ctx } from "./request.js";
import { objectRow, XML_OBJECT_FIELDS } from "./listing-fields.js";
import { copyVersion } from "./versioning.js";

/** Container sysmeta: "true" or "false", and the hidden versions container's name. */
const ENABLED = "x-container-sysmeta-versions-enabled";
const VERSIONS = "x-container-sysmeta-versions-container";
/** Object sysmeta: the version id of a current object written while versioning was on. */
export const VERSION_ID = "x-object-sysmeta-version-id";
/** The legacy versioned writes' sysmeta (the two features exclude each other). */
const LEGACY = "x-container-sysmeta-versions-location";
/** The Content-Type of delete markers (as Swift's). */
export const MARKER_TYPE = "application/x-deleted;swift_versions_deleted=1";
/** What /info reports. */
export const OBJECT_VERSIONING_INFO = {};

const SEP = "\u0001";
/** Row-name suffix bytes: separator, 16 digits, kind. */
const SUFFIX = 18;
const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
const FALSE = new Set(["false", "0", "no", "off", "f", "n"]);
const ID = /^\d{10}\.\d{5}$/;

/** The hidden versions container of a container: U+FFFD cannot appear in a requested name. */
const hiddenName = (c: Container): string => `\uFFFDversions\uFFFD${c.id}`;

/** Whether a container name is a hidden versions container (left out of account listings). */
export const isHidden = (name: string): boolean => name.startsWith("\uFFFDversions\uFFFD");

/** The inverted form of a version id (16 digits; newer sorts first). */
function invert(id: string): string {
  const units = BigInt(id.replace(".", ""));
  return (9999999999999999n - units).toString().padStart(16, "0");
}

/** The version id of an inverted form. */
function uninvert(inv: string): string {
  const u = (9999999999999999n - BigInt(inv)).toString().padStart(15, "0");
  return `${u.slice(0, -5)}.${u.slice(-5)}`;
}

/** A version row's name. */
const rowName = (name: string, id: string, isNull: boolean): string =>
  `${name}${SEP}${invert(id)}${isNull ? "n" : "v"}`;

/** An archived row's object name and version id ("null" for the null version). */
function parseRow(row: string): { name: string; id: string } {
  const tail = row.slice(-SUFFIX);
  return { name: row.slice(0, -SUFFIX), id: tail.endsWith("n") ? "null" : uninvert(tail.slice(1, 17)) };
}

/** A current object's version id ("null" when written while versioning was off). */
export const versionIdOf = (o: StoredObject): string => o.meta.get(VERSION_ID) ?? "null";

const live = (o: StoredObject | undefined): o is StoredObject =>
  o !== undefined && (o.deleteAt === null || o.deleteAt > Date.now() / 1000);

/** The X-Versions-Enabled a container shows. */
export function versionsEnabledHeaders(meta: Map<string, string>): Record<string, string> {
  const v = meta.get(ENABLED);
  return v ? { "x-versions-enabled": v === "true" ? "True" : "False" } : {};
}

/**
 * A container PUT/POST's X-Versions-Enabled, checked before the container changes (400 for a value that is no
 * boolean, or with the legacy versioned writes on either side); undefined without one.
 */
export async function versionsRequest(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  name: string,
): Promise<boolean | undefined> {
  const raw = header(ctx, "x-versions-enabled");
  const c = await getContainer(core, account, name);
  const legacy = header(ctx, "x-versions-location") || header(ctx, "x-history-location");
  // Once a container has had object versioning (even suspended), legacy versioned writes cannot be set on it.
  if (legacy && c?.meta.has(VERSIONS))
    throw swiftText(400, "Cannot set X-Versions-Location or X-History-Location on a versioned container");
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (!TRUE.has(v) && !FALSE.has(v)) throw swiftText(400, "Invalid X-Versions-Enabled");
  const on = TRUE.has(v);
  if (on && (legacy || c?.meta.get(LEGACY)))
    throw swiftText(
      400,
      "Cannot enable object versioning on a container that is already using the legacy versioned writes feature.",
    );
  return on;
}

/** Turn versioning on or off for a container (its hidden versions container made on first use). */
export async function setVersioning(
  core: ObjectCore,
  account: string,
  name: string,
  on: boolean,
): Promise<void> {
  const c = await getContainer(core, account, name);
  if (!c) return;
  let hidden = c.meta.get(VERSIONS);
  if (on && !hidden) {
    hidden = hiddenName(c);
    await putContainer(core, account, hidden, (m) => m);
  }
  await updateContainerMeta(core, account, name, (m) => {
    m.set(ENABLED, on ? "true" : "false");
    if (hidden) m.set(VERSIONS, hidden);
    return m;
  });
}

/** The versions container of a container that has (or had) versioning, with whether it is on. */
async function versionsOf(
  core: ObjectCore,
  c: Container,
): Promise<{ enabled: boolean; vc: Container } | undefined> {
  const hidden = c.meta.get(VERSIONS);
  if (!hidden) return undefined;
  const vc = await getContainer(core, c.account, hidden);
  if (!vc) return undefined;
  return { enabled: c.meta.get(ENABLED) === "true", vc };
}

/** Whether a container has (or had) versioning on. */
export const hasVersioning = (c: Container): boolean => c.meta.has(VERSIONS);

/** Keep a current object as an archived version. */
async function archive(core: ObjectCore, vc: Container, o: StoredObject): Promise<void> {
  const id = o.meta.get(VERSION_ID);
  await copyVersion(core, o, vc, rowName(o.name, id ?? o.timestamp, id === undefined), true);
}

/**
 * Before an object of a versioning container is written: archive the current version (a null one is replaced
 * while versioning is suspended). Returns the new version's id (undefined: a null version).
 */
export async function beforeVersionedWrite(
  core: ObjectCore,
  c: Container,
  name: string,
): Promise<string | undefined> {
  const v = await versionsOf(core, c);
  if (!v) return undefined;
  if (Buffer.byteLength(name) + SUFFIX > core.limits.max_object_name_length)
    throw swiftText(400, "Object name too long for a versioned container");
  const current = await getObject(core, c.id, name);
  if (live(current) && (v.enabled || current.meta.has(VERSION_ID))) await archive(core, v.vc, current);
  return v.enabled ? newTimestamp() : undefined;
}

/**
 * A DELETE (no version-id) in a versioning container: with versioning on, the current version is archived and a
 * delete marker written (204 with its id, 404 when there was no current version); suspended, a versioned current
 * object is archived and the delete goes on (null).
 */
export async function versionsDelete(core: ObjectCore, c: Container, name: string): Promise<Reply | null> {
  const v = await versionsOf(core, c);
  if (!v) return null;
  const current = await getObject(core, c.id, name);
  const had = live(current);
  if (had && (v.enabled || current.meta.has(VERSION_ID))) await archive(core, v.vc, current);
  if (!v.enabled) return null;
  const id = newTimestamp();
  await writeObject(core, v.vc, rowName(name, id, false), {
    source: (async function* () {})(),
    length: 0,
    contentType: MARKER_TYPE,
    meta: new Map([[VERSION_ID, id]]),
    deleteAt: null,
    timestamp: id,
  });
  if (current) {
    const gone = await removeObject(core, c.id, name, current.dataKey);
    if (gone) await reclaim(core, gone.dataKey);
  }
  if (!had) throw swiftError(404, { "x-object-version-id": id });
  return empty(204, { "x-object-version-id": id, "x-timestamp": id });
}

/** The archived versions of `name`, newest first, a page at a time. */
async function* versionsOfName(core: ObjectCore, vc: Container, name: string): AsyncGenerator<StoredObject> {
  const prefix = name + SEP;
  let after: string | undefined;
  for (;;) {
    const page = await scanObjects(core, vc.id, { from: prefix, after, limit: 100, reverse: false });
    for (const o of page) {
      if (!o.name.startsWith(prefix) || o.name.length !== prefix.length + SUFFIX - 1) return;
      yield o;
    }
    if (page.length < 100) return;
    after = page[page.length - 1].name;
  }
}

/** The archived row of a version of `name`, if any. */
async function findVersion(
  core: ObjectCore,
  vc: Container,
  name: string,
  id: string,
): Promise<StoredObject | undefined> {
  if (id !== "null") return getObject(core, vc.id, rowName(name, id, false));
  for await (const o of versionsOfName(core, vc, name)) if (o.name.endsWith("n")) return o;
  return undefined;
}

/** The version-id parameter, checked (400 as Swift for one that is no version id). */
function versionParam(ctx: Ctx): string {
  const id = param(ctx, "version-id") ?? "";
  if (id !== "null" && !ID.test(id)) throw swiftText(400, "Invalid version-id");
  return id;
}

/**
 * The stored object holding version `?version-id=` of `name` (the current one or an archived one), the source of a
 * copy from that version: 400 for an id that is none, 404 for a missing version or a delete marker.
 */
export async function versionSource(
  ctx: Ctx,
  core: ObjectCore,
  c: Container,
  name: string,
): Promise<StoredObject> {
  const id = versionParam(ctx);
  const current = await getObject(core, c.id, name);
  if (live(current) && versionIdOf(current) === id) return current;
  const v = await versionsOf(core, c);
  const row = v && (await findVersion(core, v.vc, name, id));
  if (!row || !live(row) || row.contentType === MARKER_TYPE) throw swiftError(404);
  return row;
}

/** After a version was removed: with no current object, the newest archived version (unless a marker) is restored. */
async function settle(core: ObjectCore, c: Container, vc: Container, name: string): Promise<void> {
  if (live(await getObject(core, c.id, name))) return;
  for await (const o of versionsOfName(core, vc, name)) {
    if (o.contentType === MARKER_TYPE) return;
    await copyVersion(core, o, c, name, true);
    const gone = await removeObject(core, vc.id, o.name, o.dataKey);
    if (gone) await reclaim(core, gone.dataKey);
    return;
  }
}

/** GET/HEAD/DELETE ?version-id=: one version of an object; other methods are refused (400), copies aside. */
export async function versionRequest(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container, object } = swiftPath(ctx, core);
  const name = object as string;
  const reading = ctx.method === "GET" || ctx.method === "HEAD";
  if (!reading && ctx.method !== "DELETE")
    throw swiftText(400, "version-id is only for GET, HEAD and DELETE");
  await authorizeContainer(ctx, core, account, container as string, reading ? "read" : "write");
  const id = versionParam(ctx);
  const c = await getContainer(core, account, container as string);
  if (!c) throw swiftError(404);
  const current = await getObject(core, c.id, name);
  const v = await versionsOf(core, c);
  if (live(current) && versionIdOf(current) === id) {
    if (reading) return readObject(ctx, core);
    const gone = await removeObject(core, c.id, name, current.dataKey);
    if (gone) await reclaim(core, gone.dataKey);
    if (v) await settle(core, c, v.vc, name);
    return empty(204, { "x-object-version-id": id });
  }
  const row = v && (await findVersion(core, v.vc, name, id));
  if (!v || !row) throw swiftError(404);
  if (reading) {
    // A delete marker reads as not found, saying what it is.
    if (row.contentType === MARKER_TYPE)
      return new Reply(404, undefined, {
        "x-object-version-id": id,
        "content-type": MARKER_TYPE,
        "content-length": "0",
      });
    return readObject(ctx, core, { container: v.vc, name: row.name });
  }
  const gone = await removeObject(core, v.vc.id, row.name, row.dataKey);
  if (gone) await reclaim(core, gone.dataKey);
  await settle(core, c, v.vc, name);
  return empty(204, {
    "x-object-version-id": id,
    ...(row.contentType === MARKER_TYPE ? { "content-type": MARKER_TYPE } : {}),
  });
}

/** One entry of a versions listing. */
interface VersionEntry {
  o: StoredObject;
  id: string;
  latest: boolean;
}

/** UTF-8 byte order of two names (the order listings have). */
const byteCmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A container's objects (live ones) from a name on, in order. */
async function* currentFrom(core: ObjectCore, c: Container, from: string): AsyncGenerator<StoredObject> {
  let after: string | undefined;
  for (;;) {
    const page = await scanObjects(core, c.id, { from, after, limit: 100, reverse: false });
    for (const o of page) if (live(o)) yield o;
    if (page.length < 100) return;
    after = page[page.length - 1].name;
  }
}

/** A peekable async iterator. */
class Peek<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly it: AsyncIterator<T>) {}
  /** The next value without taking it. */
  async peek(): Promise<T | undefined> {
    this.head ??= await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }
  /** Take the next value. */
  async take(): Promise<T | undefined> {
    const v = await this.peek();
    this.head = undefined;
    return v;
  }
}

/**
 * GET a container with `?versions`: every version of every object (name order, newest version first), with
 * `version_id` and `is_latest`; prefix, delimiter, marker with version_marker, limit.
 */
export async function listVersions(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container } = swiftPath(ctx, core);
  await authorizeContainer(ctx, core, account, container as string, "listing");
  const c = await getContainer(core, account, container as string);
  if (!c) throw swiftError(404);
  const p = listParams(ctx, core.limits.container_listing_limit);
  const vmarker = param(ctx, "version_marker") || undefined;
  if (vmarker !== undefined && vmarker !== "null" && !ID.test(vmarker))
    throw swiftText(400, "Invalid version_marker");
  if (vmarker !== undefined && p.marker === undefined) throw swiftText(400, "version_marker requires marker");
  const v = await versionsOf(core, c);
  const start = p.marker !== undefined && byteCmp(p.marker, p.prefix) > 0 ? p.marker : p.prefix;
  const cur = new Peek(currentFrom(core, c, start));
  const old = new Peek<StoredObject>(v ? currentFrom(core, v.vc, start) : (async function* () {})());
  const rows: Row<VersionEntry>[] = [];
  let skip: string | undefined;
  // Past the marker: whole names after it, or versions of the marker's name older than version_marker.
  let passed = vmarker === undefined;
  while (rows.length < p.limit) {
    const a = await cur.peek();
    const b = await old.peek();
    const bName = b && parseRow(b.name).name;
    if (!a && !b) break;
    const name =
      !b || (a && byteCmp(a.name, bName as string) <= 0) ? (a as StoredObject).name : (bName as string);
    if (p.prefix && !name.startsWith(p.prefix)) break;
    // Gather this name's versions: the current one first (newest), then the archived ones.
    const versions: VersionEntry[] = [];
    if (a && a.name === name) {
      await cur.take();
      versions.push({ o: a, id: versionIdOf(a), latest: true });
    }
    while ((await old.peek()) && parseRow(((await old.peek()) as StoredObject).name).name === name) {
      const o = (await old.take()) as StoredObject;
      versions.push({ o, id: parseRow(o.name).id, latest: versions.length === 0 });
    }
    if (skip !== undefined && name.startsWith(skip)) continue;
    if (p.marker !== undefined && byteCmp(name, p.marker) < 0) continue;
    const cut = p.delimiter ? name.indexOf(p.delimiter, p.prefix.length) : -1;
    if (cut >= 0) {
      skip = name.slice(0, cut + p.delimiter.length);
      if (skip !== p.marker) rows.push({ kind: "subdir", name: skip });
      continue;
    }
    for (const e of versions) {
      if (p.marker !== undefined && name === p.marker) {
        if (vmarker === undefined) break;
        if (!passed) {
          if (e.id === vmarker) passed = true;
          continue;
        }
      }
      if (rows.length >= p.limit) break;
      rows.push({ kind: "item", name, item: e });
    }
  }
  const { body, contentType } = renderListing(
    rows,
    p.format,
    { tag: "container", name: c.name, itemTag: "object" },
    (name, e) => ({ ...objectRow(name, e.o, account), version_id: e.id, is_latest: e.latest }),
    [...XML_OBJECT_FIELDS, "version_id", "is_latest"],
  );
  const headers = { "content-type": contentType, ...versionsEnabledHeaders(c.meta) };
  if (body === null) return new Reply(204, undefined, headers);
  return new Reply(200, body, headers);
}

/**
 * Before a container DELETE: a container whose versions container still holds versions is not empty (409); after
 * it is gone, so is its (empty) versions container.
 */
export async function checkVersionsEmpty(
  core: ObjectCore,
  account: string,
  name: string,
): Promise<() => Promise<void>> {
  const c = await getContainer(core, account, name);
  const hidden = c?.meta.get(VERSIONS);
  if (!c || !hidden) return async () => {};
  const vc = await getContainer(core, account, hidden);
  if (vc && vc.objectCount > 0) throw swiftError(409);
  return async () => {
    await deleteContainer(core, account, hidden);
  };
}
