// Object operations: PutObject (with Content-MD5 and x-amz-content-sha256 checks), CopyObject (of a version too),
// GetObject and HeadObject (ranges, conditions, response-* overrides, one part by partNumber), DeleteObject and
// DeleteObjects, with user metadata (x-amz-meta-* as Swift's X-Object-Meta-*) and ETags as MD5 (md5-of-md5s-N for
// multipart uploads).
import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { reply, stream, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { cannedAccess, checkObjectAcl } from "./acl.js";
import { ApiError } from "../../shared/http/errors.js";
import { checkConditions } from "../api/conditions.js";
import { deletePaths, keptOnReplace, uploadedPieces } from "./segments.js";
import { partInRange, partLayout, partSpan, requestedPart } from "./parts.js";
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

/** An object a read addresses: bucket, key and the version asked for (none: the current one). */
interface ReadTarget {
  bucket: string;
  key: string;
  versionId: string | undefined;
}

/** The S3 error (or the 304 answer) of a Swift read of an object that did not answer 200 or 206. */
async function readFailure(sw: SwiftClient, r: SwiftRes, at: ReadTarget, range?: string): Promise<Reply> {
  r.stream?.resume();
  const { bucket, key, versionId } = at;
  if (r.status === 304) return reply(304, undefined, { etag: await shownEtag(sw, r, at) });
  if (versionId !== undefined && versionId !== "null" && (r.status === 404 || r.status === 400))
    throw await versionError(sw, r, { bucket, key, id: versionId });
  const marker = markerRead(r, versionId);
  if (marker) throw marker;
  if (r.status === 404) throw await missing(sw, bucket, key);
  if (r.status === 416) throw s3Error("InvalidRange", { RangeRequested: range ?? "" });
  throw fromSwift(r, "key", { Key: key });
}

/**
 * The ETag S3 shows for the object a Swift answer without its headers (a 304) is about: a multipart upload's own,
 * found from a HEAD and the manifest, or Swift's.
 */
async function shownEtag(sw: SwiftClient, r: SwiftRes, at: ReadTarget): Promise<string> {
  const etag = quoteEtag(h(r, "etag"));
  const now = await sw.call("HEAD", at.bucket, at.key, { query: versionQuery(at.versionId) });
  if (now.status !== 200 || h(now, "x-static-large-object") !== "True") return etag;
  return (await partLayout(sw, at.bucket, at.key, at.versionId))?.etag ?? etag;
}

/** The conditional headers of a GET or HEAD. */
const CONDITIONS = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

/** A multipart upload's S3 ETag ("<md5>-<parts>", quoted or not), which is never a Swift ETag. */
const MULTIPART_ETAG = /^(?:W\/)?"?[0-9a-f]{32}-\d+"?$/i;

/**
 * Whether If-Match or If-None-Match names a multipart upload's S3 ETag. Swift compares them with its own ETag (an
 * SLO's), so such a request's conditions are all checked here against the ETag S3 shows, once it is known (s3api
 * points Swift at the S3 ETag it stored instead).
 */
function conditionsHere(ctx: Ctx): boolean {
  return ["if-match", "if-none-match"].some((n) =>
    (s3Header(ctx, n) ?? "").split(",").some((t) => MULTIPART_ETAG.test(t.trim())),
  );
}

/** The 304 answer when the request's conditions send one for an object (Swift's answer `r`, shown with `etag`). */
function conditionsAnswer(ctx: Ctx, r: SwiftRes, etag: string, key: string): Reply | undefined {
  const time = h(r, "x-timestamp") ?? String(Date.parse(h(r, "last-modified") ?? "") / 1000);
  try {
    checkConditions(ctx, etag.replace(/^"|"$/g, ""), time);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 304) return reply(304, undefined, { etag });
    throw s3Error("PreconditionFailed", { Key: key });
  }
  return undefined;
}

/** How many times a read by part number (or with conditions checked here) starts over when the object changes. */
const READ_ATTEMPTS = 3;

/** GET or HEAD /bucket/key: the object's data (a range of it, or one part of it) and its metadata. */
export async function getObject(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  head: boolean,
): Promise<Reply> {
  const q = s3Query(ctx);
  const rawPart = q.get("partNumber");
  const part = requestedPart(ctx, rawPart);
  const at: ReadTarget = { bucket, key, versionId: q.get("versionId") };
  const here = conditionsHere(ctx);
  if (part !== undefined || here)
    return checkedRead(ctx, sw, at, head, {
      part: part === undefined ? undefined : { n: part, raw: rawPart as string },
      here,
    });
  const headers: Record<string, string | undefined> = { range: s3Header(ctx, "range") };
  for (const n of CONDITIONS) headers[n] = s3Header(ctx, n);
  const r = await sw.call(head ? "HEAD" : "GET", bucket, key, {
    headers,
    stream: !head,
    query: versionQuery(at.versionId),
  });
  if (r.status !== 200 && r.status !== 206) return readFailure(sw, r, at, headers.range);
  const out = answerHeaders(ctx, r);
  if (h(r, "x-static-large-object") === "True") {
    const layout = await partLayout(sw, bucket, key, at.versionId);
    if (layout) out.etag = layout.etag;
  }
  if (head) return reply(r.status, undefined, out);
  return stream(r.status, r.stream as Readable, out);
}

/**
 * A read that needs the object's S3 shape before its data: one part of it (`part`), or conditions naming a
 * multipart ETag. A HEAD (with the conditions Swift can check) finds the object; a multipart upload's manifest gives
 * its parts and S3 ETag; the data is then read pinned to the ETag the HEAD saw (If-Match), as a range for a part of
 * a multipart object. An object replaced between these reads is read again.
 */
async function checkedRead(
  ctx: Ctx,
  sw: SwiftClient,
  at: ReadTarget,
  head: boolean,
  how: { part: { n: number; raw: string } | undefined; here: boolean },
): Promise<Reply> {
  const { bucket, key, versionId } = at;
  const { part, here } = how;
  const conditions: Record<string, string | undefined> = {};
  if (!here) for (const n of CONDITIONS) conditions[n] = s3Header(ctx, n);
  const query = versionQuery(versionId);
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    const r = await sw.call("HEAD", bucket, key, { headers: conditions, query });
    if (r.status !== 200) return readFailure(sw, r, at);
    const out = answerHeaders(ctx, r);
    let sizes = [Number(h(r, "content-length") ?? 0)];
    if (h(r, "x-static-large-object") === "True") {
      const layout = await partLayout(sw, bucket, key, versionId);
      // Its manifest is another write's (or none): the object changed since the HEAD.
      if (!layout || layout.timestamp !== h(r, "x-timestamp")) continue;
      out.etag = layout.etag;
      sizes = layout.sizes;
      if (part) out["x-amz-mp-parts-count"] = String(sizes.length);
    }
    if (here) {
      const answer = conditionsAnswer(ctx, r, out.etag, key);
      if (answer) return answer;
    }
    const data: Record<string, string | undefined> = { "if-match": h(r, "etag") };
    if (part) {
      partInRange(part.n, part.raw, sizes.length);
      const { start, length, total } = partSpan(sizes, part.n);
      out["content-length"] = String(length);
      // Every part but an empty one answers with its range of the object (a sole part: all of it, read whole).
      if (length > 0) {
        out["content-range"] = `bytes ${start}-${start + length - 1}/${total}`;
        if (sizes.length > 1) data.range = `bytes=${start}-${start + length - 1}`;
      }
      if (head || length === 0) return reply(length > 0 ? 206 : 200, head ? undefined : "", out);
    } else {
      if (head) return reply(200, undefined, out);
      data.range = s3Header(ctx, "range");
    }
    const g = await sw.call("GET", bucket, key, { headers: data, query, stream: true });
    if (g.status === 412) {
      g.stream?.resume();
      continue;
    }
    if (g.status !== 200 && g.status !== 206) return readFailure(sw, g, at, data.range);
    if (part) return stream(206, g.stream as Readable, out);
    return stream(g.status, g.stream as Readable, { ...answerHeaders(ctx, g), etag: out.etag });
  }
  throw s3Error(
    "InternalError",
    { Key: key },
    "The object kept changing while it was read; please try again.",
  );
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
