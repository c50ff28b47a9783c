// Versioned writes (Swift's legacy versioned_writes): a container with X-Versions-Location (stack mode) or
// X-History-Location (history mode) keeps each overwritten object in the named container as
// <3 hex digits of the name's UTF-8 length><name>/<timestamp>. In stack mode a DELETE restores the newest archived
// version; in history mode it archives the current one and leaves a delete marker.
import type { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { getContainer, type Container } from "../store/containers.js";
import { getObject, removeObject, scanObjects, type StoredObject } from "../store/objects.js";
import { newTimestamp } from "../timestamp.js";
import { empty } from "./common.js";
import { reclaim, writeObject } from "./write.js";
import { header, type Ctx } from "./request.js";
import { beforeVersionedWrite, hasVersioning, VERSION_ID, versionsDelete } from "./object-versioning.js";

/** What /info reports. */
export const VERSIONED_WRITES_INFO = { allowed_flags: ["x-versions-location", "x-history-location"] };

const LOCATION = "x-container-sysmeta-versions-location";
const MODE = "x-container-sysmeta-versions-mode";
/** The Content-Type of history mode's delete markers. */
export const DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1";

/** The container metadata changes a container PUT/POST asks for ("" removes), with Swift's checks. */
export function versioningChanges(ctx: Ctx): Map<string, string> {
  let versions = header(ctx, "x-versions-location");
  let history = header(ctx, "x-history-location");
  if (versions !== undefined && history !== undefined) {
    if (!history) history = undefined;
    else if (versions)
      throw swiftText(400, "Only one of X-Versions-Location or X-History-Location may be specified");
    else versions = undefined;
  }
  const out = new Map<string, string>();
  const value = versions ?? history;
  if (value !== undefined) {
    if (!value) return removal();
    if (value.includes("/")) throw swiftText(412, "Container name cannot contain slashes");
    if (Buffer.byteLength(value) > 256 * 3) throw swiftText(400, "Container name too long");
    out.set(LOCATION, value);
    out.set(MODE, versions !== undefined ? "stack" : "history");
    return out;
  }
  if (header(ctx, "x-remove-versions-location") || header(ctx, "x-remove-history-location")) return removal();
  return out;
}

const removal = () =>
  new Map([
    [LOCATION, ""],
    [MODE, ""],
  ]);

/** The X-Versions-Location or X-History-Location a container shows. */
export function versioningHeaders(meta: Map<string, string>): Record<string, string> {
  const location = meta.get(LOCATION);
  if (!location) return {};
  return meta.get(MODE) === "history"
    ? { "x-history-location": location }
    : { "x-versions-location": location };
}

/** The versions container's name and mode of a container, or undefined when it keeps no versions. */
function versionsOf(c: Container): { container: string; mode: string } | undefined {
  const location = c.meta.get(LOCATION);
  if (!location) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(location).split("/")[0];
  } catch {
    name = location;
  }
  return { container: name, mode: c.meta.get(MODE) ?? "stack" };
}

/** "<len as 3 hex digits><name>/", the archive prefix of an object name. */
const prefixOf = (name: string): string => `${Buffer.byteLength(name).toString(16).padStart(3, "0")}${name}/`;

const live = (o: StoredObject | undefined): o is StoredObject =>
  o !== undefined && (o.deleteAt === null || o.deleteAt > Date.now() / 1000);

/**
 * Write a copy of `o` (data, type, metadata; its timestamp too with `keepTimestamp`) under `name` of `to`; 412 when
 * `to` does not exist, as Swift.
 */
export async function copyVersion(
  core: ObjectCore,
  o: StoredObject,
  to: Container | undefined,
  name: string,
  keepTimestamp = false,
): Promise<void> {
  if (!to) throw swiftError(412);
  await writeObject(core, to, name, {
    source: core.data.get(o.dataKey),
    length: o.size,
    contentType: o.contentType,
    meta: o.meta,
    deleteAt: o.deleteAt,
    ...(keepTimestamp ? { timestamp: o.timestamp } : {}),
  });
}

/**
 * Before an object of `c` is overwritten: archive its current version when the container keeps versions. Returns
 * the new version's id under object versioning (object-versioning.ts), undefined otherwise.
 */
export async function archiveCurrent(
  core: ObjectCore,
  account: string,
  c: Container,
  name: string,
): Promise<string | undefined> {
  if (hasVersioning(c)) return beforeVersionedWrite(core, c, name);
  const v = versionsOf(c);
  if (!v) return;
  const current = await getObject(core, c.id, name);
  if (!live(current)) return;
  const to = await getContainer(core, account, v.container);
  await copyVersion(core, current, to, prefixOf(name) + current.timestamp);
}

/** Metadata with a new version's id recorded (a copied one dropped; undefined: a null version). */
export function withVersion(meta: Map<string, string>, version: string | undefined): Map<string, string> {
  if (version !== undefined) meta.set(VERSION_ID, version);
  else meta.delete(VERSION_ID);
  return meta;
}

/** The archived versions of `name`, newest first (a page at a time). */
async function* newestFirst(core: ObjectCore, vc: Container, name: string): AsyncGenerator<StoredObject> {
  const prefix = prefixOf(name);
  let before = `${prefix.slice(0, -1)}0`;
  for (;;) {
    const page = await scanObjects(core, vc.id, { from: prefix, before, limit: 100, reverse: true });
    for (const o of page) if (live(o)) yield o;
    if (page.length < 100) return;
    before = page[page.length - 1].name;
  }
}

/** Delete an archived version after restoring it; the answer is that DELETE's, as Swift. */
async function dropVersion(core: ObjectCore, vc: Container, o: StoredObject): Promise<Reply> {
  const gone = await removeObject(core, vc.id, o.name, o.dataKey);
  if (gone) await reclaim(core, gone.dataKey);
  return empty(204, { "x-timestamp": newTimestamp() });
}

/**
 * A DELETE in a versioned container: history mode archives the current version and writes a delete marker, then
 * the delete goes on (null); stack mode restores the newest archived version in its place (its answer), or lets the
 * delete go on (null) when there is none.
 */
export async function versionedDelete(
  core: ObjectCore,
  account: string,
  c: Container,
  name: string,
): Promise<Reply | null> {
  if (hasVersioning(c)) return versionsDelete(core, c, name);
  const v = versionsOf(c);
  if (!v) return null;
  const vc = await getContainer(core, account, v.container);
  if (v.mode === "history") {
    await archiveCurrent(core, account, c, name);
    if (!vc) throw swiftError(412);
    await writeObject(core, vc, prefixOf(name) + newTimestamp(), {
      source: (async function* () {})(),
      length: 0,
      contentType: DELETE_MARKER,
      meta: new Map(),
      deleteAt: null,
    });
    return null;
  }
  if (!vc) return null;
  const versions = newestFirst(core, vc, name);
  for await (const prev of versions) {
    if (prev.contentType !== DELETE_MARKER) {
      await copyVersion(core, prev, c, name);
      return dropVersion(core, vc, prev);
    }
    // A delete marker (left by history mode): with no current object, restore the version before it.
    if (live(await getObject(core, c.id, name))) return null;
    for await (const older of versions) {
      if (older.contentType === DELETE_MARKER) break;
      await copyVersion(core, older, c, name);
      await dropVersion(core, vc, older);
      break;
    }
    return dropVersion(core, vc, prev);
  }
  return null;
}
