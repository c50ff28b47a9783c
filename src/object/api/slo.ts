// Static large objects (Swift's SLO): an object stored with X-Static-Large-Object holds a JSON manifest of segments
// (objects, ranges of objects, other SLOs, or inline data) and reads as their concatenation. This file has the
// stored form, the segment walk and GET/HEAD; slo-put.ts validates and stores manifests, slo-delete.ts deletes them.
import { createHash } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftError } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { getObject, type StoredObject } from "../store/objects.js";
import { authorizeContainer } from "./acl.js";
import { checkConditions, multipartRanges, parseRanges, type ByteRange } from "./conditions.js";
import { header, type Ctx } from "./request.js";

/** Swift's defaults (/info shows them with yield_frequency and allow_async_delete as configured). */
export const SLO_INFO = {
  max_manifest_segments: 1000,
  max_manifest_size: 8 * 1024 * 1024,
  yield_frequency: 10,
  min_segment_size: 1,
  allow_async_delete: false,
};
/** How deep SLOs may nest when read, as Swift. */
const MAX_DEPTH = 10;

/** The metadata keys an SLO manifest object carries (sysmeta is never shown). */
export const SLO_FLAG = "x-static-large-object";
export const SLO_ETAG = "x-object-sysmeta-slo-etag";
export const SLO_SIZE = "x-object-sysmeta-slo-size";

/** One stored manifest entry, as Swift writes it. */
export interface SloEntry {
  name?: string;
  bytes?: number;
  hash?: string;
  content_type?: string;
  last_modified?: string;
  range?: string;
  sub_slo?: boolean;
  data?: string;
}

/** Whether a stored object is an SLO manifest. */
export const isSlo = (o: StoredObject): boolean => o.meta.get(SLO_FLAG) === "True";

/** A stored Content-Type without Swift's internal `;swift_bytes=N`, and N (the listed size) when present. */
export function splitSwiftBytes(ct: string): { contentType: string; bytes?: number; s3Etag?: string } {
  const m = /;\s*swift_bytes=(\d+)$/.exec(ct);
  if (!m) return { contentType: ct };
  const bytes = Number(m[1]);
  const rest = ct.slice(0, m.index);
  // A manifest the S3 API completed carries its S3 ETag (s3api's s3_etag), shown in listings.
  const e = /;\s*s3_etag=([0-9a-f]{32}-\d{1,5})$/.exec(rest);
  return e ? { contentType: rest.slice(0, e.index), bytes, s3Etag: e[1] } : { contentType: rest, bytes };
}

/** Read a stored manifest (bounded by the store's own limit on what was written). */
export async function readManifest(core: ObjectCore, o: StoredObject): Promise<SloEntry[]> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of core.data.get(o.dataKey)) {
    n += (c as Buffer).length;
    if (n > SLO_INFO.max_manifest_size * 2) throw swiftError(500);
    chunks.push(c as Buffer);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return Array.isArray(v) ? (v as SloEntry[]) : [];
  } catch {
    return [];
  }
}

/** Bytes a plain GET takes from an entry: its inline data, its range, or the whole segment. */
function entryLength(e: SloEntry): number {
  if (e.data !== undefined) return Buffer.from(e.data, "base64").length;
  if (e.range) {
    const [a, b] = e.range.split("-").map(Number);
    return b - a + 1;
  }
  return Number(e.bytes ?? 0);
}

/** "/container/object" of a segment name. */
export function splitSegmentName(name: string): { container: string; object: string } | null {
  const m = /^\/?([^/]+)\/(.+)$/s.exec(name);
  return m ? { container: m[1], object: m[2] } : null;
}

/** A piece of the concatenation: inline bytes, or bytes [start, end] of a segment object. */
type Piece =
  { data: Buffer } | { entry: SloEntry; container: string; object: string; start: number; end: number };

/** Reads segments as the caller (the caller's token reads every segment, as Swift's subrequests do). */
class Walker {
  private readonly allowed = new Set<string>();
  constructor(
    readonly ctx: Ctx,
    readonly core: ObjectCore,
    readonly account: string,
  ) {}

  /** The live object a segment names, read access checked; SwiftError 404/401/403 otherwise. */
  async object(container: string, object: string): Promise<StoredObject> {
    if (!this.allowed.has(container)) {
      await authorizeContainer(this.ctx, this.core, this.account, container, "read");
      this.allowed.add(container);
    }
    const c = await getContainer(this.core, this.account, container);
    const o = c && (await getObject(this.core, c.id, object));
    if (!o || (o.deleteAt !== null && o.deleteAt <= Date.now() / 1000)) throw swiftError(404);
    return o;
  }

  /** The pieces covering bytes [first, last] of `entries`, walking sub-SLOs lazily (Swift's byterange walk). */
  async *pieces(entries: SloEntry[], first: number, last: number, depth = 1): AsyncGenerator<Piece> {
    for (const e of entries) {
      const len = entryLength(e);
      if (first >= len) {
        first -= len;
        last -= len;
        continue;
      }
      if (last < 0) return;
      if (e.data !== undefined) {
        const d = Buffer.from(e.data, "base64");
        yield { data: d.subarray(Math.max(0, first), Math.min(len - 1, last) + 1) };
      } else {
        const [rs, re] = e.range ? e.range.split("-").map(Number) : [0, len - 1];
        const at = splitSegmentName(e.name ?? "");
        if (!at) throw new SwiftError(409, "Invalid segment name in manifest");
        if (e.sub_slo) {
          if (depth >= MAX_DEPTH) throw new SwiftError(409, "Max SLO recursion depth exceeded");
          const sub = await this.object(at.container, at.object);
          if (!isSlo(sub)) throw new SwiftError(409, "Sub-manifest is not an SLO");
          const subEntries = await readManifest(this.core, sub);
          yield* this.pieces(subEntries, rs + Math.max(0, first), Math.min(re, rs + last), depth + 1);
        } else {
          yield {
            entry: e,
            ...at,
            start: Math.max(0, first) + rs,
            end: Math.min(re, rs + last),
          };
        }
      }
      first -= len;
      last -= len;
    }
  }

  /** The data of an object piece, after checking the segment still is what the manifest says (409 if not). */
  async open(p: Exclude<Piece, { data: Buffer }>): Promise<Readable> {
    const o = await this.object(p.container, p.object);
    if (o.etag !== p.entry.hash || o.size !== Number(p.entry.bytes) || isSlo(o))
      throw new SwiftError(409, "Segment does not match the manifest");
    return this.core.data.get(o.dataKey, { start: p.start, end: p.end });
  }
}

/** A segment lookup as the caller (SwiftError 401/403/404 when it cannot be read), for manifest validation. */
export function segmentLookup(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
): (container: string, object: string) => Promise<StoredObject> {
  const w = new Walker(ctx, core, account);
  return (container, object) => w.object(container, object);
}

/** An SLO's own ETag and total size, from its manifest object's metadata. */
export const sloStat = (o: StoredObject): { etag: string; size: number } => ({
  etag: o.meta.get(SLO_ETAG) ?? "",
  size: Number(o.meta.get(SLO_SIZE) ?? 0),
});

/** Swift's quote() of a path: everything but unreserved characters and "/" escaped. */
export const quotePath = (s: string): string =>
  encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A stream of bytes [r.start, r.end] of the SLO; `first` is an already validated first piece to start with. */
function stream(
  walker: Walker,
  entries: SloEntry[],
  r: ByteRange,
  first?: { it: AsyncGenerator<Piece>; piece: Piece | undefined; data?: Readable },
): Readable {
  const body = new PassThrough();
  const write = async (chunk: Buffer) => {
    if (!body.write(chunk)) await new Promise((ok) => body.once("drain", ok));
  };
  void (async () => {
    try {
      const it = first?.it ?? walker.pieces(entries, r.start, r.end);
      let next = first ? { done: first.piece === undefined, value: first.piece } : await it.next();
      let data = first?.data;
      while (!next.done && next.value) {
        const p = next.value;
        if ("data" in p) await write(p.data);
        else for await (const c of data ?? (await walker.open(p))) await write(c as Buffer);
        data = undefined;
        next = await it.next();
      }
      body.end();
    } catch (e) {
      body.destroy(e as Error);
    }
  })();
  return body;
}

/** The whole concatenated data of an SLO (for a copy); fails mid-stream if a segment is missing or changed. */
export async function wholeSlo(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  o: StoredObject,
): Promise<Readable> {
  const entries = await readManifest(core, o);
  return stream(new Walker(ctx, core, account), entries, { start: 0, end: sloStat(o).size - 1 });
}

/** GET/HEAD of an SLO: its SLO ETag and total size, the concatenated segments, one range or several. */
export async function readSlo(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  o: StoredObject,
  headers: Record<string, string>,
): Promise<Reply> {
  const entries = await readManifest(core, o);
  const size = Number(o.meta.get(SLO_SIZE) ?? entries.reduce((n, e) => n + entryLength(e), 0));
  const etag = o.meta.get(SLO_ETAG) ?? "";
  const h: Record<string, string> = {
    ...headers,
    etag: `"${etag}"`,
    "x-manifest-etag": o.etag,
    "x-static-large-object": "True",
  };
  checkConditions(ctx, etag, o.timestamp, h.etag);
  if (ctx.method === "HEAD") return new Reply(200, undefined, { ...h, "content-length": String(size) });
  const walker = new Walker(ctx, core, account);
  const ranges = size > 0 ? parseRanges(header(ctx, "range"), size) : null;
  if (ranges && ranges.length > 1) {
    const mp = multipartRanges(ranges, size, h["content-type"], (r) => stream(walker, entries, r));
    return new Reply(206, mp.body, {
      ...h,
      "content-type": `multipart/byteranges;boundary=${mp.boundary}`,
      "content-length": String(mp.length),
    });
  }
  const r = ranges ? ranges[0] : { start: 0, end: size - 1 };
  // The first segment is checked before the status line: one (or a sub-manifest on the way) missing, changed or
  // refused to the caller (401/403) is a 409, as Swift's validate_first_segment.
  const it = walker.pieces(entries, r.start, r.end);
  let piece: Piece | undefined;
  let data: Readable | undefined;
  try {
    piece = (await it.next()).value as Piece | undefined;
    if (piece && !("data" in piece)) data = await walker.open(piece);
  } catch {
    throw swiftError(409);
  }
  const body = stream(walker, entries, r, { it, piece, data });
  if (ranges)
    return new Reply(206, body, {
      ...h,
      "content-range": `bytes ${r.start}-${r.end}/${size}`,
      "content-length": String(r.end - r.start + 1),
    });
  return new Reply(200, body, { ...h, "content-length": String(size) });
}

/** Headers of ?multipart-manifest=get of an SLO: the manifest is JSON. */
export const manifestHeaders = (headers: Record<string, string>): Record<string, string> => ({
  ...headers,
  "content-type": "application/json; charset=utf-8",
  "x-static-large-object": "True",
});

/** GET ?multipart-manifest=get&format=raw of an SLO: the manifest in the format a PUT takes. */
export async function readRawManifest(
  ctx: Ctx,
  core: ObjectCore,
  o: StoredObject,
  headers: Record<string, string>,
): Promise<Reply> {
  const h = manifestHeaders(headers);
  const entries = await readManifest(core, o);
  const raw = entries.map((e) => {
    if (e.data !== undefined) return { data: e.data };
    const out: Record<string, unknown> = { etag: e.hash ?? null, path: e.name ?? null };
    if (e.range) out.range = e.range;
    out.size_bytes = e.bytes ?? null;
    return out;
  });
  const body = Buffer.from(JSON.stringify(raw));
  const etag = createHash("md5").update(body).digest("hex");
  if (ctx.method === "HEAD")
    return new Reply(200, undefined, { ...h, etag, "content-length": String(body.length) });
  return new Reply(200, body, { ...h, etag, "content-length": String(body.length) });
}
