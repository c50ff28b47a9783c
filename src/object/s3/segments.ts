// Where a multipart upload's pieces live ("<bucket>+segments": the marker "<key>/<id>", parts "<key>/<id>/<n>",
// and for more than 1,000 parts the sub-manifests "<key>/<id>/manifest-<k>"), and their removal: in Swift bulk
// deletes, and when an object made by an upload is overwritten, the segments of that upload (as s3api on completion).
import type { Readable } from "node:stream";
import { SLO_INFO } from "../api/slo.js";
import { segmentsOf } from "./bucket.js";
import { h, type SwiftClient, type SwiftRes } from "./swift.js";

/** The marker of an upload (and the prefix of its parts). */
export const uploadPath = (key: string, id: string): string => `${key}/${id}`;

/** A segment's path as a manifest names it: /<bucket>+segments/<key>/<id>/<name>. */
export const segmentPath = (bucket: string, key: string, id: string, name: string | number): string =>
  `/${segmentsOf(bucket)}/${uploadPath(key, id)}/${name}`;

/** Swift's bulk delete takes this many paths per request. */
const BULK_MAX = 10000;

/** Delete objects by path ("/container/object") in bulk deletes; missing ones are no error. */
export async function deletePaths(sw: SwiftClient, paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += BULK_MAX) {
    const body = paths
      .slice(i, i + BULK_MAX)
      .map((p) => p.split("/").map(encodeURIComponent).join("/"))
      .join("\n");
    await sw.call("POST", undefined, undefined, {
      query: { "bulk-delete": "" },
      headers: { "content-type": "text/plain", accept: "application/json" },
      body,
    });
  }
}

/** Whether a segment path names a sub-manifest of a multipart upload (more than 1,000 parts). */
export const isSubManifest = (path: string): boolean =>
  /^\/[^/]+\+segments\/.*\/[0-9a-f]{32}\/manifest-\d{1,2}$/s.test(path);

/** One segment of an SLO's raw manifest: its path ("" for inline data), ETag, and the bytes it adds to the object. */
export interface RawSegment {
  path: string;
  etag: string;
  size: number;
}

/** An SLO's raw manifest as read: its segments and the manifest object's X-Timestamp (which write it is). */
export interface RawManifest {
  timestamp: string | undefined;
  segments: RawSegment[];
}

/** Largest raw manifest read: Swift's stored manifests are at most 8 MiB, and the raw form is no longer. */
const MAX_RAW_MANIFEST = 2 * SLO_INFO.max_manifest_size;

/** The bytes a raw manifest entry adds: its inline data's, its range's ("a-b", as stored), or its size. */
function entrySize(e: { data?: unknown; range?: unknown; size_bytes?: unknown }): number {
  if (typeof e.data === "string") return Buffer.from(e.data, "base64").length;
  const r = typeof e.range === "string" ? /^(\d+)-(\d+)$/.exec(e.range) : null;
  if (r) return Number(r[2]) - Number(r[1]) + 1;
  return typeof e.size_bytes === "number" ? e.size_bytes : 0;
}

/**
 * An SLO's raw manifest (`?multipart-manifest=get&format=raw`), a multipart upload's sub-manifests expanded after
 * their own entry when `expand`; null when the object is no SLO (any more) or its manifest cannot be read. Read as
 * a stream and kept only when it is an SLO's, so an object replaced meanwhile by a plain one is not held in memory.
 */
export async function readManifest(
  sw: SwiftClient,
  container: string,
  object: string,
  expand = true,
  versionId?: string,
): Promise<RawManifest | null> {
  const r = await sw.call("GET", container, object, {
    query: { "multipart-manifest": "get", format: "raw", "version-id": versionId },
    stream: true,
  });
  const body = r.stream as Readable;
  if (r.status !== 200 || h(r, "x-static-large-object") !== "True") {
    body.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let n = 0;
  // Read to the end whatever the size (the answer's stream is left only once drained).
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n <= MAX_RAW_MANIFEST) chunks.push(c as Buffer);
  }
  if (n > MAX_RAW_MANIFEST) return null;
  let entries: unknown;
  try {
    entries = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(entries)) return null;
  const segments: RawSegment[] = [];
  for (const e of entries as Array<{ path?: unknown; etag?: unknown; data?: unknown }>) {
    if (e === null || typeof e !== "object") continue;
    if (typeof e.data === "string") {
      segments.push({ path: "", etag: "", size: entrySize(e) });
      continue;
    }
    if (typeof e.path !== "string") continue;
    const seg = { path: e.path, etag: typeof e.etag === "string" ? e.etag : "", size: entrySize(e) };
    const i = seg.path.indexOf("/", 1);
    const inner =
      expand && isSubManifest(seg.path)
        ? await readManifest(sw, seg.path.slice(1, i), seg.path.slice(i + 1), false)
        : null;
    segments.push(seg, ...(inner?.segments ?? []));
  }
  return { timestamp: h(r, "x-timestamp"), segments };
}

/** The object-backed segments of an SLO's raw manifest (see readManifest); null when it cannot be read. */
export async function rawManifest(
  sw: SwiftClient,
  container: string,
  object: string,
  expand = true,
  versionId?: string,
): Promise<RawSegment[] | null> {
  const m = await readManifest(sw, container, object, expand, versionId);
  return m && m.segments.filter((s) => s.path !== "");
}

/**
 * The pieces of the upload an object at `key` (or its version `versionId`) was completed from (parts and
 * sub-manifests under the key's own segment path), read before the object is overwritten or deleted; [] for any
 * other object, and for a current object its bucket's versioning keeps as a version when it is replaced.
 */
export async function uploadedPieces(
  sw: SwiftClient,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<string[]> {
  const query = versionId === undefined ? {} : { "version-id": versionId };
  const head = await sw.call("HEAD", bucket, key, { query });
  if (head.status !== 200 || h(head, "x-static-large-object") !== "True") return [];
  if (versionId === undefined && (await keptOnReplace(sw, bucket, head))) return [];
  const own = new RegExp(
    `^${escapeRe(`/${segmentsOf(bucket)}/${key}/`)}[0-9a-f]{32}/(\\d{1,5}|manifest-\\d{1,2})$`,
    "s",
  );
  return ((await rawManifest(sw, bucket, key, true, versionId)) ?? [])
    .map((s) => s.path)
    .filter((p) => own.test(p));
}

/**
 * Whether a current object (its HEAD) is kept as a version when replaced or deleted: always while the bucket's
 * versioning is on, and when suspended if it has a version id (a null version is replaced).
 */
export async function keptOnReplace(sw: SwiftClient, bucket: string, head: SwiftRes): Promise<boolean> {
  const state = h(await sw.call("HEAD", bucket), "x-versions-enabled");
  if (state === undefined) return false;
  return state === "True" || h(head, "x-object-version-id") !== undefined;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
