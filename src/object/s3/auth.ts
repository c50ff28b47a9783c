// Who signed an S3 request: the signature (V4 in the Authorization header or a presigned query, V2 likewise) is
// parsed and its string to sign rebuilt from the request as received; identity checks it against the EC2 secret
// (POST /v3/s3tokens, as Swift's s3token middleware) and answers with a token for the key pair's project. The key
// pair's secret is then kept briefly (keys.ts) so the next requests are checked here, and streaming uploads get
// the signing key their chunks are checked with.
import type { ServiceClient } from "../../shared/client/service-client.js";
import {
  STREAMING_PAYLOAD,
  UNSIGNED_PAYLOAD,
  V4_ALGORITHM,
  canonicalRequest,
  queryPairs,
  sameSignature,
  stringToSignV4,
} from "../../shared/auth/aws-signature.js";
import type { Ctx } from "../api/request.js";
import type { ChunkSigning } from "./chunked.js";
import { s3Error } from "./errors.js";
import { localSignature, scopeKey, type KeyCache, type KnownKey } from "./keys.js";

/** A key pair is kept for local checks only while its token has this much longer to live. */
const TOKEN_MARGIN_MS = 60_000;

/** An authenticated S3 caller: its access key, the token identity issued, its project, how the body must hash. */
export interface S3Caller {
  access: string;
  token: string;
  projectId: string;
  /** The hex SHA-256 the body must have (x-amz-content-sha256), or null when it is not signed. */
  payloadSha256: string | null;
  /** How each chunk of a streaming (aws-chunked, signed chunks) body is checked, when the body is one. */
  chunks?: ChunkSigning;
}

/** Largest clock difference accepted for a header-signed request (as S3: 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest validity of a presigned URL (as S3: 7 days). */
const MAX_EXPIRES_S = 604800;

/** The sub-resources a V2 signature covers (S3's list, as s3api's). */
const V2_SUBRESOURCES = new Set([
  "acl",
  "cors",
  "delete",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "partNumber",
  "policy",
  "requestPayment",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
]);

const headerOf = (ctx: Ctx, name: string): string | undefined => {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
};

/** What was signed and the claimed signature. */
interface Signed {
  access: string;
  stringToSign: string;
  signature: string;
  payloadSha256: string | null;
  /** For a streaming body: the request's date, scope and signature (the chunk signatures' seed). */
  streaming?: { amzDate: string; scope: string };
}

/** YYYYMMDDTHHMMSSZ as epoch ms, or NaN. */
function amzTime(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/** The headers map for signing (lower-case names, repeated values joined). */
function headerMap(ctx: Ctx): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(ctx.headers))
    if (v !== undefined) m.set(k.toLowerCase(), Array.isArray(v) ? v.join(",") : v);
  return m;
}

/** Parse `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
function v4HeaderFields(authz: string): { credential: string; signed: string; signature: string } {
  const f = new Map<string, string>();
  for (const part of authz.slice(V4_ALGORITHM.length).split(",")) {
    const i = part.indexOf("=");
    if (i > 0) f.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const credential = f.get("Credential");
  const signed = f.get("SignedHeaders");
  const signature = f.get("Signature");
  if (!credential || !signed || !signature) throw s3Error("AuthorizationHeaderMalformed");
  return { credential, signed, signature };
}

/** Access key and scope of a V4 credential (AK/date/region/service/aws4_request), checked against the date. */
function v4Credential(credential: string, amzDate: string, code: string): { access: string; scope: string } {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || parts[0] === "") throw s3Error(code);
  if (parts[1] !== amzDate.slice(0, 8))
    throw s3Error(
      code,
      {},
      `Invalid credential date "${parts[1]}". This date is not the same as X-Amz-Date.`,
    );
  return { access: parts[0], scope: parts.slice(1).join("/") };
}

/** The x-amz-content-sha256 of a header-signed V4 request: required, UNSIGNED-PAYLOAD or a hex SHA-256. */
function payloadHash(ctx: Ctx): string {
  const h = headerOf(ctx, "x-amz-content-sha256");
  if (h === undefined)
    throw s3Error("InvalidRequest", {}, "Missing required header for this request: x-amz-content-sha256");
  if (h === UNSIGNED_PAYLOAD || h === STREAMING_PAYLOAD || /^[0-9a-f]{64}$/.test(h)) return h;
  if (h.startsWith("STREAMING-"))
    throw s3Error("NotImplemented", {}, `The ${h.slice(0, 64)} payload is not supported.`);
  throw s3Error(
    "InvalidArgument",
    {},
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest.",
  );
}

/** A V4 request signed in its Authorization header. */
function v4Header(ctx: Ctx, path: string, pairs: Array<[string, string]>, authz: string): Signed {
  const { credential, signed, signature } = v4HeaderFields(authz);
  const amzDate = headerOf(ctx, "x-amz-date") ?? "";
  const when = amzTime(amzDate);
  if (Number.isNaN(when))
    throw s3Error("AccessDenied", {}, "AWS authentication requires a valid Date or x-amz-date header");
  if (Math.abs(Date.now() - when) > MAX_SKEW_MS) throw s3Error("RequestTimeTooSkewed");
  const { access, scope } = v4Credential(credential, amzDate, "AuthorizationHeaderMalformed");
  const names = signed.split(";");
  if (!names.includes("host")) throw s3Error("AuthorizationHeaderMalformed", {}, "Host must be signed.");
  const hash = payloadHash(ctx);
  const canonical = canonicalRequest({
    method: ctx.method,
    path,
    query: pairs,
    headers: headerMap(ctx),
    signedHeaders: names,
    payloadHash: hash,
  });
  const streaming = hash === STREAMING_PAYLOAD;
  return {
    access,
    stringToSign: stringToSignV4(amzDate, scope, canonical),
    signature,
    payloadSha256: hash === UNSIGNED_PAYLOAD || streaming ? null : hash,
    ...(streaming ? { streaming: { amzDate, scope } } : {}),
  };
}

/** A V4 presigned URL (X-Amz-* query parameters). */
function v4Query(ctx: Ctx, path: string, pairs: Array<[string, string]>): Signed {
  const q = new Map(pairs);
  const bad = (msg: string) => s3Error("AuthorizationQueryParametersError", {}, msg);
  const amzDate = q.get("X-Amz-Date") ?? "";
  const when = amzTime(amzDate);
  if (Number.isNaN(when)) throw bad("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expires = Number(q.get("X-Amz-Expires"));
  if (!Number.isInteger(expires) || expires < 0) throw bad("X-Amz-Expires should be a number");
  if (expires > MAX_EXPIRES_S)
    throw bad("X-Amz-Expires must be less than a week (in seconds); that is, 604800");
  if (when - MAX_SKEW_MS > Date.now()) throw s3Error("AccessDenied", {}, "Request is not valid yet");
  if (Date.now() > when + expires * 1000) throw s3Error("AccessDenied", {}, "Request has expired");
  const signature = q.get("X-Amz-Signature");
  const names = (q.get("X-Amz-SignedHeaders") ?? "").split(";");
  if (!signature || !names.includes("host"))
    throw bad("Query-string authentication requires X-Amz-Signature and X-Amz-SignedHeaders with host");
  const { access, scope } = v4Credential(
    q.get("X-Amz-Credential") ?? "",
    amzDate,
    "AuthorizationQueryParametersError",
  );
  const given = headerOf(ctx, "x-amz-content-sha256");
  const hash = given !== undefined && /^[0-9a-f]{64}$/.test(given) ? given : UNSIGNED_PAYLOAD;
  const canonical = canonicalRequest({
    method: ctx.method,
    path,
    query: pairs.filter(([k]) => k !== "X-Amz-Signature"),
    headers: headerMap(ctx),
    signedHeaders: names,
    payloadHash: hash,
  });
  return {
    access,
    stringToSign: stringToSignV4(amzDate, scope, canonical),
    signature,
    payloadSha256: hash === UNSIGNED_PAYLOAD ? null : hash,
  };
}

/** The V2 string to sign: verb, Content-MD5, Content-Type, date (or Expires), x-amz-* headers, raw resource. */
function v2StringToSign(ctx: Ctx, path: string, pairs: Array<[string, string]>, date: string): string {
  const amz = [...headerMap(ctx)]
    .filter(([k]) => k.startsWith("x-amz-"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v.trim()}\n`)
    .join("");
  const sub = pairs
    .filter(([k]) => V2_SUBRESOURCES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === "" ? k : `${k}=${v}`));
  // The resource is the path as sent, percent-encoding included (S3's "HTTP-Request-URI"; s3api's RAW_PATH_INFO):
  // clients (botocore's HmacV1Auth, s3cmd, rclone) sign the encoded path, so a key with a space or a non-ASCII
  // character would not match a decoded one. Sub-resource values are compared decoded, as s3api does.
  const resource = path;
  return [
    ctx.method,
    headerOf(ctx, "content-md5") ?? "",
    headerOf(ctx, "content-type") ?? "",
    date,
    `${amz}${resource}${sub.length ? `?${sub.join("&")}` : ""}`,
  ].join("\n");
}

/** A V2 request: `Authorization: AWS AK:sig` or AWSAccessKeyId/Signature/Expires in the query. */
function v2(ctx: Ctx, path: string, pairs: Array<[string, string]>, authz: string | undefined): Signed {
  if (authz !== undefined) {
    const m = /^AWS ([^:\s]+):(\S+)$/.exec(authz);
    if (!m)
      throw s3Error(
        "AccessDenied",
        {},
        "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
      );
    const date = headerOf(ctx, "x-amz-date") ?? headerOf(ctx, "date") ?? "";
    const when = Date.parse(date);
    if (Number.isNaN(when))
      throw s3Error("AccessDenied", {}, "AWS authentication requires a valid Date or x-amz-date header");
    if (Math.abs(Date.now() - when) > MAX_SKEW_MS) throw s3Error("RequestTimeTooSkewed");
    const dateLine = headerOf(ctx, "x-amz-date") !== undefined ? "" : date;
    return {
      access: m[1],
      stringToSign: v2StringToSign(ctx, path, pairs, dateLine),
      signature: m[2],
      payloadSha256: null,
    };
  }
  const q = new Map(pairs);
  const expires = q.get("Expires") ?? "";
  if (!/^\d{1,12}$/.test(expires))
    throw s3Error("AccessDenied", {}, "Expires must be a number of seconds since the epoch");
  if (Date.now() > Number(expires) * 1000) throw s3Error("AccessDenied", {}, "Request has expired");
  return {
    access: q.get("AWSAccessKeyId") ?? "",
    stringToSign: v2StringToSign(ctx, path, pairs, expires),
    signature: q.get("Signature") ?? "",
    payloadSha256: null,
  };
}

/**
 * What the request says was signed, or an S3 error; AccessDenied for an unsigned request. A V2 signature's resource
 * starts with the bucket also when the Host names it (`hosted`).
 */
export function signedParts(ctx: Ctx, hosted?: string): Signed {
  const raw = ctx.raw.url;
  const qi = raw.indexOf("?");
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const v2Path = hosted === undefined ? path : `/${hosted}${path}`;
  const pairs = qi < 0 ? [] : queryPairs(raw.slice(qi + 1));
  const authz = headerOf(ctx, "authorization");
  const has = (k: string) => pairs.some(([n]) => n === k);
  if (authz?.startsWith(`${V4_ALGORITHM} `)) return v4Header(ctx, path, pairs, authz);
  if (authz?.startsWith("AWS ")) return v2(ctx, v2Path, pairs, authz);
  if (authz !== undefined) throw s3Error("AccessDenied", {}, "Unsupported Authorization Type");
  if (has("X-Amz-Algorithm")) {
    if (pairs.find(([k]) => k === "X-Amz-Algorithm")?.[1] !== V4_ALGORITHM)
      throw s3Error(
        "AuthorizationQueryParametersError",
        {},
        'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
      );
    return v4Query(ctx, path, pairs);
  }
  if (has("AWSAccessKeyId") && has("Signature")) return v2(ctx, v2Path, pairs, undefined);
  throw s3Error(
    "AccessDenied",
    {},
    "Anonymous access is not supported: sign requests with an EC2 credential.",
  );
}

/**
 * Authenticate an S3 request (`hosted`: the bucket its Host names): against a key pair identity accepted lately
 * when there is one and the signature matches it, else through identity's s3tokens, after which the key pair's
 * secret is read by its owner and kept (keys.ts). The caller's token and project, or an S3 error.
 */
export async function authenticate(
  ctx: Ctx,
  identity: ServiceClient,
  keys: KeyCache,
  hosted?: string,
): Promise<S3Caller> {
  const s = signedParts(ctx, hosted);
  if (s.access.length > 255 || s.signature.length > 255) throw s3Error("InvalidAccessKeyId");
  const known = keys.get(s.access);
  if (known) {
    const expected = localSignature(known, s.stringToSign);
    if (expected !== null && sameSignature(expected, s.signature)) return callerOf(s, known);
  }
  const generation = keys.generation;
  const r = await identity.request("POST", "/v3/s3tokens", {
    body: {
      credentials: {
        access: s.access,
        token: Buffer.from(s.stringToSign, "utf8").toString("base64"),
        signature: s.signature,
      },
    },
  });
  if (r.status === 401) {
    const msg = String(r.body?.error?.message ?? "");
    if (msg.includes("access key not found"))
      throw s3Error("InvalidAccessKeyId", { AWSAccessKeyId: s.access });
    if (msg.includes("signature"))
      throw s3Error("SignatureDoesNotMatch", { AWSAccessKeyId: s.access, StringToSign: s.stringToSign });
    throw s3Error("AccessDenied");
  }
  const token = r.headers["x-subject-token"];
  const projectId = r.body?.token?.project?.id;
  const userId = r.body?.token?.user?.id;
  if (r.status !== 200 || typeof token !== "string" || typeof projectId !== "string") {
    ctx.log.warn({ status: r.status }, "s3tokens failed");
    throw s3Error("ServiceUnavailable", {}, "Identity could not check the signature.");
  }
  const secret = await readSecret(identity, s.access, token, typeof userId === "string" ? userId : "");
  if (secret === null) {
    if (s.streaming) {
      ctx.log.warn("EC2 credential for a streaming upload not readable");
      throw s3Error("AccessDenied", {}, "The streaming upload's signing key could not be derived.");
    }
    return { access: s.access, token, projectId, payloadSha256: s.payloadSha256 };
  }
  const expires = Date.parse(String(r.body?.token?.expires_at ?? ""));
  const k: KnownKey = {
    secret,
    token,
    projectId,
    userId: String(userId),
    scopes: new Map(),
    until: Math.min(Date.now() + keys.ttlMs, expires - TOKEN_MARGIN_MS),
  };
  keys.set(s.access, k, generation);
  return callerOf(s, k);
}

/** The caller a request signed with a known key pair is: its token, and the signing key of its chunks if streamed. */
function callerOf(s: Signed, k: KnownKey): S3Caller {
  const caller: S3Caller = {
    access: s.access,
    token: k.token,
    projectId: k.projectId,
    payloadSha256: s.payloadSha256,
  };
  if (s.streaming) {
    const key = scopeKey(k, s.streaming.scope);
    if (key === null) throw s3Error("AuthorizationHeaderMalformed");
    caller.chunks = { key, amzDate: s.streaming.amzDate, scope: s.streaming.scope, seed: s.signature };
  }
  return caller;
}

/** A key pair's secret, read by its owner with the token just issued for it (null when it cannot be read). */
async function readSecret(
  identity: ServiceClient,
  access: string,
  token: string,
  userId: string,
): Promise<string | null> {
  const r = await identity.request(
    "GET",
    `/v3/users/${encodeURIComponent(userId)}/credentials/OS-EC2/${encodeURIComponent(access)}`,
    { token },
  );
  const secret = r.body?.credential?.secret;
  return r.status === 200 && typeof secret === "string" ? secret : null;
}
