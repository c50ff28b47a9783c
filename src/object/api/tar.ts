// A streaming tar reader (for extract-archive): ustar, GNU long names and pax paths; each regular file's data is a
// stream read straight from the body, so memory stays at a block or two whatever the archive's size.

/** Raised on a malformed archive (Swift answers 400 "Invalid Tar File"). */
export class TarError extends Error {}

/** One regular file of the archive: its path, size and data (consume it before asking for the next). */
export interface TarFile {
  path: string;
  size: number;
  data: AsyncGenerator<Buffer>;
}

const BLOCK = 512;
/** The longest pax record or GNU long name kept (a path longer than any object path Swift takes). */
const MAX_META = 64 * 1024;

/** The regular files of a tar stream, in order. */
export async function* tarFiles(src: AsyncIterable<Uint8Array>): AsyncGenerator<TarFile> {
  const it = src[Symbol.asyncIterator]();
  let buf = Buffer.alloc(0);
  let ended = false;
  const need = async (n: number): Promise<boolean> => {
    while (buf.length < n && !ended) {
      const r = await it.next();
      if (r.done) ended = true;
      else buf = buf.length ? Buffer.concat([buf, Buffer.from(r.value)]) : Buffer.from(r.value);
    }
    return buf.length >= n;
  };
  const take = (n: number): Buffer => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  /** Read `size` bytes of member data, then its padding, as a stream. */
  async function* member(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (!buf.length && !(await need(1))) throw new TarError("truncated archive");
      const chunk = take(Math.min(left, buf.length));
      left -= chunk.length;
      yield chunk;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (!(await need(pad))) throw new TarError("truncated archive");
    take(pad);
  }
  const small = async (size: number): Promise<Buffer> => {
    if (size > MAX_META) throw new TarError("metadata entry too large");
    const parts: Buffer[] = [];
    for await (const c of member(size)) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  };
  let longName: string | undefined;
  for (;;) {
    if (!(await need(BLOCK))) return; // a missing end-of-archive marker is tolerated, as Python's tarfile does
    const h = take(BLOCK);
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw new TarError("bad header checksum");
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 0x30);
    if (type === "L" || type === "x") {
      const meta = await small(size);
      longName = type === "L" ? cstr(meta) : (paxPath(meta) ?? longName);
      continue;
    }
    if (type === "g") {
      await small(size);
      continue;
    }
    const prefix = h.subarray(257, 263).toString("latin1").startsWith("ustar")
      ? cstr(h.subarray(345, 500))
      : "";
    const name = longName ?? (prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)));
    longName = undefined;
    if (type !== "0" && type !== "\0" && type !== "7") {
      for await (const _ of member(type === "5" ? 0 : size)); // directories, links and devices carry no file
      continue;
    }
    const data = member(size);
    yield { path: name, size, data };
    for await (const _ of data); // drain what the caller left
  }
}

/** A NUL-terminated field as UTF-8. */
const cstr = (b: Buffer): string => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString("utf8");
};

/** A numeric header field: octal text, or base-256 (high bit set) for large sizes. */
function octal(b: Buffer): number {
  if (b[0] & 0x80) {
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    if (!Number.isSafeInteger(n)) throw new TarError("size out of range");
    return n;
  }
  const s = cstr(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError("bad number field");
  return parseInt(s, 8);
}

/** Whether a header block's checksum (its bytes summed with the checksum field as spaces) matches. */
function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  const want = cstr(h.subarray(148, 156)).trim();
  return /^[0-7]+$/.test(want) && parseInt(want, 8) === sum;
}

/** The path of a pax extended header, if it sets one. */
function paxPath(meta: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < meta.length) {
    const sp = meta.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(meta.subarray(at, sp).toString("latin1"));
    if (!Number.isInteger(len) || len <= 0 || at + len > meta.length) break;
    const rec = meta.subarray(sp + 1, at + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (rec.slice(0, eq) === "path") path = rec.slice(eq + 1);
    at += len;
  }
  return path;
}
