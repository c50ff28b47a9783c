// PUT ?multipart-manifest=put: validate an SLO manifest as Swift does (its shape, then every segment's existence,
// size, ETag and range, read with the caller's rights), then store Swift's form of it as the object's data.
import { createHash } from "node:crypto";
import { Reply } from "../../shared/http/reply.js";
import { SwiftError, swiftError, swiftText } from "../errors.js";
import { STATUS_TITLES } from "../../shared/http/errors.js";
import { httpDate } from "../timestamp.js";
import { parseRanges } from "./conditions.js";
import { header, type Ctx } from "./request.js";
import {
  isSlo,
  SLO_ETAG,
  SLO_FLAG,
  SLO_INFO,
  SLO_SIZE,
  quotePath,
  sloStat,
  splitSegmentName,
  type SloEntry,
} from "./slo.js";
import { bulkBody, bulkContentType, bulkType, formatOf } from "./bulk.js";
import { inFlight } from "../../shared/in-flight.js";
import type { StoredObject } from "../store/objects.js";

/** A parsed manifest entry: an object-backed segment, or inline data. */
export type Input =
  { path: string; etag?: string | null; size?: number | null; range?: string } | { data: Buffer };

const ALLOWED_PATH_KEYS = new Set(["path", "etag", "size_bytes", "range"]);
const TITLE = (status: number): string =>
  `${status} ${status === 499 ? "Client Disconnect" : (STATUS_TITLES[status] ?? "Error")}`;

/** Read the manifest body: at most max_manifest_size bytes (a longer one is cut and so is not valid JSON). */
async function readBody(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  const body = ctx.body as AsyncIterable<Uint8Array> | undefined;
  if (body)
    for await (const c of body) {
      const b = Buffer.from(c);
      n += b.length;
      if (n > SLO_INFO.max_manifest_size) throw swiftText(400, "Manifest must be valid JSON.\n");
      chunks.push(b);
    }
  return Buffer.concat(chunks).toString("utf8");
}

/** A strict base64 decode (null when it is not base64). */
function b64(s: unknown): Buffer | null {
  if (typeof s !== "string") return null;
  const t = s.replace(/\s/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 === 1) return null;
  return Buffer.from(t, "base64");
}

/** Swift's parse_and_validate_input: the manifest's shape, every problem listed as "Index N: ...". */
function parseInput(text: string, self: { container: string; object: string }): Input[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw swiftText(400, "Manifest must be valid JSON.\n");
  }
  if (!Array.isArray(parsed)) throw swiftText(400, "Manifest must be a list.\n");
  const errors: string[] = [];
  const out: Input[] = [];
  parsed.forEach((seg: unknown, i: number) => {
    if (typeof seg !== "object" || seg === null || Array.isArray(seg))
      return errors.push(`Index ${i}: not a JSON object`);
    const d = seg as Record<string, unknown>;
    const type = Object.hasOwn(d, "data") ? "data" : Object.hasOwn(d, "path") ? "path" : null;
    if (type === null) return errors.push(`Index ${i}: expected keys to include one of 'data' or 'path'`);
    const extra = Object.keys(d)
      .filter((k) => (type === "data" ? k !== "data" : !ALLOWED_PATH_KEYS.has(k)))
      .sort();
    if (extra.length)
      return errors.push(`Index ${i}: extraneous keys ${extra.map((k) => JSON.stringify(k)).join(", ")}`);
    if (type === "data") {
      const data = b64(d.data);
      if (data === null) return errors.push(`Index ${i}: data must be valid base64`);
      if (data.length < 1) return errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
      return out.push({ data });
    }
    if (typeof d.path !== "string") return errors.push(`Index ${i}: "path" must be a string`);
    if (!(d.etag === undefined || d.etag === null || typeof d.etag === "string"))
      return errors.push(`Index ${i}: "etag" must be a string or null (if provided)`);
    const at = splitSegmentName(d.path.replace(/^\/+/, ""));
    if (!d.path.replace(/^\/+|\/+$/g, "").includes("/") || !at)
      return errors.push(
        `Index ${i}: path does not refer to an object. Path must be of the form /container/object.`,
      );
    let size: number | null = null;
    if (d.size_bytes !== undefined && d.size_bytes !== null) {
      const s = typeof d.size_bytes === "string" ? d.size_bytes.trim() : d.size_bytes;
      if (
        !(typeof s === "number" && Number.isInteger(s)) &&
        !(typeof s === "string" && /^[+-]?\d{1,20}$/.test(s))
      )
        return errors.push(`Index ${i}: invalid size_bytes`);
      size = Number(s);
      if (size < 1 && i !== parsed.length - 1)
        return errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
    }
    if (at.container === self.container && at.object === self.object)
      return errors.push(`Index ${i}: manifest must not include itself as a segment`);
    let range: string | undefined;
    if (d.range !== undefined && d.range !== null && d.range !== "") {
      if (typeof d.range !== "string") return errors.push(`Index ${i}: invalid range`);
      const specs = d.range.split(",");
      if (!specs.every((r) => /^\s*(\d*)-(\d*)\s*$/.test(r) && !/^\s*-\s*$/.test(r)))
        return errors.push(`Index ${i}: invalid range`);
      if (specs.length > 1) return errors.push(`Index ${i}: multiple ranges (only one allowed)`);
      range = d.range.trim();
      if (size !== null && satisfiable(range, size) === null)
        return errors.push(`Index ${i}: unsatisfiable range`);
    }
    out.push({ path: d.path, etag: d.etag as string | null | undefined, size, range });
  });
  if (parsed.length > 0 && out.length === parsed.length && out.every((s) => "data" in s))
    errors.push("Inline data segments require at least one object-backed segment.");
  if (errors.length) throw swiftText(400, errors.map((e) => `${e}\n`).join(""));
  return out;
}

/** The one range "a-b" / "a-" / "-n" within `size` bytes as [start, end], or null when it cannot be satisfied. */
function satisfiable(spec: string, size: number): [number, number] | null {
  try {
    const r = parseRanges(`bytes=${spec}`, size);
    return r && r.length === 1 ? [r[0].start, r[0].end] : null;
  } catch {
    return null;
  }
}

/** Swift's stored last_modified format (microseconds, no zone) of an HTTP date. */
const isoMicro = (ts: string): string =>
  `${new Date(Date.parse(httpDate(ts))).toISOString().slice(0, 19)}.000000`;

/** What a manifest PUT stores. */
export interface SloPut {
  body: Buffer;
  sloEtag: string;
  size: number;
  meta: Map<string, string>;
}

/** The segments a manifest PUT refuses, each as [quoted path, reason] (Swift's 400 with its Errors list). */
export class SloProblems extends Error {
  constructor(readonly problems: Array<[string, string]>) {
    super("SLO segment problems");
  }
}

/** Test seam: awaited before each segment is looked up (lets a test hold validation at a known point). */
export const sloPutTestHooks: { beforeLookup?: (path: string) => Promise<void> } = {};

/**
 * The checks Swift makes before it answers anything: no copy, a length, the manifest's size, shape and segment
 * count. Reads the body; throws Swift's refusals.
 */
export async function readSloInput(ctx: Ctx, self: { container: string; object: string }): Promise<Input[]> {
  if (header(ctx, "x-copy-from") !== undefined)
    throw swiftText(405, "Multipart Manifest PUTs cannot be COPY requests");
  const lengthRaw = header(ctx, "content-length");
  const chunked = /chunked/i.test(header(ctx, "transfer-encoding") ?? "");
  if (lengthRaw === undefined && !chunked) throw swiftError(411);
  if (lengthRaw !== undefined && Number(lengthRaw) > SLO_INFO.max_manifest_size)
    throw swiftText(413, `Manifest File > ${SLO_INFO.max_manifest_size} bytes`);
  const input = parseInput(await readBody(ctx), self);
  if (input.filter((s) => "path" in s).length > SLO_INFO.max_manifest_segments)
    throw swiftText(413, `Number of object-backed segments must be <= ${SLO_INFO.max_manifest_segments}`);
  return input;
}

/**
 * Check every segment (`lookup` reads one as the caller, throwing SwiftError, up to `concurrency` at once as Swift's
 * StreamingPile; `tick` runs after each lookup) and return what to store; throws SloProblems listing the problem
 * segments in manifest order, or 422 when the given ETag differs.
 */
export async function validateSlo(
  ctx: Ctx,
  input: Input[],
  lookup: (container: string, object: string) => Promise<StoredObject>,
  concurrency: number,
  tick?: () => void,
): Promise<SloPut> {
  const heads = await lookupAll(input, lookup, concurrency, tick);
  const problems: Array<[string, string]> = [];
  const stored: SloEntry[] = [];
  const etagHash = createHash("md5");
  let total = 0;
  for (const [i, seg] of input.entries()) {
    if ("data" in seg) {
      stored.push({ data: seg.data.toString("base64") });
      etagHash.update(createHash("md5").update(seg.data).digest("hex"));
      total += seg.data.length;
      continue;
    }
    const name = seg.path.replace(/^\/+/, "");
    const quoted = quotePath(seg.path);
    const head = heads.get(name) as StoredObject | number;
    if (typeof head === "number") {
      problems.push([quoted, TITLE(head)]);
      continue;
    }
    const slo = isSlo(head) ? sloStat(head) : null;
    const length = slo ? slo.size : head.size;
    const etag = slo ? slo.etag : head.etag;
    let segLength = length;
    let range = seg.range;
    if (range !== undefined) {
      const r = satisfiable(range, length);
      if (r === null) problems.push([quoted, "Unsatisfiable Range"]);
      else if (r[0] === 0 && r[1] === length - 1) range = undefined;
      else {
        range = `${r[0]}-${r[1]}`;
        segLength = r[1] - r[0] + 1;
      }
    }
    if (segLength < SLO_INFO.min_segment_size && i !== input.length - 1)
      problems.push([quoted, "Too small; each segment must be at least 1 byte."]);
    if (seg.size !== undefined && seg.size !== null && seg.size !== length)
      problems.push([quoted, "Size Mismatch"]);
    if (seg.etag !== undefined && seg.etag !== null && seg.etag.replace(/^"(.*)"$/, "$1") !== etag)
      problems.push([quoted, "Etag Mismatch"]);
    const entry: SloEntry = {
      name: `/${name}`,
      bytes: length,
      hash: etag,
      content_type: head.contentType.replace(/;\s*swift_bytes=\d+$/, ""),
      last_modified: isoMicro(head.timestamp),
    };
    if (range !== undefined) entry.range = range;
    if (slo) entry.sub_slo = true;
    stored.push(entry);
    etagHash.update(range !== undefined ? `${etag}:${range};` : etag);
    total += segLength;
  }
  if (problems.length) throw new SloProblems(problems);
  const sloEtag = etagHash.digest("hex");
  const given = header(ctx, "etag");
  if (given !== undefined && given.replace(/^"(.*)"$/, "$1") !== sloEtag) throw swiftError(422);
  const meta = new Map([
    [SLO_FLAG, "True"],
    [SLO_ETAG, sloEtag],
    [SLO_SIZE, String(total)],
  ]);
  return { body: Buffer.from(JSON.stringify(stored)), sloEtag, size: total, meta };
}

/** Each segment the manifest names, read once (as Swift's path2indices), `concurrency` at once, started in manifest
 *  order: the object, or the status of the SwiftError its lookup threw. */
async function lookupAll(
  input: Input[],
  lookup: (container: string, object: string) => Promise<StoredObject>,
  concurrency: number,
  tick?: () => void,
): Promise<Map<string, StoredObject | number>> {
  const names = [...new Set(input.flatMap((s) => ("path" in s ? [s.path.replace(/^\/+/, "")] : [])))];
  const heads = new Map<string, StoredObject | number>();
  let i = 0;
  await inFlight(
    concurrency,
    () => names[i++],
    async (name) => {
      const at = splitSegmentName(name) as { container: string; object: string };
      await sloPutTestHooks.beforeLookup?.(name);
      try {
        heads.set(name, await lookup(at.container, at.object));
      } catch (e) {
        if (!(e instanceof SwiftError)) throw e;
        heads.set(name, e.status);
      }
      tick?.();
    },
  );
  return heads;
}

/** Swift's answer to a refused manifest without heartbeat: 400 with the problem segments. */
export function sloProblemsReply(ctx: Ctx, problems: Array<[string, string]>): Reply {
  const type = bulkType(ctx) ?? "text/plain";
  return new Reply(400, bulkBody(formatOf(type), {}, problems, "upload"), {
    "content-type": bulkContentType(type),
  });
}

/** The answer to a stored manifest: 201 with the SLO's quoted ETag. */
export const sloCreated = (sloEtag: string, timestamp: string): Reply =>
  new Reply(201, "", {
    "content-type": "text/html; charset=UTF-8",
    "content-length": "0",
    etag: `"${sloEtag}"`,
    "last-modified": httpDate(timestamp),
  });
