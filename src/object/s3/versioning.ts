// Bucket versioning, as s3api maps it onto Swift's object versioning: Get/PutBucketVersioning are the container's
// X-Versions-Enabled (Enabled: true, Suspended: false), ListObjectVersions is the container's `?versions` listing,
// and a versionId is Swift's version-id (x-amz-version-id ⇄ X-Object-Version-Id).
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { listingEncoding, maxKeys, owner, xmlReply } from "./bucket.js";
import { S3Error, s3Error } from "./errors.js";
import { listedEtag, readSmallBody, s3Query, s3Time } from "./request.js";
import { deletePaths, uploadedPieces } from "./segments.js";
import { fromSwift, h, type SwiftClient, type SwiftRes } from "./swift.js";
import { hasRoot, text, xmlDocument, xmlElement, type XmlNode } from "./xml.js";

/** Swift's Content-Type of a delete marker. */
const MARKER_TYPE = "application/x-deleted;swift_versions_deleted=1";

/** HEAD the bucket: its Swift answer, NoSuchBucket (or the failure) unless it exists. */
async function headBucket(sw: SwiftClient, bucket: string): Promise<SwiftRes> {
  const r = await sw.call("HEAD", bucket);
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return r;
}

/** GET and PUT /bucket?versioning. */
export async function bucketVersioning(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  if (ctx.method === "GET") {
    const state = h(await headBucket(sw, bucket), "x-versions-enabled");
    const status = state === undefined ? undefined : state === "True" ? "Enabled" : "Suspended";
    return xmlReply("VersioningConfiguration", status ? { Status: status } : {});
  }
  if (ctx.method !== "PUT") throw s3Error("MethodNotAllowed");
  const xml = (await readSmallBody(ctx, 64 * 1024)).toString("utf8");
  if (!hasRoot(xml, "VersioningConfiguration")) throw s3Error("MalformedXML");
  const status = text(xml, "Status");
  if (status !== "Enabled" && status !== "Suspended") throw s3Error("MalformedXML");
  if (text(xml, "MfaDelete") === "Enabled")
    throw s3Error("NotImplemented", {}, "MFA delete is not supported.");
  const r = await sw.call("POST", bucket, undefined, {
    headers: { "x-versions-enabled": status === "Enabled" ? "true" : "false" },
  });
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return reply(200, "");
}

/** The x-amz-version-id of a Swift answer (none for objects written while versioning was off). */
export const versionHeader = (r: SwiftRes): Record<string, string> => {
  const id = h(r, "x-object-version-id");
  return id === undefined ? {} : { "x-amz-version-id": id };
};

/** The Swift query of a request's versionId (none without one). */
export const versionQuery = (id: string | undefined): Record<string, string> =>
  id === undefined ? {} : { "version-id": id };

/** A GET/HEAD of a version that is a delete marker: MethodNotAllowed, saying so in its headers (as S3). */
export function markerRead(r: SwiftRes, id: string | undefined): S3Error | undefined {
  if (id === undefined || r.status !== 404 || h(r, "content-type") !== MARKER_TYPE) return undefined;
  return new S3Error(
    "MethodNotAllowed",
    undefined,
    {},
    { "x-amz-delete-marker": "true", "x-amz-version-id": id },
  );
}

/**
 * The S3 error of a Swift read (HEAD/GET with `?version-id=`) of version `id` of a key that did not answer 200:
 * InvalidArgument for an id that is none, a delete marker's MethodNotAllowed (a copy source's InvalidRequest: S3
 * copies no marker), NoSuchBucket, NoSuchVersion.
 */
export async function versionError(
  sw: SwiftClient,
  r: SwiftRes,
  at: { bucket: string; key: string; id: string },
  copy = false,
): Promise<S3Error> {
  const { bucket, key, id } = at;
  if (r.status === 400)
    return s3Error(
      "InvalidArgument",
      { ArgumentName: copy ? "x-amz-copy-source" : "versionId", ArgumentValue: id.slice(0, 64) },
      "Invalid version id specified",
    );
  const marker = markerRead(r, id);
  if (marker && copy)
    return s3Error(
      "InvalidRequest",
      {},
      "The source of a copy request may not specifically refer to a delete marker by version id.",
    );
  if (marker) return marker;
  if (r.status !== 404) return fromSwift(r, "key", { Key: key });
  await headBucket(sw, bucket);
  return s3Error("NoSuchVersion", { Key: key, VersionId: id.slice(0, 64) });
}

/**
 * Delete one version of a key (a multipart upload's parts with it): the version id, and whether it was a delete
 * marker. A version that does not exist is no error, as S3.
 */
export async function deleteVersion(
  sw: SwiftClient,
  bucket: string,
  key: string,
  id: string,
): Promise<Record<string, string>> {
  const head = await sw.call("HEAD", bucket, key, { query: versionQuery(id) });
  const marker = head.status === 404 && h(head, "content-type") === MARKER_TYPE;
  if (head.status === 404 && !marker) {
    await headBucket(sw, bucket);
    return { "x-amz-version-id": id };
  }
  if (head.status !== 200 && !marker) throw fromSwift(head, "key", { Key: key });
  const pieces = marker ? [] : await uploadedPieces(sw, bucket, key, id);
  const r = await sw.call("DELETE", bucket, key, { query: versionQuery(id) });
  if (r.status !== 204 && r.status !== 404) throw fromSwift(r, "key", { Key: key });
  await deletePaths(sw, pieces);
  return { "x-amz-version-id": id, ...(marker ? { "x-amz-delete-marker": "true" } : {}) };
}

/** One row of Swift's `?versions` listing. */
interface VersionRow {
  name?: string;
  subdir?: string;
  hash?: string;
  s3_etag?: string;
  slo_etag?: string;
  bytes?: number;
  content_type?: string;
  last_modified?: string;
  version_id?: string;
  is_latest?: boolean;
}

/** GET /bucket?versions (ListObjectVersions): prefix, delimiter, key-marker, version-id-marker, max-keys. */
export async function listObjectVersions(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  const q = s3Query(ctx);
  const { encoding, enc } = listingEncoding(q);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const keyMarker = q.get("key-marker") ?? "";
  const versionMarker = q.get("version-id-marker") ?? "";
  if (versionMarker && !keyMarker)
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "version-id-marker" },
      "A version-id marker cannot be specified without a key marker.",
    );
  const limit = maxKeys(q);
  let rows: VersionRow[] = [];
  if (limit > 0) {
    const r = await sw.call("GET", bucket, undefined, {
      query: {
        versions: "",
        format: "json",
        prefix: prefix || undefined,
        delimiter: delimiter || undefined,
        marker: keyMarker || undefined,
        version_marker: versionMarker || undefined,
        limit: String(limit + 1),
      },
    });
    if (r.status === 400 && versionMarker)
      throw s3Error("InvalidArgument", { ArgumentName: "version-id-marker" }, "Invalid version id specified");
    if (r.status !== 200 && r.status !== 204) throw fromSwift(r, "bucket", { BucketName: bucket });
    rows = r.status === 204 ? [] : (JSON.parse(r.body.toString("utf8")) as VersionRow[]);
  } else await headBucket(sw, bucket);
  const truncated = rows.length > limit;
  rows = rows.slice(0, limit);
  const last = rows[rows.length - 1];
  const entry = (r: VersionRow): XmlNode => ({
    Key: enc(r.name as string),
    VersionId: r.version_id ?? "null",
    IsLatest: r.is_latest === true,
    LastModified: s3Time(r.last_modified),
  });
  const items = rows.filter((r) => r.name !== undefined);
  const body: XmlNode = {
    Name: bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: versionMarker,
    ...(truncated && last
      ? {
          NextKeyMarker: enc(last.name ?? last.subdir ?? ""),
          ...(last.version_id ? { NextVersionIdMarker: last.version_id } : {}),
        }
      : {}),
    MaxKeys: limit,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    ...(encoding ? { EncodingType: encoding } : {}),
    IsTruncated: truncated,
  };
  // Versions and delete markers interleave in listing order, as S3 lists them.
  const entries = items
    .map((r) =>
      r.content_type === MARKER_TYPE
        ? xmlElement("DeleteMarker", { ...entry(r), Owner: owner(sw) })
        : xmlElement("Version", {
            ...entry(r),
            ETag: listedEtag(r),
            Size: r.bytes ?? 0,
            Owner: owner(sw),
            StorageClass: "STANDARD",
          }),
    )
    .join("");
  const prefixes = xmlElement(
    "CommonPrefixes",
    rows.filter((r) => r.subdir !== undefined).map((r) => ({ Prefix: enc(r.subdir as string) })),
  );
  const doc = xmlDocument("ListVersionsResult", body).replace(
    /<\/ListVersionsResult>$/,
    `${entries}${prefixes}</ListVersionsResult>`,
  );
  return reply(200, doc, { "content-type": "application/xml" });
}
