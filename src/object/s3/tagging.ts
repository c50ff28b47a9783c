// Object tagging: an object's tag set is kept in its Swift metadata (X-Object-Meta-S3api-Tagging, the tags in
// S3's URL-encoded form), hidden from S3's x-amz-meta-* and counted in x-amz-tagging-count. Set by x-amz-tagging
// on PutObject, CopyObject (x-amz-tagging-directive: REPLACE) and CreateMultipartUpload, or by PutObjectTagging;
// read by GetObjectTagging, removed by DeleteObjectTagging; with a versionId, a version's tags are its metadata's
// (only the current version's can change). Bucket tagging is bucket-tagging.ts's.
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { xmlReply } from "./bucket.js";
import { s3Error } from "./errors.js";
import { readSmallBody, s3Header, s3Query } from "./request.js";
import { versionError, versionHeader, versionQuery } from "./versioning.js";
import { fromSwift, h, type SwiftClient, type SwiftRes } from "./swift.js";
import { elements, hasRoot, text } from "./xml.js";

/** The Swift metadata header a tag set is kept in. */
export const TAGGING_META = "x-object-meta-s3api-tagging";

/** S3's bounds: tags per object, and key and value lengths (characters). */
const MAX_TAGS = 10;
const MAX_KEY = 128;
const MAX_VALUE = 256;

/** A tag set: key and value pairs in order. */
export type Tags = Array<[string, string]>;

/** Check a tag set against S3's bounds (InvalidTag): `max` tags (10 for objects, 50 for buckets). */
export function checked(tags: Tags, max = MAX_TAGS, what = "Object"): Tags {
  if (tags.length > max) throw s3Error("BadRequest", {}, `${what} tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k === "" || [...k].length > MAX_KEY || [...v].length > MAX_VALUE)
      throw s3Error("InvalidTag", {}, "The TagKey or TagValue you have provided is invalid");
    if (seen.has(k)) throw s3Error("InvalidTag", {}, "Cannot provide multiple Tags with the same key");
    seen.add(k);
  }
  return tags;
}

/** S3's URL-encoded form of a tag set (k1=v1&k2=v2). */
export const encode = (tags: Tags): string =>
  tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");

/** A URL-encoded tag set (an x-amz-tagging header, or what is stored), checked; InvalidArgument if unreadable. */
export function decode(raw: string, max = MAX_TAGS): Tags {
  const out: Tags = [];
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const i = part.indexOf("=");
    try {
      const k = decodeURIComponent((i < 0 ? part : part.slice(0, i)).replace(/\+/g, " "));
      const v = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
      out.push([k, v]);
    } catch {
      throw s3Error(
        "InvalidArgument",
        { ArgumentName: "x-amz-tagging" },
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      );
    }
  }
  return checked(out, max);
}

/** The metadata header an x-amz-tagging request header sets (none without one). */
export function taggingHeader(ctx: Ctx): Record<string, string> {
  const raw = s3Header(ctx, "x-amz-tagging");
  if (raw === undefined) return {};
  const tags = decode(raw);
  return tags.length ? { [TAGGING_META]: encode(tags) } : {};
}

/** The x-amz-tagging-count of an object's Swift headers (undefined without tags). */
export function tagCount(stored: string | undefined): string | undefined {
  if (stored === undefined || stored === "") return undefined;
  return String(stored.split("&").filter(Boolean).length);
}

/**
 * The Swift HEAD of the version a tagging request is about: the current object without a versionId; with one, the
 * current object when it is that version — an older version can be read but not changed (`write`): Swift refuses a
 * POST to a version other than the current one, so that is NotImplemented.
 */
async function taggedVersion(
  sw: SwiftClient,
  at: { bucket: string; key: string; id: string | undefined },
  write: boolean,
): Promise<SwiftRes> {
  const { bucket, key, id } = at;
  if (id === undefined || write) {
    const head = await sw.call("HEAD", bucket, key);
    if (id === undefined) {
      if (head.status !== 200) throw await notFound(sw, head, bucket, key);
      return head;
    }
    if (head.status === 200 && (h(head, "x-object-version-id") ?? "null") === id) return head;
  }
  const r = await sw.call("HEAD", bucket, key, { query: versionQuery(id) });
  if (r.status !== 200) throw await versionError(sw, r, { bucket, key, id });
  if (write)
    throw s3Error(
      "NotImplemented",
      {},
      "Only the current version's tags can be changed: Swift's object versioning keeps older versions as they were.",
    );
  return r;
}

/** Rewrite an object's user metadata with its tag set changed (Swift's POST replaces all user metadata). */
async function setTags(
  sw: SwiftClient,
  at: { bucket: string; key: string; id: string | undefined },
  tags: Tags,
): Promise<void> {
  const head = await taggedVersion(sw, at, true);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(head.headers))
    if (k.startsWith("x-object-meta-") && k !== TAGGING_META && v !== undefined) headers[k] = String(v);
  if (tags.length) headers[TAGGING_META] = encode(tags);
  const r = await sw.call("POST", at.bucket, at.key, { headers });
  if (r.status !== 202 && r.status !== 204) throw fromSwift(r, "key", { Key: at.key });
}

/** NoSuchBucket or NoSuchKey (or the failure) of a HEAD on an object that did not answer 200. */
async function notFound(sw: SwiftClient, r: SwiftRes, bucket: string, key: string) {
  if (r.status !== 404) return fromSwift(r, "key", { Key: key });
  const b = await sw.call("HEAD", bucket);
  return b.status === 404
    ? s3Error("NoSuchBucket", { BucketName: bucket })
    : s3Error("NoSuchKey", { Key: key });
}

/** GET, PUT and DELETE /bucket/key?tagging (with versionId: that version's tags, kept in its metadata). */
export async function taggingRequest(ctx: Ctx, sw: SwiftClient, bucket: string, key: string): Promise<Reply> {
  const id = s3Query(ctx).get("versionId");
  const at = { bucket, key, id };
  const version: Record<string, string> = id === undefined ? {} : { "x-amz-version-id": id };
  if (ctx.method === "GET") {
    const head = await taggedVersion(sw, at, false);
    const tags = decode(h(head, TAGGING_META) ?? "");
    return xmlReply("Tagging", { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } }, 200, {
      ...versionHeader(head),
      ...version,
    });
  }
  if (ctx.method === "DELETE") {
    await setTags(sw, at, []);
    return reply(204, undefined, version);
  }
  if (ctx.method !== "PUT") throw s3Error("MethodNotAllowed");
  await setTags(sw, at, await readTagging(ctx, MAX_TAGS, "Object"));
  return reply(200, "", version);
}

/** A PutObjectTagging or PutBucketTagging body: its tag set, checked (MalformedXML, InvalidTag). */
export async function readTagging(ctx: Ctx, max: number, what: string): Promise<Tags> {
  const xml = (await readSmallBody(ctx, 64 * 1024)).toString("utf8");
  if (!hasRoot(xml, "Tagging") || elements(xml, "TagSet").length !== 1) throw s3Error("MalformedXML");
  return checked(
    elements(xml, "Tag").map((t): [string, string] => {
      const k = text(t, "Key");
      const v = text(t, "Value");
      if (k === undefined || v === undefined) throw s3Error("MalformedXML");
      return [k, v];
    }),
    max,
    what,
  );
}
