// Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and Range for objects.
import { randomBytes } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import { swiftError } from "../errors.js";
import { httpDate } from "../timestamp.js";
import { header, type Ctx } from "./request.js";

const MAX_RANGES = 50;

/** Entity tags of an If-Match / If-None-Match header, quotes removed ("*" kept). */
function etags(v: string): string[] {
  return v
    .split(",")
    .map((t) =>
      t
        .trim()
        .replace(/^W\//, "")
        .replace(/^"(.*)"$/, "$1"),
    )
    .filter(Boolean);
}

/**
 * Evaluate the preconditions of a GET or HEAD against an object (its ETag and timestamp): throws 412, or 304 with
 * the validators (the ETag as the object's answers show it: `shown`), as Swift does. If-Match / If-None-Match win
 * over the date conditions.
 */
export function checkConditions(ctx: Ctx, etag: string, timestamp: string, shown = etag): void {
  const lastModified = Math.ceil(Number(timestamp));
  const validators = { etag: shown, "last-modified": httpDate(timestamp) };
  const ifMatch = header(ctx, "if-match");
  if (ifMatch !== undefined) {
    const tags = etags(ifMatch);
    if (!tags.includes("*") && !tags.includes(etag)) throw swiftError(412, validators);
  }
  const ifNoneMatch = header(ctx, "if-none-match");
  if (ifNoneMatch !== undefined) {
    const tags = etags(ifNoneMatch);
    if (tags.includes("*") || tags.includes(etag)) throw notModified(validators);
  }
  const ifUnmodified = header(ctx, "if-unmodified-since");
  if (ifUnmodified !== undefined && ifMatch === undefined) {
    const t = Date.parse(ifUnmodified);
    if (!Number.isNaN(t) && lastModified > t / 1000) throw swiftError(412, validators);
  }
  const ifModified = header(ctx, "if-modified-since");
  if (ifModified !== undefined && ifNoneMatch === undefined) {
    const t = Date.parse(ifModified);
    if (!Number.isNaN(t) && lastModified <= t / 1000) throw notModified(validators);
  }
}

/** A 304 carries no body: thrown as an error, rendered empty by the error formatter. */
function notModified(headers: Record<string, string>) {
  return swiftError(304, headers);
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The ranges a Range header asks for within `size` bytes: null when there is none or it is malformed (Swift then
 * serves the whole object), 416 when none is satisfiable.
 */
export function parseRanges(value: string | undefined, size: number): ByteRange[] | null {
  if (value === undefined) return null;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(value);
  if (!m) return null;
  const specs = m[1].split(",").map((s) => s.trim());
  if (specs.length > MAX_RANGES) return null;
  const out: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (!r || (r[1] === "" && r[2] === "")) return null;
    if (r[1] === "") {
      const n = Number(r[2]);
      if (n === 0) continue;
      out.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    const end = r[2] === "" ? size - 1 : Number(r[2]);
    if (end < start) return null;
    if (start >= size) continue;
    out.push({ start, end: Math.min(end, size - 1) });
  }
  if (out.length === 0 || size === 0) throw swiftError(416, { "content-range": `bytes */${size}` });
  return out;
}

/** A multipart/byteranges body of several ranges, read one after another from `open`. */
export function multipartRanges(
  ranges: ByteRange[],
  size: number,
  contentType: string,
  open: (r: ByteRange) => Readable,
): { body: Readable; boundary: string; length: number } {
  const boundary = randomBytes(16).toString("hex");
  const head = (r: ByteRange) =>
    `--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`;
  const tail = `--${boundary}--`;
  let length = Buffer.byteLength(tail);
  for (const r of ranges) length += Buffer.byteLength(head(r)) + (r.end - r.start + 1) + 2;
  const body = new PassThrough();
  void (async () => {
    try {
      for (const r of ranges) {
        body.write(head(r));
        for await (const chunk of open(r))
          if (!body.write(chunk)) await new Promise((ok) => body.once("drain", ok));
        body.write("\r\n");
      }
      body.end(tail);
    } catch (e) {
      body.destroy(e as Error);
    }
  })();
  return { body, boundary, length };
}
