// AWS request signatures (Signature Version 4 and 2): canonical forms and HMACs, shared by identity (which holds the
// EC2 secrets and checks signatures, as Keystone's ec2tokens and s3tokens) and the S3 API (which builds what was
// signed from the request it received, as Swift's s3api).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The algorithm name of Signature Version 4 (first line of its string to sign). */
export const V4_ALGORITHM = "AWS4-HMAC-SHA256";

/** The payload hash a client sends when it does not sign the body. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** Hex SHA-256 of a string or buffer. */
export const sha256Hex = (b: string | Buffer): string => createHash("sha256").update(b).digest("hex");

/** RFC 3986 encoding as AWS wants it: unreserved characters kept, everything else %XX (slash kept when asked). */
export function awsEncode(s: string, keepSlash = false): string {
  const e = encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? e.replace(/%2F/g, "/") : e;
}

/** Decode a URL component, `+` as itself (AWS clients encode spaces as %20); null when it is not valid. */
export function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * The name/value pairs of a raw query string, decoded, in order. A `+` is a space, as form encoding has it and as
 * S3 and s3api (Python's parse_qsl) read a query: clients that do not sign V4 send a space in a value so (Go's
 * url.Values, used by rclone's V2 signer: `prefix=a%2Fb+c%2F`), and a literal `+` arrives as `%2B`.
 */
export function queryPairs(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const dec = (s: string) => {
    const plus = s.replace(/\+/g, " ");
    return safeDecode(plus) ?? plus;
  };
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const i = part.indexOf("=");
    out.push([dec(i < 0 ? part : part.slice(0, i)), i < 0 ? "" : dec(part.slice(i + 1))]);
  }
  return out;
}

/** The canonical query string of SigV4: names and values encoded, sorted by name then value. */
export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** A header value as SigV4 signs it: trimmed, inner runs of spaces collapsed. */
export const canonicalHeaderValue = (v: string): string => v.trim().replace(/\s+/g, " ");

/** What a SigV4 canonical request is made of. */
export interface CanonicalInput {
  method: string;
  /** The path as sent (already encoded; S3 does not encode it again). */
  path: string;
  query: Array<[string, string]>;
  /** Lower-cased names of the signed headers, with their values. */
  headers: ReadonlyMap<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

/** The SigV4 canonical request. */
export function canonicalRequest(c: CanonicalInput): string {
  const names = [...c.signedHeaders].sort();
  return [
    c.method,
    c.path,
    canonicalQuery(c.query),
    ...names.map((n) => `${n}:${canonicalHeaderValue(c.headers.get(n) ?? "")}`),
    "",
    names.join(";"),
    c.payloadHash,
  ].join("\n");
}

/** The SigV4 string to sign: algorithm, timestamp, scope (date/region/service/aws4_request), hashed request. */
export const stringToSignV4 = (amzDate: string, scope: string, canonical: string): string =>
  [V4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join("\n");

/** The SigV4 signing key of a secret for a scope (date/region/service/aws4_request); null if the scope is malformed. */
export function signingKeyV4(secret: string, scope: string): Buffer | null {
  const parts = scope.split("/");
  if (parts.length !== 4 || parts[3] !== "aws4_request") return null;
  let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(parts[0]).digest();
  for (const part of [parts[1], parts[2], "aws4_request"])
    key = createHmac("sha256", key).update(part).digest();
  return key;
}

/** The SigV4 signature (hex) of a string to sign, the key derived from the scope in its third line; null if malformed. */
export function signV4(secret: string, stringToSign: string): string | null {
  const lines = stringToSign.split("\n");
  if (lines.length !== 4 || lines[0] !== V4_ALGORITHM) return null;
  const key = signingKeyV4(secret, lines[2]);
  return key && signWithKeyV4(key, stringToSign);
}

/** The SigV4 signature (hex) of a string to sign with an already derived signing key. */
export const signWithKeyV4 = (key: Buffer, stringToSign: string): string =>
  createHmac("sha256", key).update(stringToSign).digest("hex");

/** The payload hash of a body sent in aws-chunked encoding, each chunk signed (SigV4 streaming). */
export const STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/** The hex SHA-256 of nothing (the chunk string to sign's fixed line). */
export const EMPTY_SHA256 = sha256Hex("");

/** The signature of one chunk of a SigV4 streaming body: chained from the previous signature (the seed first). */
export function chunkSignature(
  key: Buffer,
  amzDate: string,
  scope: string,
  previous: string,
  chunkSha256: string,
): string {
  const sts = [`${V4_ALGORITHM}-PAYLOAD`, amzDate, scope, previous, EMPTY_SHA256, chunkSha256].join("\n");
  return createHmac("sha256", key).update(sts).digest("hex");
}

/** The Signature Version 2 signature (base64 HMAC-SHA1) of a string to sign. */
export const signV2 = (secret: string, stringToSign: string): string =>
  createHmac("sha1", secret).update(stringToSign).digest("base64");

/** The signature of a string to sign, by its version (V4 when it starts with the V4 algorithm). */
export const signAny = (secret: string, stringToSign: string): string | null =>
  stringToSign.startsWith(`${V4_ALGORITHM}\n`) ? signV4(secret, stringToSign) : signV2(secret, stringToSign);

/** Compare two signatures in constant time. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
