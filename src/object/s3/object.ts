// Object operations: PutObject (with Content-MD5 and x-amz-content-sha256 checks), CopyObject (of a version too),
// GetObject and HeadObject (ranges, conditions, response-* overrides), DeleteObject and DeleteObjects, with user
// metadata (x-amz-meta-* as Swift's X-Object-Meta-*) and ETags as MD5 (md5-of-md5s-N for multipart uploads).
import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { reply, stream, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { cannedAccess, checkObjectAcl } from "./acl.js";
import { deletePaths, isSubManifest, keptOnReplace, rawManifest, uploadedPieces } from "./segments.js";
import { deleteVersion, markerRead, versionError, versionHeader, versionQuery } from "./versioning.js";
import type { S3Caller } from "./auth.js";
import { ChunkDecoder } from "./chunked.js";
import { TAGGING_META, tagCount, taggingHeader } from "./tagging.js";
import { S3Error, s3Error } from "./errors.js";
import { xmlReply } from "./bucket.js";
import { MAX_KEY_BYTES, quoteEtag, readSmallBody, s3Header, s3Query } from "./request.js";
import { fromSwift, h, type SwiftClient, type SwiftRes } from "./swift.js";
import { elements, hasRoot, text } from "./xml.js";
import { MAX_MULTI_DELETE_OBJECTS } from "./limits.js";

/** Swift's X-Object-Meta-* for the request's x-amz-meta-* headers, with the other headers an object keeps. */
export function objectHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.headers)) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(",") : v;
    if (k.startsWith("x-amz-meta-")) {
      // The tag set's own metadata is set only as tags.
      if (`x-object-meta-${k.slice(11)}` !== TAGGING_META) out[`x-object-meta-${k.slice(11)}`] = value;
    } else if (k === "content-type" || k === "content-disposition") out[k] = value;
    else if (k === "content-encoding") {
      // aws-chunked names the request's framing (a streaming upload), not the object's encoding.
      const kept = value
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e !== "" && e.toLowerCase() !== "aws-chunked");
      if (kept.length) out[k] = kept.join(",");
    }
  }
  return out;
}

/** The hex MD5 a Content-MD5 header (base64) stands for; InvalidDigest when it is not one. */
function contentMd5(ctx: Ctx): string | undefined {
  const v = s3Header(ctx, "content-md5");
  if (v === undefined) return undefined;
  const b = Buffer.from(v, "base64");
  if (b.length !== 16 || b.toString("base64") !== v) throw s3Error("InvalidDigest");
  return b.toString("hex");
}

/** An upload's body as Swift gets it: its data, its length, and the S3 error it failed with once it has. */
export interface UploadBody {
  body: Readable;
  length: string;
  failure: () => S3Error | null;
}

/** The request body, checked against x-amz-content-sha256 as it streams. */
function checkedBody(src: Readable | undefined, sha256: string | null, length: string): UploadBody {
  let bad: S3Error | null = null;
  const hash = createHash("sha256");
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (sha256 !== null) hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (sha256 !== null && hash.digest("hex") !== sha256) {
        bad = s3Error("XAmzContentSHA256Mismatch");
        cb(bad);
      } else cb();
    },
  });
  if (src) src.on("error", (e) => t.destroy(e)).pipe(t);
  else t.end();
  return { body: t, length, failure: () => bad };
}

/** An upload's length (Content-Length, or x-amz-decoded-content-length when streamed); MissingContentLength without. */
function declaredLength(ctx: Ctx, header: string): string {
  const len = s3Header(ctx, header);
  if (len === undefined || !/^\d{1,15}$/.test(len)) throw s3Error("MissingContentLength");
  return len;
}

/** The body of an upload: checked against its signed SHA-256, or decoded from signed chunks. */
export function uploadBody(ctx: Ctx, caller: S3Caller): UploadBody {
  const src = ctx.body as Readable | undefined;
  if (!caller.chunks) return checkedBody(src, caller.payloadSha256, declaredLength(ctx, "content-length"));
  declaredLength(ctx, "content-length");
  const length = declaredLength(ctx, "x-amz-decoded-content-length");
  const t = new ChunkDecoder(caller.chunks, Number(length));
  if (src) src.on("error", (e) => t.destroy(e)).pipe(t);
  else t.end();
  return { body: t, length, failure: () => t.failure };
}

/** PUT /bucket/key: store an object (or copy one with x-amz-copy-source). */
export async function putObject(ctx: Ctx, sw: SwiftClient, bucket: string, key: string): Promise<Reply> {
  await checkObjectAcl(sw, bucket, cannedAccess(ctx, true));
  if (s3Header(ctx, "x-amz-copy-source") !== undefined) return copyObject(ctx, sw, bucket, key);
  const md5 = contentMd5(ctx);
  const { body, length, failure } = uploadBody(ctx, sw.caller);
  const old = await uploadedPieces(sw, bucket, key);
  const r = await sw.call("PUT", bucket, key, {
    headers: { ...objectHeaders(ctx), ...taggingHeader(ctx), "content-length": length, etag: md5 },
    body,
  });
  const failed = failure();
  if (failed) throw failed;
  if (r.status !== 201)
    throw fromSwift(r, r.status === 404 ? "bucket" : "key", { BucketName: bucket, Key: key });
  // The object replaced was a multipart upload's: its parts are no longer part of anything.
  await deletePaths(sw, old);
  return reply(200, "", { etag: quoteEtag(h(r, "etag")), ...versionHeader(r) });
}

/** A copy's source: bucket, key and the version named (none: the current one). */
export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** The version an x-amz-copy-source query names (`versionId=<id>`; empty: none); any other parameter is refused. */
function sourceVersion(query: string): string | undefined {
  const params = new URLSearchParams(query);
  const names = [...params.keys()];
  if (names.length === 0) return undefined;
  if (names.length > 1 || names[0] !== "versionId")
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "x-amz-copy-source" },
      "Unsupported copy source parameter.",
    );
  return params.get("versionId") || undefined;
}

/** The bucket, key and version of an x-amz-copy-source value ("bucket/key[?versionId=id]", URL-encoded). */
export function copySource(v: string): CopySource {
  let raw = v;
  let versionId: string | undefined;
  const q = raw.indexOf("?");
  if (q >= 0) {
    versionId = sourceVersion(raw.slice(q + 1));
    raw = raw.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw s3Error("InvalidArgument", { ArgumentName: "x-amz-copy-source" }, "Invalid copy source encoding");
  }
  const m = /^\/?([^/]+)\/(.+)$/s.exec(decoded);
  if (!m || Buffer.byteLength(m[2]) > MAX_KEY_BYTES)
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "x-amz-copy-source" },
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    );
  return { bucket: m[1], key: m[2], ...(versionId !== undefined ? { versionId } : {}) };
}

/** The x-amz-copy-source-version-id of a copy: the source version Swift names, else the one asked for. */
export function copiedVersion(src: CopySource, swiftId: string | undefined): Record<string, string> {
  const id = swiftId ?? src.versionId;
  return id === undefined ? {} : { "x-amz-copy-source-version-id": id };
}

/** HTTP date as S3's ISO time. */
export const isoOf = (httpDate: string | undefined): string => {
  const t = Date.parse(httpDate ?? "");
  return new Date(Number.isNaN(t) ? Date.now() : t).toISOString();
};

/** The copy source's conditions (x-amz-copy-source-if-*) as the conditional headers of a request on the source. */
export function copyConditions(ctx: Ctx): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [from, to] of [
    ["x-amz-copy-source-if-match", "if-match"],
    ["x-amz-copy-source-if-none-match", "if-none-match"],
    ["x-amz-copy-source-if-modified-since", "if-modified-since"],
    ["x-amz-copy-source-if-unmodified-since", "if-unmodified-since"],
  ])
    out[to] = s3Header(ctx, from);
  return out;
}

/**
 * The tag headers of a copy: x-amz-tagging's with x-amz-tagging-directive REPLACE, else the source's — which
 * Swift's copy keeps, unless the metadata is replaced too (then they are read from the source and set again).
 */
async function copiedTags(
  ctx: Ctx,
  sw: SwiftClient,
  src: CopySource,
  metadata: string,
): Promise<Record<string, string>> {
  const directive = s3Header(ctx, "x-amz-tagging-directive") ?? "COPY";
  if (directive !== "COPY" && directive !== "REPLACE")
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "x-amz-tagging-directive" },
      "Unknown tagging directive.",
    );
  if (directive === "REPLACE") {
    const set = taggingHeader(ctx);
    return set[TAGGING_META] ? set : { [`x-remove-${TAGGING_META.slice(2)}`]: "1" };
  }
  if (metadata !== "REPLACE") return {};
  const kept = h(
    await sw.call("HEAD", src.bucket, src.key, { query: versionQuery(src.versionId) }),
    TAGGING_META,
  );
  return kept ? { [TAGGING_META]: kept } : {};
}

/** PUT /bucket/key with x-amz-copy-source: Swift's server-side copy (X-Copy-From), metadata copied or replaced. */
async function copyObject(ctx: Ctx, sw: SwiftClient, bucket: string, key: string): Promise<Reply> {
  const src = copySource(s3Header(ctx, "x-amz-copy-source") as string);
  const directive = s3Header(ctx, "x-amz-metadata-directive") ?? "COPY";
  if (directive !== "COPY" && directive !== "REPLACE")
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "x-amz-metadata-directive" },
      "Unknown metadata directive.",
    );
  // Copying a version named by id over its key restores it (as s3api, no metadata change needed).
  if (src.bucket === bucket && src.key === key && directive === "COPY" && src.versionId === undefined)
    throw s3Error(
      "InvalidRequest",
      {},
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  const headers: Record<string, string | undefined> = {
    "x-copy-from": `/${encodeURIComponent(src.bucket)}/${src.key.split("/").map(encodeURIComponent).join("/")}`,
    "content-length": "0",
  };
  if (directive === "REPLACE") Object.assign(headers, objectHeaders(ctx), { "x-fresh-metadata": "true" });
  Object.assign(headers, await copiedTags(ctx, sw, src, directive));
  Object.assign(headers, copyConditions(ctx));
  const old = await uploadedPieces(sw, bucket, key);
  // Swift's copy reads the source at the version its `?version-id=` names.
  const r = await sw.call("PUT", bucket, key, { headers, query: versionQuery(src.versionId) });
  if (r.status !== 201) throw await copyFailure(sw, r, { bucket, key }, src);
  // A copy flattens a multipart source into a plain object, so an upload replaced at the key (itself too) is unused.
  await deletePaths(sw, old);
  return xmlReply(
    "CopyObjectResult",
    { LastModified: isoOf(h(r, "last-modified")), ETag: quoteEtag(h(r, "etag")) },
    200,
    { ...versionHeader(r), ...copiedVersion(src, h(r, "x-copied-from-version-id")) },
  );
}

/** The S3 error of a copy Swift refused (`r`): the missing bucket, source key or source version, else Swift's. */
async function copyFailure(
  sw: SwiftClient,
  r: SwiftRes,
  to: { bucket: string; key: string },
  src: CopySource,
): Promise<S3Error> {
  const { bucket, key } = to;
  const id = src.versionId;
  if (r.status === 404 || (r.status === 400 && id !== undefined)) {
    const dst = await sw.call("HEAD", bucket);
    if (dst.status === 404) return s3Error("NoSuchBucket", { BucketName: bucket });
    if (id !== undefined) {
      const v = await sw.call("HEAD", src.bucket, src.key, { query: versionQuery(id) });
      if (v.status !== 200) return versionError(sw, v, { bucket: src.bucket, key: src.key, id }, true);
    }
    if (r.status === 404) return missingSource(sw, src);
  }
  if (r.status === 304) return s3Error("PreconditionFailed");
  return fromSwift(r, "key", { Key: key });
}

/** The S3 error for a copy source Swift did not find: its bucket is missing, else its key. */
export async function missingSource(sw: SwiftClient, src: CopySource): Promise<S3Error> {
  const from = await sw.call("HEAD", src.bucket);
  return from.status === 404
    ? s3Error("NoSuchBucket", { BucketName: src.bucket })
    : s3Error("NoSuchKey", { Key: src.key });
}

/** The S3 ETag of a Swift static large object: MD5 of its segments' binary MD5s, "-" and their count. */
async function multipartEtag(
  sw: SwiftClient,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<string | undefined> {
  const all = await rawManifest(sw, bucket, key, true, versionId);
  if (all === null) return undefined;
  // An upload of more than 1,000 parts is made of sub-manifests: its parts are theirs.
  const segs = all.filter((s) => !isSubManifest(s.path));
  const md5 = createHash("md5");
  for (const s of segs) md5.update(Buffer.from(s.etag, "hex"));
  return `"${md5.digest("hex")}-${segs.length}"`;
}

/** The headers of an object answer, from Swift's (metadata renamed, response-* overrides applied). */
function answerHeaders(ctx: Ctx, r: SwiftRes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(",") : String(v);
    if (k === TAGGING_META) out["x-amz-tagging-count"] = tagCount(value) ?? "0";
    else if (k === "x-object-version-id") out["x-amz-version-id"] = value;
    else if (k.startsWith("x-object-meta-")) out[`x-amz-meta-${k.slice(14)}`] = value;
    else if (
      [
        "content-type",
        "content-length",
        "content-range",
        "last-modified",
        "content-encoding",
        "content-disposition",
        "accept-ranges",
        "expires",
        "cache-control",
      ].includes(k)
    )
      out[k] = value;
  }
  out.etag = quoteEtag(h(r, "etag"));
  const q = s3Query(ctx);
  for (const name of [
    "content-type",
    "content-language",
    "expires",
    "cache-control",
    "content-disposition",
    "content-encoding",
  ]) {
    const v = q.get(`response-${name}`);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Turn a Swift 404 about an object into NoSuchBucket or NoSuchKey (a HEAD of the container tells). */
async function missing(sw: SwiftClient, bucket: string, key: string): Promise<S3Error> {
  const c = await sw.call("HEAD", bucket);
  return c.status === 404
    ? s3Error("NoSuchBucket", { BucketName: bucket })
    : s3Error("NoSuchKey", { Key: key });
}

/** GET or HEAD /bucket/key: the object's data (a range of it) and its metadata. */
export async function getObject(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  head: boolean,
): Promise<Reply> {
  const q = s3Query(ctx);
  if (q.has("partNumber")) throw s3Error("NotImplemented", {}, "GET by part number is not supported.");
  const headers: Record<string, string | undefined> = {};
  for (const n of ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"])
    headers[n] = s3Header(ctx, n);
  const versionId = q.get("versionId");
  const r = await sw.call(head ? "HEAD" : "GET", bucket, key, {
    headers,
    stream: !head,
    query: versionQuery(versionId),
  });
  const drain = () => r.stream?.resume();
  if (r.status === 304) {
    drain();
    return reply(304, undefined, { etag: quoteEtag(h(r, "etag")) });
  }
  if (r.status !== 200 && r.status !== 206) {
    drain();
    if (versionId !== undefined && versionId !== "null" && (r.status === 404 || r.status === 400))
      throw await versionError(sw, r, { bucket, key, id: versionId });
    const marker = markerRead(r, versionId);
    if (marker) throw marker;
    if (r.status === 404) throw await missing(sw, bucket, key);
    if (r.status === 416) throw s3Error("InvalidRange", { RangeRequested: headers.range ?? "" });
    throw fromSwift(r, "key", { Key: key });
  }
  const out = answerHeaders(ctx, r);
  if (h(r, "x-static-large-object") === "True") {
    const etag = await multipartEtag(sw, bucket, key, versionId);
    if (etag) out.etag = etag;
  }
  if (head) return reply(r.status, undefined, out);
  return stream(r.status, r.stream as Readable, out);
}

/**
 * DELETE /bucket/key: the object (a multipart upload's segments too), or with versionId that version; 204 whether
 * it existed or not. In a versioned bucket the answer names the delete marker left.
 */
export async function deleteObject(ctx: Ctx, sw: SwiftClient, bucket: string, key: string): Promise<Reply> {
  const versionId = s3Query(ctx).get("versionId");
  if (versionId !== undefined) return reply(204, undefined, await deleteVersion(sw, bucket, key, versionId));
  return reply(204, undefined, await deleteOne(sw, bucket, key));
}

/**
 * Delete one key, with its segments when it is a multipart upload's manifest the bucket does not keep as a
 * version; S3 errors for what went wrong. Returns the delete marker's headers when one was left.
 */
async function deleteOne(sw: SwiftClient, bucket: string, key: string): Promise<Record<string, string>> {
  const head = await sw.call("HEAD", bucket, key);
  if (head.status !== 200 && head.status !== 404) throw fromSwift(head, "key", { Key: key });
  const slo =
    head.status === 200 &&
    h(head, "x-static-large-object") === "True" &&
    !(await keptOnReplace(sw, bucket, head));
  // A missing key is deleted all the same: in a versioned bucket that leaves a delete marker, as S3.
  const r = await sw.call("DELETE", bucket, key, slo ? { query: { "multipart-manifest": "delete" } } : {});
  if (r.status !== 204 && r.status !== 200 && r.status !== 404) throw fromSwift(r, "key", { Key: key });
  const marker = h(r, "x-object-version-id");
  if (r.status === 404 && marker === undefined) {
    const c = await sw.call("HEAD", bucket);
    if (c.status === 404) throw s3Error("NoSuchBucket", { BucketName: bucket });
  }
  return marker === undefined ? {} : { "x-amz-delete-marker": "true", "x-amz-version-id": marker };
}

/** POST /bucket?delete: delete up to MAX_MULTI_DELETE_OBJECTS keys named in a <Delete> document; per-key results (Quiet drops successes). */
export async function deleteObjects(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  const xml = (await readSmallBody(ctx)).toString("utf8");
  if (!hasRoot(xml, "Delete")) throw s3Error("MalformedXML");
  const quiet = text(xml, "Quiet") === "true";
  const objects = elements(xml, "Object");
  if (objects.length === 0 || objects.length > MAX_MULTI_DELETE_OBJECTS) throw s3Error("MalformedXML");
  const c = await sw.call("HEAD", bucket);
  if (c.status !== 204 && c.status !== 200) throw fromSwift(c, "bucket", { BucketName: bucket });
  const deleted: Array<{ Key: string }> = [];
  const errors: Array<{ Key: string; Code: string; Message: string }> = [];
  for (const o of objects) {
    const key = text(o, "Key");
    if (key === undefined || key === "") throw s3Error("MalformedXML");
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
      errors.push({ Key: key, Code: "KeyTooLongError", Message: "Your key is too long." });
      continue;
    }
    const versionId = text(o, "VersionId");
    try {
      const done =
        versionId === undefined
          ? await deleteOne(sw, bucket, key)
          : await deleteVersion(sw, bucket, key, versionId);
      if (!quiet)
        deleted.push({
          Key: key,
          ...(versionId !== undefined ? { VersionId: versionId } : {}),
          ...(done["x-amz-delete-marker"] ? { DeleteMarker: "true" } : {}),
          ...(versionId === undefined && done["x-amz-version-id"]
            ? { DeleteMarkerVersionId: done["x-amz-version-id"] }
            : {}),
        });
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      errors.push({ Key: key, Code: e.code, Message: e.message });
    }
  }
  return xmlReply("DeleteResult", { Deleted: deleted, Error: errors });
}
