// A small AWS Signature Version 4 signer for tests (written from AWS's documentation, apart from the server's code):
// signs in the Authorization header or as a presigned URL, for S3 requests sent through fastify's inject.
import { createHash, createHmac } from "node:crypto";

/** An EC2 key pair. */
export interface AwsKeys {
  access: string;
  secret: string;
}

/** A request to sign: method, path with its raw query, headers and body. */
export interface ToSign {
  method: string;
  /** Path and query as sent, e.g. "/s3/bucket/key?uploads=". */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with x-amz-content-sha256: UNSIGNED-PAYLOAD instead of the body's hash. */
  unsigned?: boolean;
  /** Sign with this x-amz-content-sha256 (e.g. STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
  payload?: string;
  /** Sign at this time (default now). */
  date?: Date;
  region?: string;
  /** The Host header signed (default localhost:80, what fastify's inject sends). */
  host?: string;
}

const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const hmac = (k: Buffer | string, s: string) => createHmac("sha256", k).update(s).digest();
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

function canonicalQuery(q: string): string {
  if (!q) return "";
  return q
    .split("&")
    .map((p) => {
      const i = p.indexOf("=");
      const k = decodeURIComponent(i < 0 ? p : p.slice(0, i));
      const v = i < 0 ? "" : decodeURIComponent(p.slice(i + 1));
      return [enc(k), enc(v)];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

function signingKey(keys: AwsKeys, scope: string): Buffer {
  const [d, region, service] = scope.split("/");
  let k = hmac(`AWS4${keys.secret}`, d);
  k = hmac(k, region);
  k = hmac(k, service);
  return hmac(k, "aws4_request");
}

function signature(keys: AwsKeys, date: string, scope: string, canonical: string): string {
  const sts = ["AWS4-HMAC-SHA256", date, scope, hex(canonical)].join("\n");
  return createHmac("sha256", signingKey(keys, scope)).update(sts).digest("hex");
}

/**
 * A SigV4 streaming upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the signed headers and the aws-chunked body of
 * `data` in chunks of `chunk` bytes, each chunk signed in the chain; `tamper` changes a chunk's data after signing.
 */
export function signChunked(
  keys: AwsKeys,
  r: ToSign & { data: Buffer; chunk: number; tamper?: number },
): { headers: Record<string, string>; body: Buffer } {
  const parts: Buffer[] = [];
  for (let i = 0; i < r.data.length; i += r.chunk) parts.push(r.data.subarray(i, i + r.chunk));
  parts.push(Buffer.alloc(0));
  const framed = (sigs: string[]) =>
    Buffer.concat(
      parts.flatMap((p, i) => [
        Buffer.from(`${p.length.toString(16)};chunk-signature=${sigs[i]}\r\n`),
        i === r.tamper ? Buffer.from(p.toString("latin1").toUpperCase(), "latin1") : p,
        Buffer.from("\r\n"),
      ]),
    );
  const length = framed(parts.map(() => "0".repeat(64))).length;
  const headers = signHeaders(keys, {
    ...r,
    payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    headers: {
      ...(r.headers ?? {}),
      "content-encoding": "aws-chunked",
      "content-length": String(length),
      "x-amz-decoded-content-length": String(r.data.length),
    },
  });
  const date = headers["x-amz-date"];
  const scope = /Credential=[^/]+\/([^,]+),/.exec(headers.authorization)?.[1] ?? "";
  const key = signingKey(keys, scope);
  let prev = /Signature=([0-9a-f]+)/.exec(headers.authorization)?.[1] ?? "";
  const sigs = parts.map((p) => {
    const sts = ["AWS4-HMAC-SHA256-PAYLOAD", date, scope, prev, hex(""), hex(p)].join("\n");
    prev = createHmac("sha256", key).update(sts).digest("hex");
    return prev;
  });
  return { headers, body: framed(sigs) };
}

/** The request's headers with x-amz-date, x-amz-content-sha256 and a SigV4 Authorization header added. */
export function signHeaders(keys: AwsKeys, r: ToSign): Record<string, string> {
  const date = stamp(r.date ?? new Date());
  const [path, query = ""] = r.url.split("?", 2);
  const payload = r.payload ?? (r.unsigned ? "UNSIGNED-PAYLOAD" : hex(r.body ?? ""));
  const headers: Record<string, string> = {
    host: r.host ?? "localhost:80",
    ...Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    "x-amz-date": date,
    "x-amz-content-sha256": payload,
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    r.method,
    path,
    canonicalQuery(query),
    ...names.map((n) => `${n}:${headers[n].trim()}`),
    "",
    names.join(";"),
    payload,
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${r.region ?? "us-east-1"}/s3/aws4_request`;
  const sig = signature(keys, date, scope, canonical);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.access}/${scope}, SignedHeaders=${names.join(";")}, Signature=${sig}`;
  return headers;
}

/** A presigned URL (path and query) for `method` on `url`, valid `expires` seconds. */
export function presign(
  keys: AwsKeys,
  method: string,
  url: string,
  expires = 300,
  at = new Date(),
  host = "localhost:80",
): string {
  const date = stamp(at);
  const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const [path, query = ""] = url.split("?", 2);
  const extra = [
    `X-Amz-Algorithm=AWS4-HMAC-SHA256`,
    `X-Amz-Credential=${enc(`${keys.access}/${scope}`)}`,
    `X-Amz-Date=${date}`,
    `X-Amz-Expires=${expires}`,
    `X-Amz-SignedHeaders=host`,
  ];
  const q = [query, ...extra].filter((x) => x).join("&");
  const canonical = [method, path, canonicalQuery(q), `host:${host}`, "", "host", "UNSIGNED-PAYLOAD"].join(
    "\n",
  );
  return `${path}?${q}&X-Amz-Signature=${signature(keys, date, scope, canonical)}`;
}
