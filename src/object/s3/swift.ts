// How the S3 layer reaches the data: as Swift's s3api, every S3 operation becomes Swift requests on the caller's
// account (AUTH_<project>), sent through the Swift API in this process (fastify inject, bodies streamed both ways)
// with the token identity issued for the signature, so Swift's authorization, limits and quotas all apply.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { S3Caller } from "./auth.js";
import { s3Error } from "./errors.js";

/** A Swift answer: status, headers, and the body (buffered, or a stream when asked). */
export interface SwiftRes {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
  stream?: Readable;
}

/** Options of one Swift request. */
export interface SwiftReq {
  query?: Record<string, string | undefined>;
  headers?: Record<string, string | undefined>;
  body?: Buffer | string | Readable;
  /** Return the body as a stream instead of buffering it (object GETs). */
  stream?: boolean;
}

/** The path of a container or object below /object-store/v1/<account>, encoded. */
export const swiftPath = (container?: string, object?: string): string =>
  (container === undefined ? "" : `/${encodeURIComponent(container)}`) +
  (object === undefined ? "" : `/${object.split("/").map(encodeURIComponent).join("/")}`);

/** A Swift client for one S3 caller's account. */
export class SwiftClient {
  constructor(
    private readonly app: () => FastifyInstance,
    readonly caller: S3Caller,
    /** Told when Swift refuses the caller's token (401), so it is not reused. */
    private readonly refused: () => void = () => {},
  ) {}

  /** The caller's Swift account (keystoneauth's AUTH_<project id>). */
  get account(): string {
    return `AUTH_${this.caller.projectId}`;
  }

  /** One Swift request on the caller's account. */
  async call(method: string, container?: string, object?: string, req: SwiftReq = {}): Promise<SwiftRes> {
    const q = Object.entries(req.query ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v as string)}`)
      .join("&");
    const headers: Record<string, string> = { "x-auth-token": this.caller.token };
    for (const [k, v] of Object.entries(req.headers ?? {})) if (v !== undefined) headers[k] = v;
    const url = `/object-store/v1/${this.account}${swiftPath(container, object)}${q ? `?${q}` : ""}`;
    const r = await this.app().inject({
      method: method as "GET",
      url,
      headers,
      ...(req.body !== undefined ? { payload: req.body } : {}),
      ...(req.stream ? { payloadAsStream: true } : {}),
    });
    if (r.statusCode === 401) this.refused();
    const res: SwiftRes = { status: r.statusCode, headers: r.headers, body: Buffer.alloc(0) };
    if (req.stream) res.stream = r.stream();
    else res.body = r.rawPayload;
    return res;
  }

  /** A JSON Swift answer (listings, manifests), or an S3 error for any other status. */
  async json(
    method: string,
    container: string | undefined,
    object?: string,
    req: SwiftReq = {},
  ): Promise<unknown> {
    const r = await this.call(method, container, object, req);
    if (r.status === 204) return [];
    if (r.status !== 200)
      throw fromSwift(
        r,
        container === undefined ? "account" : object === undefined ? "bucket" : "key",
        container === undefined ? {} : { BucketName: container },
      );
    try {
      return JSON.parse(r.body.toString("utf8"));
    } catch {
      throw s3Error("InternalError");
    }
  }
}

/** A single header value. */
export const h = (r: SwiftRes, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);
};

/** The S3 error for a failed Swift answer about a bucket or a key (with the names it concerns). */
export function fromSwift(
  r: SwiftRes,
  what: "account" | "bucket" | "key",
  fields: Record<string, string> = {},
) {
  const text = r.body.toString("utf8").slice(0, 300);
  switch (r.status) {
    case 401:
    case 403:
      return s3Error("AccessDenied", fields);
    case 404:
      return s3Error(what === "key" ? "NoSuchKey" : "NoSuchBucket", fields);
    case 409:
      return s3Error(what === "bucket" ? "BucketNotEmpty" : "InvalidRequest", fields);
    case 411:
      return s3Error("MissingContentLength", fields);
    case 412:
      return s3Error("PreconditionFailed", fields);
    case 413:
      return s3Error(
        /quota/i.test(text) ? "AccessDenied" : "EntityTooLarge",
        fields,
        /quota/i.test(text) ? "Quota exceeded." : undefined,
      );
    case 416:
      return s3Error("InvalidRange", fields);
    case 422:
      return s3Error("BadDigest", fields);
    case 400:
      if (/metadata/i.test(text)) return s3Error("MetadataTooLarge", fields);
      return s3Error("InvalidArgument", fields, text.startsWith("<") ? undefined : text);
    case 499:
      return s3Error("IncompleteBody", fields);
    case 503:
      return s3Error("ServiceUnavailable", fields);
    default:
      return s3Error("InternalError", fields);
  }
}

/** A Readable of a buffer or string, for request bodies built here. */
export const bodyOf = (b: Buffer | string): Readable => Readable.from([Buffer.from(b)]);
