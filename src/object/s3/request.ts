// The parts of an S3 request every operation reads: bucket and key from the raw path (path-style addressing),
// query parameters, headers, and small bodies read whole within a bound.
import type { Ctx } from "../api/request.js";
import { queryPairs, safeDecode } from "../../shared/auth/aws-signature.js";
import { s3Error } from "./errors.js";

/** Longest key S3 takes, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** Largest XML request body read (multi-delete of 1000 long keys fits; S3's own limit is near). */
export const MAX_XML_BODY = 2 * 1024 * 1024;

/** The bucket and key a path-style request addresses (either may be absent). */
export interface S3Target {
  bucket?: string;
  key?: string;
}

/** The bucket a virtual-hosted-style request names in its Host (<bucket>.<domain>, any port), if it does. */
export function hostBucket(ctx: Ctx, domain: string): string | undefined {
  if (domain === "") return undefined;
  const host = (s3Header(ctx, "host") ?? "").replace(/:\d+$/, "").toLowerCase();
  const suffix = `.${domain.toLowerCase()}`;
  return host.endsWith(suffix) && host.length > suffix.length ? host.slice(0, -suffix.length) : undefined;
}

/** Bucket and key from the Host (virtual-hosted style) or the path below the S3 prefix; the key within S3's limit. */
export function s3Target(ctx: Ctx, inHost?: string): S3Target {
  const path = ctx.url.split("?")[0];
  const m = inHost !== undefined ? /^(?:\/(.*))?$/s.exec(path) : /^\/([^/]*)(?:\/(.*))?$/s.exec(path);
  if (!m) return {};
  const [rawBucket, rawKey] = inHost !== undefined ? [encodeURIComponent(inHost), m[1]] : [m[1], m[2]];
  if (rawBucket === "") return {};
  const bucket = safeDecode(rawBucket);
  if (bucket === null || !/^[A-Za-z0-9._-]{1,255}$/.test(bucket))
    throw s3Error("InvalidBucketName", { BucketName: rawBucket.slice(0, 255) });
  if (rawKey === undefined || rawKey === "") return { bucket };
  const key = safeDecode(rawKey);
  if (key === null || key.includes("\0") || key.includes("\uFFFD"))
    throw s3Error("InvalidURI", {}, "Couldn't parse the specified URI.");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw s3Error("KeyTooLongError", {
      MaxSizeAllowed: String(MAX_KEY_BYTES),
      Size: String(Buffer.byteLength(key)),
    });
  return { bucket, key };
}

/** Whether a name is a DNS-compatible bucket name (what CreateBucket accepts, as S3 and s3api's default). */
export const validNewBucket = (name: string): boolean =>
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
  !name.includes("..") &&
  !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
  !name.includes(".-") &&
  !name.includes("-.");

/** The raw query's parameters (first value of each), decoded. */
export function s3Query(ctx: Ctx): Map<string, string> {
  const raw = ctx.url.includes("?") ? ctx.url.slice(ctx.url.indexOf("?") + 1) : "";
  const out = new Map<string, string>();
  for (const [k, v] of queryPairs(raw)) if (!out.has(k)) out.set(k, v);
  return out;
}

/** A request header's value (repeated values joined). */
export function s3Header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Read a small request body whole; MaxMessageLengthExceeded past `max` bytes. */
export async function readSmallBody(ctx: Ctx, max = MAX_XML_BODY): Promise<Buffer> {
  const declared = Number(s3Header(ctx, "content-length") ?? "0");
  if (declared > max) throw s3Error("MaxMessageLengthExceeded");
  const body = ctx.body as AsyncIterable<Buffer> | undefined;
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw s3Error("MaxMessageLengthExceeded");
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

/** Swift's listing time (2026-01-02T03:04:05.123456) as S3's (2026-01-02T03:04:05.123Z). */
export function s3Time(swift: string | undefined): string {
  const t = Date.parse(`${(swift ?? "").slice(0, 23)}Z`);
  return new Date(Number.isNaN(t) ? 0 : t).toISOString();
}

/** An ETag as S3 shows it: quoted. */
export const quoteEtag = (e: string | undefined): string => `"${(e ?? "").replace(/^"(.*)"$/, "$1")}"`;

/** A Swift listing row's S3 ETag, as s3api lists it: its s3_etag, an SLO's slo_etag as "<etag>-N", else its MD5. */
export const listedEtag = (r: { hash?: string; s3_etag?: string; slo_etag?: string }): string =>
  quoteEtag(r.s3_etag ?? (r.slo_etag !== undefined ? `${r.slo_etag.replace(/^"(.*)"$/, "$1")}-N` : r.hash));
