// The S3 API's routes (path-style: /, /<bucket>, /<bucket>/<key>), each authenticated by its signature and
// dispatched by method and sub-resource to the bucket, object and multipart operations.
import type { FastifyInstance } from "fastify";
import type { ServiceClient } from "../../shared/client/service-client.js";
import type { Reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Ctx } from "../api/request.js";
import { aclRequest } from "./acl.js";
import { authenticate } from "./auth.js";
import {
  bucketLocation,
  createBucket,
  deleteBucket,
  headBucket,
  listBuckets,
  listObjects,
} from "./bucket.js";
import { s3Error } from "./errors.js";
import { KeyCache } from "./keys.js";
import { taggingRequest } from "./tagging.js";
import { bucketTagging } from "./bucket-tagging.js";
import { bucketVersioning, listObjectVersions } from "./versioning.js";
import {
  abortUpload,
  completeUpload,
  createUpload,
  listParts,
  listUploads,
  uploadPart,
} from "./multipart.js";
import { deleteObject, deleteObjects, getObject, putObject } from "./object.js";
import { hostBucket, s3Query, s3Target } from "./request.js";
import { SwiftClient } from "./swift.js";

/** The S3 API's settings. */
export interface S3Options {
  /** The region CreateBucket accepts as a LocationConstraint. */
  region: string;
  /** The domain of virtual-hosted-style requests (<bucket>.<domain>); "" for path-style only. */
  domain: string;
  /** Smallest multipart part but the last. */
  minPartSize: number;
}

/** What the S3 API needs from the process: the listener it sends Swift requests to, and identity. */
export class S3Gateway {
  private app: (() => FastifyInstance) | null = null;
  private identity: ServiceClient | null = null;
  private readonly keys = new KeyCache();

  constructor(readonly opts: S3Options) {}

  /** Connect to the shared listener (Swift's API) and identity's API, once both are built. */
  connect(app: () => FastifyInstance, identity: ServiceClient): void {
    this.app = app;
    this.identity = identity;
  }

  /** Authenticate a request (naming `hosted`, the bucket in its Host, if any) and open its caller's Swift account. */
  async client(ctx: Ctx, hosted?: string): Promise<SwiftClient> {
    if (!this.app || !this.identity) throw s3Error("ServiceUnavailable");
    const caller = await authenticate(ctx, this.identity, this.keys, hosted);
    return new SwiftClient(this.app, caller, () => this.keys.drop(caller.access, caller.token));
  }

  /** Forget the key pairs checked lately (identity data changed: revocations, deleted credentials, roles). */
  forget(): void {
    this.keys.clear();
  }
}

/** Sub-resources this API does not implement (answered NotImplemented rather than misread as plain requests). */
const UNSUPPORTED = [
  "cors",
  "lifecycle",
  "logging",
  "notification",
  "policy",
  "replication",
  "requestPayment",
  "torrent",
  "website",
  "object-lock",
  "retention",
  "legal-hold",
  "encryption",
  "restore",
  "select",
  "inventory",
  "metrics",
  "analytics",
  "accelerate",
  "intelligent-tiering",
  "ownershipControls",
  "publicAccessBlock",
];

/** Dispatch one S3 request. */
async function dispatch(ctx: Ctx, gw: S3Gateway): Promise<Reply> {
  const hosted = hostBucket(ctx, gw.opts.domain);
  const { bucket, key } = s3Target(ctx, hosted);
  const q = s3Query(ctx);
  const sw = await gw.client(ctx, hosted);
  const m = ctx.method;
  for (const sub of UNSUPPORTED)
    if (q.has(sub)) throw s3Error("NotImplemented", {}, `The ${sub} sub-resource is not supported.`);
  if (bucket === undefined) {
    if (m === "GET") return listBuckets(sw);
    throw s3Error("MethodNotAllowed");
  }
  if (q.has("versionId") && (q.has("uploadId") || q.has("uploads")))
    throw s3Error("NotImplemented", {}, "This request on an object version is not supported.");
  if (q.has("versioning")) {
    if (key === undefined) return bucketVersioning(ctx, sw, bucket);
    throw s3Error("MethodNotAllowed");
  }
  if (q.has("tagging")) {
    if (key === undefined) return bucketTagging(ctx, sw, bucket);
    return taggingRequest(ctx, sw, bucket, key);
  }
  if (q.has("acl")) {
    if (m === "GET" || m === "PUT") return aclRequest(ctx, sw, bucket, key);
    throw s3Error("MethodNotAllowed");
  }
  if (key === undefined) {
    if (m === "GET" && q.has("location")) return bucketLocation(sw, bucket);
    if (m === "GET" && q.has("uploads")) return listUploads(ctx, sw, bucket);
    if (m === "GET" && q.has("versions")) return listObjectVersions(ctx, sw, bucket);
    if (m === "GET") return listObjects(ctx, sw, bucket);
    if (m === "HEAD") return headBucket(sw, bucket);
    if (m === "PUT") return createBucket(ctx, sw, bucket, gw.opts.region);
    if (m === "DELETE") return deleteBucket(sw, bucket);
    if (m === "POST" && q.has("delete")) return deleteObjects(ctx, sw, bucket);
    throw s3Error("MethodNotAllowed");
  }
  const upload = q.get("uploadId");
  if (upload !== undefined) {
    if (m === "PUT") return uploadPart(ctx, sw, bucket, key, upload);
    if (m === "GET") return listParts(ctx, sw, bucket, key, upload);
    if (m === "POST") return completeUpload(ctx, sw, { bucket, key, id: upload }, gw.opts.minPartSize);
    if (m === "DELETE") return abortUpload(sw, bucket, key, upload);
    throw s3Error("MethodNotAllowed");
  }
  if (m === "POST" && q.has("uploads")) return createUpload(ctx, sw, bucket, key);
  if (m === "GET" || m === "HEAD") return getObject(ctx, sw, bucket, key, m === "HEAD");
  if (m === "PUT") return putObject(ctx, sw, bucket, key);
  if (m === "DELETE") return deleteObject(ctx, sw, bucket, key);
  throw s3Error("MethodNotAllowed");
}

/** The S3 API's routes: every method on the service root, a bucket and a key (the signature is the credential). */
export function s3Routes(gw: S3Gateway): Route[] {
  const methods: Route["method"] = ["GET", "HEAD", "PUT", "POST", "DELETE"];
  return ["/", "/:bucket", "/:bucket/*"].map((path) =>
    route({
      method: methods,
      path,
      policy: null,
      auth: "none",
      stream: "any",
      handler: (ctx) => dispatch(ctx, gw),
    }),
  );
}
