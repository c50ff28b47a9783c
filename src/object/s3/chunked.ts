// SigV4 streaming uploads (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the body comes in
// aws-chunked framing, "<hex size>;chunk-signature=<sig>\r\n<data>\r\n" ending with a zero-size chunk, each chunk
// signed with the request's signing key and chained to the previous signature (the Authorization header's first).
// The decoder passes the data on as it comes and fails the stream at the first bad frame or signature, so Swift
// never commits an object whose body was not wholly verified.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { chunkSignature, sameSignature } from "../../shared/auth/aws-signature.js";
import { S3Error, s3Error } from "./errors.js";

/** What chunk signatures are checked with: the signing key, the request's date and scope, its signature. */
export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

/** Longest chunk header line taken ("<size>;chunk-signature=<64 hex>" is about 90 bytes). */
const MAX_LINE = 256;

const CHUNK_HEADER = /^([0-9a-fA-F]{1,15});chunk-signature=([0-9a-f]{64})\r$/;

/** A Transform from an aws-chunked body to its data, every chunk's signature checked; `failure` tells why it failed. */
export class ChunkDecoder extends Transform {
  /** The error the body failed with (bad framing, signature or length), once it has. */
  failure: S3Error | null = null;
  private state: "header" | "data" | "crlf" | "final" | "done" = "header";
  private line = "";
  private left = 0;
  private claimed = "";
  private previous: string;
  private total = 0;
  private hash = createHash("sha256");

  constructor(
    private readonly signing: ChunkSigning,
    private readonly declared: number,
  ) {
    super();
    this.previous = signing.seed;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      cb(this.fail(e));
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.state !== "done" || this.total !== this.declared) cb(this.fail(s3Error("IncompleteBody")));
    else cb();
  }

  private fail(e: unknown): Error {
    this.failure = e instanceof S3Error ? e : s3Error("IncompleteBody");
    return this.failure;
  }

  /** Take a line (up to and without its \n) from buf at i; null when it is not complete yet. */
  private takeLine(buf: Buffer, i: number): { line: string; next: number } | null {
    const nl = buf.indexOf(0x0a, i);
    const part = buf.toString("latin1", i, nl < 0 ? buf.length : nl);
    if (this.line.length + part.length > MAX_LINE) throw s3Error("IncompleteBody");
    this.line += part;
    if (nl < 0) return null;
    const line = this.line;
    this.line = "";
    return { line, next: nl + 1 };
  }

  /** Check the chunk just read against its claimed signature, chaining the next one to it. */
  private verify(): void {
    const expected = chunkSignature(
      this.signing.key,
      this.signing.amzDate,
      this.signing.scope,
      this.previous,
      this.hash.digest("hex"),
    );
    if (!sameSignature(expected, this.claimed)) throw s3Error("SignatureDoesNotMatch");
    this.previous = this.claimed;
    this.hash = createHash("sha256");
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      if (this.state === "data") {
        const n = Math.min(this.left, buf.length - i);
        const data = buf.subarray(i, i + n);
        this.hash.update(data);
        this.push(data);
        this.left -= n;
        this.total += n;
        i += n;
        if (this.left === 0) {
          this.verify();
          this.state = "crlf";
        }
        continue;
      }
      if (this.state === "done") throw s3Error("IncompleteBody");
      const got = this.takeLine(buf, i);
      if (got === null) return;
      i = got.next;
      if (this.state === "header") {
        const m = CHUNK_HEADER.exec(got.line);
        if (!m) throw s3Error("IncompleteBody");
        this.left = parseInt(m[1], 16);
        this.claimed = m[2];
        if (this.left > this.declared - this.total) throw s3Error("IncompleteBody");
        if (this.left === 0) {
          this.verify();
          this.state = "final";
        } else this.state = "data";
      } else {
        // After a chunk's data, and after the last (empty) chunk: an empty line.
        if (got.line !== "\r") throw s3Error("IncompleteBody");
        this.state = this.state === "final" ? "done" : "header";
      }
    }
  }
}
