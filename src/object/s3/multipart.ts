// Multipart uploads as Swift's s3api keeps them: in the "<bucket>+segments" container, a marker object
// "<key>/<upload id>" holds the future object's metadata and each part is "<key>/<upload id>/<part number>";
// completion writes an SLO manifest of the parts at the key (ETag: MD5 of the parts' MD5s, "-", their count).
import { createHash, randomUUID } from "node:crypto";
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { SLO_INFO } from "../api/slo.js";
import { deletePaths, segmentPath, uploadPath, uploadedPieces } from "./segments.js";
import { versionError, versionHeader, versionQuery } from "./versioning.js";
import { guessContentType } from "../api/content-type.js";
import { owner, segmentsOf, xmlReply } from "./bucket.js";
import { cannedAccess, checkObjectAcl } from "./acl.js";
import { taggingHeader } from "./tagging.js";
import { uploadPartNumber } from "./parts.js";
import { s3Error } from "./errors.js";
import {
  copiedVersion,
  copyConditions,
  copySource,
  isoOf,
  missingSource,
  objectHeaders,
  uploadBody,
} from "./object.js";
import { quoteEtag, readSmallBody, s3Header, s3Query, s3Time } from "./request.js";
import { fromSwift, h, type SwiftClient } from "./swift.js";
import { elements, hasRoot, text } from "./xml.js";
import { MAX_PART_NUMBER, MAX_PARTS_LISTING, MAX_UPLOADS_LISTING } from "./limits.js";

interface Listed {
  name: string;
  hash: string;
  bytes: number;
  last_modified: string;
  content_type?: string;
}

/** The upload's marker object, or NoSuchUpload. */
async function marker(sw: SwiftClient, bucket: string, key: string, id: string) {
  if (!/^[0-9a-f]{32}$/.test(id)) throw s3Error("NoSuchUpload", { UploadId: id.slice(0, 64) });
  const r = await sw.call("HEAD", segmentsOf(bucket), uploadPath(key, id));
  if (r.status === 404) {
    const b = await sw.call("HEAD", bucket);
    if (b.status === 404) throw s3Error("NoSuchBucket", { BucketName: bucket });
    throw s3Error("NoSuchUpload", { UploadId: id });
  }
  if (r.status !== 200) throw fromSwift(r, "key", { Key: key });
  return r;
}

/** Every stored part of an upload, by part number. */
async function storedParts(
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Map<number, Listed>> {
  const prefix = `${uploadPath(key, id)}/`;
  const out = new Map<number, Listed>();
  let from = "";
  for (;;) {
    const page = (await sw.json("GET", segmentsOf(bucket), undefined, {
      query: { format: "json", prefix, marker: from || undefined, limit: "10000" },
    })) as Listed[];
    for (const p of page) {
      const n = Number(p.name.slice(prefix.length));
      if (Number.isInteger(n) && n >= 1 && n <= MAX_PART_NUMBER) out.set(n, p);
    }
    if (page.length < 10000) return out;
    from = page[page.length - 1].name;
  }
}

/** POST /bucket/key?uploads: start an upload. */
export async function createUpload(ctx: Ctx, sw: SwiftClient, bucket: string, key: string): Promise<Reply> {
  const b = await sw.call("HEAD", bucket);
  if (b.status !== 204 && b.status !== 200) throw fromSwift(b, "bucket", { BucketName: bucket });
  await checkObjectAcl(sw, bucket, cannedAccess(ctx, true));
  const seg = await sw.call("PUT", segmentsOf(bucket));
  if (seg.status !== 201 && seg.status !== 202) throw fromSwift(seg, "bucket", { BucketName: bucket });
  const id = randomUUID().replace(/-/g, "");
  const headers = { ...objectHeaders(ctx), ...taggingHeader(ctx) };
  // The final object's content type travels as the marker's metadata (the marker's own type is fixed).
  const finalType = headers["content-type"];
  delete headers["content-type"];
  const r = await sw.call("PUT", segmentsOf(bucket), uploadPath(key, id), {
    headers: {
      ...headers,
      "content-type": "application/directory",
      "x-object-meta-s3-content-type": finalType,
      "content-length": "0",
    },
    body: "",
  });
  if (r.status !== 201) throw fromSwift(r, "key", { Key: key });
  return xmlReply("InitiateMultipartUploadResult", { Bucket: bucket, Key: key, UploadId: id });
}

/** PUT /bucket/key?partNumber=N&uploadId=ID: store one part. */
export async function uploadPart(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Reply> {
  const n = uploadPartNumber(s3Query(ctx).get("partNumber") ?? "");
  if (s3Header(ctx, "x-amz-copy-source") !== undefined) return copyPart(ctx, sw, { bucket, key, id, n });
  await marker(sw, bucket, key, id);
  const md5 = s3Header(ctx, "content-md5");
  const etag = md5 === undefined ? undefined : Buffer.from(md5, "base64").toString("hex");
  if (etag !== undefined && etag.length !== 32) throw s3Error("InvalidDigest");
  const { body, length, failure } = uploadBody(ctx, sw.caller);
  const r = await sw.call("PUT", segmentsOf(bucket), `${uploadPath(key, id)}/${n}`, {
    headers: { "content-length": length, etag },
    body,
  });
  const failed = failure();
  if (failed) throw failed;
  if (r.status !== 201) throw fromSwift(r, "key", { Key: key });
  return reply(200, "", { etag: quoteEtag(h(r, "etag")) });
}

/** The byte range an x-amz-copy-source-range asks for ("bytes=first-last"), or undefined for the whole source. */
function copyRange(ctx: Ctx): { first: number; last: number } | undefined {
  const raw = s3Header(ctx, "x-amz-copy-source-range");
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(raw);
  if (!m || Number(m[1]) > Number(m[2]))
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "x-amz-copy-source-range", ArgumentValue: raw.slice(0, 64) },
      "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
    );
  return { first: Number(m[1]), last: Number(m[2]) };
}

/** PUT ?partNumber&uploadId with x-amz-copy-source (UploadPartCopy): a part from another object's data (a range of it). */
async function copyPart(
  ctx: Ctx,
  sw: SwiftClient,
  to: { bucket: string; key: string; id: string; n: number },
): Promise<Reply> {
  const src = copySource(s3Header(ctx, "x-amz-copy-source") as string);
  const range = copyRange(ctx);
  await marker(sw, to.bucket, to.key, to.id);
  const r = await sw.call("GET", src.bucket, src.key, {
    headers: { ...copyConditions(ctx), range: range && `bytes=${range.first}-${range.last}` },
    query: versionQuery(src.versionId),
    stream: true,
  });
  if (r.status !== 200 && r.status !== 206) {
    r.stream?.resume();
    if (r.status === 304 || r.status === 412) throw s3Error("PreconditionFailed");
    if (src.versionId !== undefined && (r.status === 404 || r.status === 400))
      throw await versionError(sw, r, { bucket: src.bucket, key: src.key, id: src.versionId }, true);
    if (r.status === 404) throw await missingSource(sw, src);
    if (r.status === 416) throw s3Error("InvalidRange");
    throw fromSwift(r, "key", { Key: src.key });
  }
  const length = Number(h(r, "content-length"));
  // Swift shortens a range past the end; S3 refuses it.
  if (range && length !== range.last - range.first + 1) {
    r.stream?.resume();
    throw s3Error("InvalidRange", {}, "The x-amz-copy-source-range is not within the source object's size.");
  }
  const put = await sw.call("PUT", segmentsOf(to.bucket), `${uploadPath(to.key, to.id)}/${to.n}`, {
    headers: { "content-length": String(length) },
    body: r.stream,
  });
  if (put.status !== 201) throw fromSwift(put, "key", { Key: to.key });
  return xmlReply(
    "CopyPartResult",
    { LastModified: isoOf(h(put, "last-modified")), ETag: quoteEtag(h(put, "etag")) },
    200,
    copiedVersion(src, h(r, "x-object-version-id")),
  );
}

/** GET /bucket/key?uploadId=ID: the upload's parts, max-parts at a time after part-number-marker. */
export async function listParts(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Reply> {
  const q = s3Query(ctx);
  const rawMax = q.get("max-parts") ?? "1000";
  const rawMarker = q.get("part-number-marker") ?? "0";
  if (!/^\d{1,6}$/.test(rawMax) || !/^\d{1,6}$/.test(rawMarker))
    throw s3Error("InvalidArgument", {}, "max-parts and part-number-marker must be integers");
  const max = Math.min(Number(rawMax), MAX_PARTS_LISTING);
  const after = Number(rawMarker);
  await marker(sw, bucket, key, id);
  const all = [...(await storedParts(sw, bucket, key, id))]
    .filter(([n]) => n > after)
    .sort(([a], [b]) => a - b);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  return xmlReply("ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: id,
    Initiator: owner(sw),
    Owner: owner(sw),
    StorageClass: "STANDARD",
    PartNumberMarker: after,
    NextPartNumberMarker: page.length ? page[page.length - 1][0] : after,
    MaxParts: max,
    IsTruncated: truncated,
    Part: page.map(([n, p]) => ({
      PartNumber: n,
      LastModified: s3Time(p.last_modified),
      ETag: quoteEtag(p.hash),
      Size: p.bytes,
    })),
  });
}

/** Delete an upload's parts (all, or those not kept) and its marker. */
async function removeParts(sw: SwiftClient, bucket: string, key: string, id: string, keep: Set<number>) {
  const paths = [...(await storedParts(sw, bucket, key, id)).keys()]
    .filter((n) => !keep.has(n))
    .map((n) => segmentPath(bucket, key, id, n));
  await deletePaths(sw, [...paths, `/${segmentsOf(bucket)}/${uploadPath(key, id)}`]);
}

/** DELETE /bucket/key?uploadId=ID: abort the upload, its parts deleted. */
export async function abortUpload(sw: SwiftClient, bucket: string, key: string, id: string): Promise<Reply> {
  await marker(sw, bucket, key, id);
  await removeParts(sw, bucket, key, id, new Set());
  return reply(204, undefined);
}

/** A manifest entry of an upload's part or sub-manifest. */
interface Entry {
  path: string;
  etag: string;
  size_bytes: number;
}

/**
 * The manifest of an upload's parts: the parts themselves up to Swift's segment limit, else sub-manifests of up to
 * that many parts each (SLOs of SLOs), stored beside the parts.
 */
async function nested(
  sw: SwiftClient,
  to: { bucket: string; key: string; id: string },
  parts: Entry[],
): Promise<Entry[]> {
  const per = SLO_INFO.max_manifest_segments;
  if (parts.length <= per) return parts;
  const out: Entry[] = [];
  for (let i = 0; i < parts.length; i += per) {
    const name = `manifest-${i / per + 1}`;
    const group = parts.slice(i, i + per);
    const r = await sw.call("PUT", segmentsOf(to.bucket), `${uploadPath(to.key, to.id)}/${name}`, {
      query: { "multipart-manifest": "put" },
      headers: { "content-type": "application/octet-stream" },
      body: JSON.stringify(group),
    });
    if (r.status !== 201) throw fromSwift(r, "key", { Key: to.key });
    out.push({
      path: segmentPath(to.bucket, to.key, to.id, name),
      etag: (h(r, "etag") ?? "").replace(/"/g, ""),
      size_bytes: group.reduce((n, e) => n + e.size_bytes, 0),
    });
  }
  return out;
}

/** POST /bucket/key?uploadId=ID: complete the upload from the listed parts (an SLO manifest at the key). */
export async function completeUpload(
  ctx: Ctx,
  sw: SwiftClient,
  to: { bucket: string; key: string; id: string },
  minPartSize: number,
): Promise<Reply> {
  const { bucket, key, id } = to;
  const m = await marker(sw, bucket, key, id);
  const xml = (await readSmallBody(ctx)).toString("utf8");
  if (!hasRoot(xml, "CompleteMultipartUpload")) throw s3Error("MalformedXML");
  const listed = elements(xml, "Part");
  if (listed.length === 0)
    throw s3Error(
      "MalformedXML",
      {},
      "The XML you provided was not well-formed or did not validate against our published schema: no parts.",
    );
  if (listed.length > MAX_PART_NUMBER) throw s3Error("MalformedXML");
  const stored = await storedParts(sw, bucket, key, id);
  const manifest: Array<{ path: string; etag: string; size_bytes: number }> = [];
  const md5s = createHash("md5");
  // The order is checked first, as S3: a list out of order says so whatever its parts' sizes.
  const numbers = listed.map((p) => Number(text(p, "PartNumber")));
  for (const [i, n] of numbers.entries()) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER)
      throw s3Error("InvalidArgument", {}, "Invalid part number.");
    if (i > 0 && n <= numbers[i - 1]) throw s3Error("InvalidPartOrder");
  }
  for (const [i, p] of listed.entries()) {
    const n = numbers[i];
    const etag = (text(p, "ETag") ?? "").trim().replace(/^"|"$/g, "");
    const s = stored.get(n);
    if (!s || s.hash !== etag)
      throw s3Error("InvalidPart", { UploadId: id, PartNumber: String(n), ETag: etag.slice(0, 64) });
    if (s.bytes < minPartSize && i !== listed.length - 1)
      throw s3Error("EntityTooSmall", {
        ProposedSize: String(s.bytes),
        MinSizeAllowed: String(minPartSize),
        PartNumber: String(n),
        ETag: etag,
      });
    manifest.push({ path: segmentPath(bucket, key, id, n), etag: s.hash, size_bytes: s.bytes });
    md5s.update(Buffer.from(s.hash, "hex"));
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(m.headers))
    if (k.startsWith("x-object-meta-") && k !== "x-object-meta-s3-content-type" && v !== undefined)
      headers[k] = String(v);
  // The S3 ETag rides on the manifest's Content-Type (s3api's s3_etag), for listings to show.
  const s3etag = `${md5s.digest("hex")}-${manifest.length}`;
  const type = h(m, "x-object-meta-s3-content-type") ?? guessContentType(key);
  const tagged = `${type};s3_etag=${s3etag}`;
  headers["content-type"] = Buffer.byteLength(tagged) <= 200 ? tagged : type;
  const old = await uploadedPieces(sw, bucket, key);
  const put = await sw.call("PUT", bucket, key, {
    query: { "multipart-manifest": "put" },
    headers,
    body: JSON.stringify(await nested(sw, to, manifest)),
  });
  if (put.status !== 201) throw fromSwift(put, put.status === 404 ? "bucket" : "key", { Key: key });
  await removeParts(sw, bucket, key, id, new Set(numbers));
  // The upload this object was made from before, if any: its pieces are no longer part of anything.
  await deletePaths(
    sw,
    old.filter((p) => !p.startsWith(segmentPath(bucket, key, id, ""))),
  );
  return xmlReply(
    "CompleteMultipartUploadResult",
    {
      Location: `${ctx.serviceUrl}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
      Bucket: bucket,
      Key: key,
      ETag: `"${s3etag}"`,
    },
    200,
    versionHeader(put),
  );
}

/** GET /bucket?uploads: the bucket's uploads in progress (markers in the segments container). */
export async function listUploads(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  const q = s3Query(ctx);
  const prefix = q.get("prefix") ?? "";
  const rawMax = q.get("max-uploads") ?? "1000";
  if (!/^\d{1,6}$/.test(rawMax)) throw s3Error("InvalidArgument", {}, "max-uploads must be an integer");
  const max = Math.min(Number(rawMax), MAX_UPLOADS_LISTING);
  const b = await sw.call("HEAD", bucket);
  if (b.status !== 204 && b.status !== 200) throw fromSwift(b, "bucket", { BucketName: bucket });
  const keyMarker = q.get("key-marker") ?? "";
  const idMarker = q.get("upload-id-marker") ?? "";
  // After the markers: later keys, or the marker key's later uploads when an upload id marker is given.
  const after = (u: { key: string; id: string }) =>
    u.key > keyMarker || (idMarker !== "" && u.key === keyMarker && u.id > idMarker);
  const uploads: Array<{ key: string; id: string; at: string }> = [];
  // The segments container holds parts too: pages are read until max + 1 uploads are found or it ends.
  let from = keyMarker;
  for (;;) {
    const r = await sw.call("GET", segmentsOf(bucket), undefined, {
      query: { format: "json", prefix: prefix || undefined, marker: from || undefined, limit: "10000" },
    });
    const rows = r.status === 200 ? (JSON.parse(r.body.toString("utf8")) as Listed[]) : [];
    for (const x of rows)
      if (x.content_type === "application/directory" && /\/[0-9a-f]{32}$/.test(x.name)) {
        const u = { key: x.name.slice(0, -33), id: x.name.slice(-32), at: x.last_modified };
        if (after(u)) uploads.push(u);
      }
    if (rows.length < 10000 || uploads.length > max) break;
    from = rows[rows.length - 1].name;
  }
  const page = uploads.slice(0, max);
  return xmlReply("ListMultipartUploadsResult", {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    ...(uploads.length > max
      ? { NextKeyMarker: page[page.length - 1].key, NextUploadIdMarker: page[page.length - 1].id }
      : {}),
    Prefix: prefix,
    MaxUploads: max,
    IsTruncated: uploads.length > max,
    Upload: page.map((u) => ({
      Key: u.key,
      UploadId: u.id,
      Initiator: owner(sw),
      Owner: owner(sw),
      StorageClass: "STANDARD",
      Initiated: s3Time(u.at),
    })),
  });
}
