// Bucket tagging (Get/Put/DeleteBucketTagging): a bucket's tag set (at most 50) is kept in its container's metadata
// in S3's URL-encoded form, cut into 256-byte pieces (Swift's limit on one value) under
// X-Container-Meta-S3api-Tagging-<n>. A bucket without tags answers NoSuchTagSet.
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { xmlReply } from "./bucket.js";
import { s3Error } from "./errors.js";
import { decode, encode, readTagging } from "./tagging.js";
import { fromSwift, type SwiftClient, type SwiftRes } from "./swift.js";

/** The prefix of the metadata headers a bucket's tag set is kept in. */
const PIECE = "x-container-meta-s3api-tagging-";
/** S3's bound on a bucket's tags. */
const MAX_BUCKET_TAGS = 50;
/** Swift's bound on one metadata value. */
const PIECE_BYTES = 256;

/** The stored tag pieces' header names of a container HEAD, in order. */
const pieces = (r: SwiftRes): string[] =>
  Object.keys(r.headers)
    .filter((k) => k.startsWith(PIECE) && /^\d+$/.test(k.slice(PIECE.length)))
    .sort((a, b) => Number(a.slice(PIECE.length)) - Number(b.slice(PIECE.length)));

/** HEAD the bucket: NoSuchBucket (or the failure) unless it exists. */
async function headOf(sw: SwiftClient, bucket: string): Promise<SwiftRes> {
  const r = await sw.call("HEAD", bucket);
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return r;
}

/** Cut an encoded tag set into pieces of at most 256 bytes (it is ASCII: URL-encoded). */
function cut(encoded: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < encoded.length; i += PIECE_BYTES) out.push(encoded.slice(i, i + PIECE_BYTES));
  return out;
}

/** Replace the stored tag set: new pieces set, the old ones past them removed. */
async function store(sw: SwiftClient, bucket: string, head: SwiftRes, encoded: string): Promise<void> {
  const headers: Record<string, string> = {};
  for (const k of pieces(head))
    headers[`x-remove-container-meta-${k.slice("x-container-meta-".length)}`] = "x";
  cut(encoded).forEach((p, i) => {
    delete headers[`x-remove-container-meta-s3api-tagging-${i}`];
    headers[`${PIECE}${i}`] = p;
  });
  const r = await sw.call("POST", bucket, undefined, { headers });
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
}

/** GET, PUT and DELETE /bucket?tagging. */
export async function bucketTagging(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  if (ctx.method === "PUT") {
    const tags = await readTagging(ctx, MAX_BUCKET_TAGS, "Bucket");
    await store(sw, bucket, await headOf(sw, bucket), encode(tags));
    return reply(204, undefined);
  }
  const head = await headOf(sw, bucket);
  if (ctx.method === "DELETE") {
    await store(sw, bucket, head, "");
    return reply(204, undefined);
  }
  if (ctx.method !== "GET") throw s3Error("MethodNotAllowed");
  const raw = pieces(head)
    .map((k) => String(head.headers[k]))
    .join("");
  if (raw === "") throw s3Error("NoSuchTagSet", { BucketName: bucket });
  const tags = decode(raw, MAX_BUCKET_TAGS);
  return xmlReply("Tagging", { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } });
}
