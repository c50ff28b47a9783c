// Dynamic large objects (Swift's DLO): an object with X-Object-Manifest: <container>/<prefix> reads as the
// concatenation, in name order, of the objects of that container whose names start with the prefix.
import { createHash } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftText } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { scanObjects, type StoredObject } from "../store/objects.js";
import { checkConditions, parseRanges, type ByteRange } from "./conditions.js";
import { authorizeContainer } from "./acl.js";
import { header, type Ctx } from "./request.js";

/** Segments listed per query, and the most a manifest may have (bounds memory and time). */
const PAGE = 1000;
export const MAX_DLO_SEGMENTS = 100_000;

/** Check an X-Object-Manifest value (400 as Swift when it is not container/prefix); returns it as stored. */
export function checkManifest(value: string): string {
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    throw swiftText(400, "X-Object-Manifest must be UTF-8");
  }
  const slash = v.indexOf("/");
  if (slash <= 0 || v.startsWith("/") || Buffer.byteLength(v) > 1024 + 256)
    throw swiftText(400, "X-Object-Manifest must be in the format container/prefix");
  return value;
}

/** The live segments of a manifest, in order. */
async function segments(core: ObjectCore, account: string, manifest: string): Promise<StoredObject[]> {
  const v = decodeURIComponent(manifest);
  const slash = v.indexOf("/");
  const c = await getContainer(core, account, v.slice(0, slash));
  if (!c) return [];
  const prefix = v.slice(slash + 1);
  const now = Date.now() / 1000;
  const out: StoredObject[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await scanObjects(core, c.id, {
      after,
      from: prefix || undefined,
      limit: PAGE,
      reverse: false,
    });
    for (const o of page) {
      if (!o.name.startsWith(prefix)) return out;
      if (o.deleteAt === null || o.deleteAt > now) out.push(o);
      if (out.length > MAX_DLO_SEGMENTS) throw swiftText(409, `More than ${MAX_DLO_SEGMENTS} segments`);
    }
    if (page.length < PAGE) return out;
    after = page[page.length - 1].name;
  }
}

/** The bytes [start, end] of the concatenated segments, one segment stream after another. */
function concatenated(core: ObjectCore, segs: StoredObject[], range: ByteRange): Readable {
  const body = new PassThrough();
  void (async () => {
    try {
      let offset = 0;
      for (const s of segs) {
        const first = offset;
        offset += s.size;
        if (s.size === 0 || offset - 1 < range.start || first > range.end) continue;
        const from = Math.max(range.start, first) - first;
        const to = Math.min(range.end, offset - 1) - first;
        for await (const chunk of core.data.get(s.dataKey, { start: from, end: to }))
          if (!body.write(chunk)) await new Promise((ok) => body.once("drain", ok));
      }
      body.end();
    } catch (e) {
      body.destroy(e as Error);
    }
  })();
  return body;
}

/** GET/HEAD of a DLO manifest: the segments' total length, ETag of their ETags, whole or one range. */
export async function readDlo(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  manifest: StoredObject,
  headers: Record<string, string>,
): Promise<Reply> {
  const ref = manifest.meta.get("x-object-manifest") as string;
  const segAccount = account;
  const segContainer = decodeURIComponent(ref).split("/")[0];
  await authorizeContainer(ctx, core, segAccount, segContainer, "read");
  const segs = await segments(core, segAccount, ref);
  const size = segs.reduce((n, s) => n + s.size, 0);
  const etag = createHash("md5")
    .update(segs.map((s) => s.etag).join(""))
    .digest("hex");
  const h = { ...headers, etag: `"${etag}"`, "x-object-manifest": ref };
  checkConditions(ctx, etag, manifest.timestamp);
  if (ctx.method === "HEAD") return new Reply(200, undefined, { ...h, "content-length": String(size) });
  const ranges = size > 0 ? parseRanges(header(ctx, "range"), size) : null;
  // Several ranges of a DLO are served as the whole object (a later stage can add multipart/byteranges here).
  if (ranges && ranges.length === 1) {
    const r = ranges[0];
    return new Reply(206, concatenated(core, segs, r), {
      ...h,
      "content-range": `bytes ${r.start}-${r.end}/${size}`,
      "content-length": String(r.end - r.start + 1),
    });
  }
  return new Reply(200, concatenated(core, segs, { start: 0, end: size - 1 }), {
    ...h,
    "content-length": String(size),
  });
}
