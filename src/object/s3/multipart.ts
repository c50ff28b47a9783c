// Multipart uploads as Swift's s3api keeps them: in the "<bucket>+segments" container, a marker object
// "<key>/<upload id>" holds the future object's metadata and each part is "<key>/<upload id>/<part number>";
// completion writes an SLO manifest of the parts at the key (ETag: MD5 of the parts' MD5s, "-", their count).
import { createHash, randomUUID } from "node:crypto";
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { SLO_INFO } from "../api/slo.js";
import { owner, segmentsOf, xmlReply } from "./bucket.js";
import { s3Error } from "./errors.js";
import { checkedBody, objectHeaders, uploadLength } from "./object.js";
import { quoteEtag, readSmallBody, s3Header, s3Query, s3Time } from "./request.js";
import { fromSwift, h, type SwiftClient } from "./swift.js";
import { elements, hasRoot, text } from "./xml.js";

/** Highest part number (S3's). */
export const MAX_PART_NUMBER = 10000;
/** Smallest part but the last (S3's 5 MiB). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

interface Listed {
  name: string;
  hash: string;
  bytes: number;
  last_modified: string;
  content_type?: string;
}

const uploadPath = (key: string, id: string) => `${key}/${id}`;

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
  const seg = await sw.call("PUT", segmentsOf(bucket));
  if (seg.status !== 201 && seg.status !== 202) throw fromSwift(seg, "bucket", { BucketName: bucket });
  const id = randomUUID().replace(/-/g, "");
  const headers = objectHeaders(ctx);
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

/** The part number of an UploadPart request: 1..10000. */
function partNumber(q: Map<string, string>): number {
  const raw = q.get("partNumber") ?? "";
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER))
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "partNumber", ArgumentValue: raw.slice(0, 32) },
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  return n;
}

/** PUT /bucket/key?partNumber=N&uploadId=ID: store one part. */
export async function uploadPart(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Reply> {
  const n = partNumber(s3Query(ctx));
  if (s3Header(ctx, "x-amz-copy-source") !== undefined)
    throw s3Error("NotImplemented", {}, "UploadPartCopy is not supported.");
  const length = uploadLength(ctx);
  await marker(sw, bucket, key, id);
  const md5 = s3Header(ctx, "content-md5");
  const etag = md5 === undefined ? undefined : Buffer.from(md5, "base64").toString("hex");
  if (etag !== undefined && etag.length !== 32) throw s3Error("InvalidDigest");
  const { body, mismatch } = checkedBody(ctx, sw.caller.payloadSha256);
  const r = await sw.call("PUT", segmentsOf(bucket), `${uploadPath(key, id)}/${n}`, {
    headers: { "content-length": length, etag },
    body,
  });
  if (mismatch()) throw s3Error("XAmzContentSHA256Mismatch");
  if (r.status !== 201) throw fromSwift(r, "key", { Key: key });
  return reply(200, "", { etag: quoteEtag(h(r, "etag")) });
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
  const max = Math.min(Number(rawMax), 1000);
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

/** Delete an upload's parts (all, or those not kept) and, when done, its marker. */
async function removeParts(
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
  keep: Set<number>,
  withMarker: boolean,
) {
  for (const [n] of await storedParts(sw, bucket, key, id))
    if (!keep.has(n)) await sw.call("DELETE", segmentsOf(bucket), `${uploadPath(key, id)}/${n}`);
  if (withMarker) await sw.call("DELETE", segmentsOf(bucket), uploadPath(key, id));
}

/** DELETE /bucket/key?uploadId=ID: abort the upload, its parts deleted. */
export async function abortUpload(sw: SwiftClient, bucket: string, key: string, id: string): Promise<Reply> {
  await marker(sw, bucket, key, id);
  await removeParts(sw, bucket, key, id, new Set(), true);
  return reply(204, undefined);
}

/** POST /bucket/key?uploadId=ID: complete the upload from the listed parts (an SLO manifest at the key). */
export async function completeUpload(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Reply> {
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
  if (listed.length > SLO_INFO.max_manifest_segments)
    throw s3Error(
      "InvalidRequest",
      {},
      `An upload is completed from at most ${SLO_INFO.max_manifest_segments} parts here.`,
    );
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
    if (s.bytes < MIN_PART_SIZE && i !== listed.length - 1)
      throw s3Error("EntityTooSmall", {
        ProposedSize: String(s.bytes),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(n),
        ETag: etag,
      });
    manifest.push({
      path: `/${segmentsOf(bucket)}/${uploadPath(key, id)}/${n}`,
      etag: s.hash,
      size_bytes: s.bytes,
    });
    md5s.update(Buffer.from(s.hash, "hex"));
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(m.headers))
    if (k.startsWith("x-object-meta-") && k !== "x-object-meta-s3-content-type" && v !== undefined)
      headers[k] = String(v);
  headers["content-type"] = h(m, "x-object-meta-s3-content-type");
  const put = await sw.call("PUT", bucket, key, {
    query: { "multipart-manifest": "put" },
    headers,
    body: JSON.stringify(manifest),
  });
  if (put.status !== 201) throw fromSwift(put, put.status === 404 ? "bucket" : "key", { Key: key });
  await removeParts(
    sw,
    bucket,
    key,
    id,
    new Set(manifest.map((e) => Number(e.path.slice(e.path.lastIndexOf("/") + 1)))),
    true,
  );
  return xmlReply("CompleteMultipartUploadResult", {
    Location: `${ctx.serviceUrl}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
    Bucket: bucket,
    Key: key,
    ETag: `"${md5s.digest("hex")}-${manifest.length}"`,
  });
}

/** GET /bucket?uploads: the bucket's uploads in progress (markers in the segments container). */
export async function listUploads(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  const q = s3Query(ctx);
  const prefix = q.get("prefix") ?? "";
  const rawMax = q.get("max-uploads") ?? "1000";
  if (!/^\d{1,6}$/.test(rawMax)) throw s3Error("InvalidArgument", {}, "max-uploads must be an integer");
  const max = Math.min(Number(rawMax), 1000);
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
