// Part numbers: the partNumber of UploadPart and of GetObject/HeadObject (S3's 1..10,000), and the parts of an
// object as GET and HEAD by part number see them. An object completed from a multipart upload is an SLO whose
// segments are its parts in order (an upload of more than 1,000 parts has sub-manifests: their parts count, as in
// its ETag); any other object is one part.
import { createHash } from "node:crypto";
import type { Ctx } from "../api/request.js";
import { s3Error, type S3Error } from "./errors.js";
import { s3Header } from "./request.js";
import { isSubManifest, readManifest } from "./segments.js";
import type { SwiftClient } from "./swift.js";
import { MAX_PART_NUMBER } from "./limits.js";

/** A partNumber that is no integer within 1..MAX_PART_NUMBER: InvalidArgument, in s3api's words. */
export const partArgument = (raw: string): S3Error =>
  s3Error(
    "InvalidArgument",
    { ArgumentName: "partNumber", ArgumentValue: raw.slice(0, 32) },
    `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
  );

/** The part number of an UploadPart request: 1..MAX_PART_NUMBER, else InvalidArgument. */
export function uploadPartNumber(raw: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) throw partArgument(raw);
  return n;
}

/**
 * Whether a Range header is one Swift would honour (swob's Range: `bytes=` and specs `a-b`, `a-` or `-n`, none
 * reversed; spaces ignored). Swift ignores any other, and so does a read by part number.
 */
function validRange(v: string): boolean {
  const m = /^bytes=(.*)$/i.exec(v.replace(/ /g, ""));
  if (!m) return false;
  return m[1].split(",").every((spec) => {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    return r !== null && (r[1] !== "" || r[2] !== "") && (r[1] === "" || r[2] === "" || +r[2] >= +r[1]);
  });
}

/**
 * The part a GET or HEAD asks for with `partNumber` (undefined without one), checked as s3api does before the
 * object is read: not with a Range (InvalidRequest), an integer of at least 1 (InvalidArgument). The upper
 * bounds depend on the object (partInRange).
 */
export function requestedPart(ctx: Ctx, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const range = s3Header(ctx, "range");
  if (range !== undefined && validRange(range))
    throw s3Error("InvalidRequest", {}, "Cannot specify both Range header and partNumber query parameter");
  // What Python's int() takes, as s3api parses it (but for digits grouped with underscores).
  const n = /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1)) throw partArgument(raw);
  return n;
}

/** Check part `n` (of `raw`) against an object of `count` parts: InvalidArgument past 10,000, else InvalidPartNumber. */
export function partInRange(n: number, raw: string, count: number): void {
  if (n > Math.max(MAX_PART_NUMBER, count)) throw partArgument(raw);
  if (n > count) throw s3Error("InvalidPartNumber");
}

/** A multipart object as S3 shows it: its ETag, its parts' lengths in order, and its manifest's X-Timestamp. */
export interface PartLayout {
  etag: string;
  sizes: number[];
  timestamp: string | undefined;
}

/**
 * The parts of an SLO (of its version `versionId`): an upload's sub-manifests give way to their parts, inline data
 * is a part of its own; the ETag is the MD5 of the object-backed parts' binary MD5s, "-" and their count. Null when
 * the manifest cannot be read (or the object is no SLO any more).
 */
export async function partLayout(
  sw: SwiftClient,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<PartLayout | null> {
  const m = await readManifest(sw, bucket, key, true, versionId);
  if (m === null) return null;
  const parts = m.segments.filter((s) => !isSubManifest(s.path));
  const backed = parts.filter((s) => s.path !== "");
  const md5 = createHash("md5");
  for (const s of backed) md5.update(Buffer.from(s.etag, "hex"));
  return {
    etag: `"${md5.digest("hex")}-${backed.length}"`,
    sizes: parts.map((s) => s.size),
    timestamp: m.timestamp,
  };
}

/** Bytes [start, start + length) of an object of `total` bytes hold part `n` (1-based) of parts of these `sizes`. */
export function partSpan(sizes: number[], n: number): { start: number; length: number; total: number } {
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i];
  return { start, length: sizes[n - 1], total: sizes.reduce((a, b) => a + b, 0) };
}
