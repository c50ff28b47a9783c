// Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and object listings
// (ListObjects v1 and v2 with prefix, delimiter, marker or continuation token, max-keys and CommonPrefixes), each
// mapped onto the Swift account and its containers.
import { reply, type Reply } from "../../shared/http/reply.js";
import { awsEncode } from "../../shared/auth/aws-signature.js";
import type { Ctx } from "../api/request.js";
import { accessHeaders, cannedAccess } from "./acl.js";
import { s3Error } from "./errors.js";
import { listedEtag, readSmallBody, s3Query, s3Time, validNewBucket } from "./request.js";
import { fromSwift, type SwiftClient } from "./swift.js";
import { hasRoot, text, xmlDocument, type XmlNode } from "./xml.js";
import { MAX_BUCKET_LISTING } from "./limits.js";

/** The container of a bucket's multipart upload segments (s3api's "<bucket>+segments"). */
export const segmentsOf = (bucket: string): string => `${bucket}+segments`;

const XML = { "content-type": "application/xml" };

/** The Owner element of listings: the project owns everything in its account. */
export const owner = (sw: SwiftClient): XmlNode => ({
  ID: sw.caller.projectId,
  DisplayName: sw.caller.projectId,
});

/** An XML reply. */
export const xmlReply = (
  root: string,
  body: XmlNode,
  status = 200,
  headers: Record<string, string> = {},
): Reply => reply(status, xmlDocument(root, body), { ...XML, ...headers });

interface SwiftContainer {
  name: string;
  last_modified?: string;
}

/** GET /: the account's containers that are valid bucket names. */
export async function listBuckets(sw: SwiftClient): Promise<Reply> {
  const out: SwiftContainer[] = [];
  let marker = "";
  for (;;) {
    const page = (await sw.json("GET", undefined, undefined, {
      query: { format: "json", marker, limit: "10000" },
    })) as SwiftContainer[];
    for (const c of page) if (validNewBucket(c.name)) out.push(c);
    if (page.length < 10000) break;
    marker = page[page.length - 1].name;
  }
  return xmlReply("ListAllMyBucketsResult", {
    Owner: owner(sw),
    Buckets: { Bucket: out.map((c) => ({ Name: c.name, CreationDate: s3Time(c.last_modified) })) },
  });
}

/** PUT /bucket: a new container (an optional CreateBucketConfiguration names the region). */
export async function createBucket(
  ctx: Ctx,
  sw: SwiftClient,
  bucket: string,
  region: string,
): Promise<Reply> {
  if (!validNewBucket(bucket)) throw s3Error("InvalidBucketName", { BucketName: bucket });
  const body = (await readSmallBody(ctx, 64 * 1024)).toString("utf8");
  if (body.trim() !== "") {
    if (!hasRoot(body, "CreateBucketConfiguration")) throw s3Error("MalformedXML");
    const loc = text(body, "LocationConstraint");
    if (loc !== undefined && loc !== "" && loc !== region && loc !== "us-east-1")
      throw s3Error("InvalidLocationConstraint", {}, "The specified location-constraint is not valid");
  }
  const access = cannedAccess(ctx, false);
  const r = await sw.call("PUT", bucket);
  if (r.status === 202) throw s3Error("BucketAlreadyOwnedByYou", { BucketName: bucket });
  if (r.status !== 201) throw fromSwift(r, "bucket", { BucketName: bucket });
  if (access !== undefined) {
    const set = await sw.call("POST", bucket, undefined, { headers: accessHeaders(access) });
    if (set.status !== 204 && set.status !== 200) throw fromSwift(set, "bucket", { BucketName: bucket });
  }
  return reply(200, "", { location: `/${bucket}` });
}

/** HEAD /bucket. */
export async function headBucket(sw: SwiftClient, bucket: string): Promise<Reply> {
  const r = await sw.call("HEAD", bucket);
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return reply(200, undefined, { "x-amz-bucket-region": "us-east-1" });
}

/** DELETE /bucket: the container, then its (empty) segments container. */
export async function deleteBucket(sw: SwiftClient, bucket: string): Promise<Reply> {
  const r = await sw.call("DELETE", bucket);
  if (r.status !== 204) throw fromSwift(r, "bucket", { BucketName: bucket });
  await sw.call("DELETE", segmentsOf(bucket));
  return reply(204, undefined);
}

/** GET /bucket?location. */
export async function bucketLocation(sw: SwiftClient, bucket: string): Promise<Reply> {
  await headBucket(sw, bucket);
  return reply(200, xmlDocument("LocationConstraint", {}).replace("></LocationConstraint>", "/>"), XML);
}

interface Listed {
  name?: string;
  subdir?: string;
  hash?: string;
  s3_etag?: string;
  slo_etag?: string;
  bytes?: number;
  last_modified?: string;
}

/** The max-keys of a listing: 0..MAX_BUCKET_LISTING (larger asks are capped, as S3). */
export function maxKeys(q: Map<string, string>): number {
  const raw = q.get("max-keys");
  if (raw === undefined) return MAX_BUCKET_LISTING;
  if (!/^\d{1,10}$/.test(raw))
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "max-keys" },
      "Provided max-keys not an integer or within integer range",
    );
  return Math.min(Number(raw), MAX_BUCKET_LISTING);
}

/** A listing's `encoding-type` (only "url"; anything else is InvalidArgument) and the key encoder it asks for. */
export function listingEncoding(q: Map<string, string>): { encoding?: string; enc: (s: string) => string } {
  const encoding = q.get("encoding-type");
  if (encoding !== undefined && encoding !== "url")
    throw s3Error(
      "InvalidArgument",
      { ArgumentName: "encoding-type" },
      "Invalid Encoding Method specified in Request",
    );
  return { encoding, enc: (s: string) => (encoding === "url" ? awsEncode(s, true) : s) };
}

/** GET /bucket (ListObjects, or ListObjectsV2 with list-type=2). */
export async function listObjects(ctx: Ctx, sw: SwiftClient, bucket: string): Promise<Reply> {
  const q = s3Query(ctx);
  const v2 = q.get("list-type") === "2";
  const { encoding, enc } = listingEncoding(q);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const limit = maxKeys(q);
  let marker: string;
  if (v2) {
    const token = q.get("continuation-token");
    if (token !== undefined) {
      const decoded = Buffer.from(token, "base64").toString("utf8");
      if (token === "" || Buffer.from(decoded, "utf8").toString("base64") !== token)
        throw s3Error(
          "InvalidArgument",
          { ArgumentName: "continuation-token" },
          "The continuation token provided is incorrect",
        );
      marker = decoded;
    } else marker = q.get("start-after") ?? "";
  } else marker = q.get("marker") ?? "";
  let rows: Listed[] = [];
  if (limit > 0)
    rows = (await sw.json("GET", bucket, undefined, {
      query: {
        format: "json",
        prefix: prefix || undefined,
        delimiter: delimiter || undefined,
        marker: marker || undefined,
        limit: String(limit + 1),
      },
    })) as Listed[];
  else {
    const r = await sw.call("HEAD", bucket);
    if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  }
  const truncated = rows.length > limit;
  rows = rows.slice(0, limit);
  const last = rows.length ? (rows[rows.length - 1].name ?? rows[rows.length - 1].subdir ?? "") : "";
  const withOwner = !v2 || q.get("fetch-owner") === "true";
  const contents = rows
    .filter((r) => r.name !== undefined)
    .map((r) => ({
      Key: enc(r.name as string),
      LastModified: s3Time(r.last_modified),
      ETag: listedEtag(r),
      Size: r.bytes ?? 0,
      ...(withOwner ? { Owner: owner(sw) } : {}),
      StorageClass: "STANDARD",
    }));
  const prefixes = rows
    .filter((r) => r.subdir !== undefined)
    .map((r) => ({ Prefix: enc(r.subdir as string) }));
  const common: XmlNode = {
    Name: bucket,
    Prefix: enc(prefix),
  };
  const body: XmlNode = v2
    ? {
        ...common,
        ...(q.has("start-after") ? { StartAfter: enc(q.get("start-after") as string) } : {}),
        ...(q.has("continuation-token") ? { ContinuationToken: q.get("continuation-token") } : {}),
        ...(truncated ? { NextContinuationToken: Buffer.from(last, "utf8").toString("base64") } : {}),
        KeyCount: rows.length,
        MaxKeys: limit,
        ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
        ...(encoding ? { EncodingType: encoding } : {}),
        IsTruncated: truncated,
        Contents: contents,
        CommonPrefixes: prefixes,
      }
    : {
        ...common,
        Marker: enc(marker),
        ...(truncated && delimiter ? { NextMarker: enc(last) } : {}),
        MaxKeys: limit,
        ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
        ...(encoding ? { EncodingType: encoding } : {}),
        IsTruncated: truncated,
        Contents: contents,
        CommonPrefixes: prefixes,
      };
  return xmlReply("ListBucketResult", body);
}
