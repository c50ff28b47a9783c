// A streaming tar reader (for extract-archive): ustar, GNU long names and pax headers (per-file and global); each
// member's data is a stream read straight from the body, so memory stays at a block or two whatever the archive's
// size. It reads as Python's tarfile in stream mode (what Swift's bulk middleware uses): a bad header ends the archive
// quietly unless it is the first one (or follows a long name or pax header), and the errors carry tarfile's messages.

/** Raised on a malformed archive (Swift answers 400 "Invalid Tar File: <message>"). */
export class TarError extends Error {}

/** One member of the archive: its path (as text and as the archive's bytes), whether it is a regular file (links,
 *  directories and devices are not), its size, its pax records (tarfile's pax_headers: the global ones so far, then
 *  its own; values as bytes) and data (consume or leave it before asking for the next). */
export interface TarMember {
  path: string;
  rawPath: Buffer;
  file: boolean;
  size: number;
  pax: Map<string, Buffer>;
  data: AsyncGenerator<Buffer>;
}

const BLOCK = 512;
/** The longest pax record or GNU long name kept (a path longer than any object path Swift takes). */
const MAX_META = 64 * 1024;
/** Types whose members carry no data whatever their size field says (tarfile's SUPPORTED_TYPES that are not
 *  regular files): hard and symbolic links, character and block devices, directories, FIFOs. */
const NO_DATA = new Set(["1", "2", "3", "4", "5", "6"]);

/** The members of a tar stream, in order. */
export async function* tarMembers(src: AsyncIterable<Uint8Array>): AsyncGenerator<TarMember> {
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
      if (!buf.length && !(await need(1))) throw new TarError("unexpected end of data");
      const chunk = take(Math.min(left, buf.length));
      left -= chunk.length;
      yield chunk;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (!(await need(pad))) throw new TarError("unexpected end of data");
    take(pad);
  }
  const small = async (size: number): Promise<Buffer> => {
    if (size > MAX_META) throw new TarError("metadata entry too large");
    const parts: Buffer[] = [];
    for await (const c of member(size)) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  };
  let longName: Buffer | undefined;
  let paxSize: number | undefined;
  /** Global pax records (type "g"): every following member's; the next member's own (type "x") over them. */
  const globalPax = new Map<string, Buffer>();
  let ownPax: Map<string, Buffer> | undefined;
  /** Whether the next header follows a long name or pax header: then a bad one (or the end) is an error. */
  let extended = false;
  let first = true;
  try {
    for (;;) {
      const header = await readHeader(need, take);
      if (typeof header === "string") {
        if (extended) throw new TarError(header);
        // Only the first header's problems are errors (an all-zero block ends the archive there too).
        if (first && header !== "end of file header")
          throw new TarError(header === "empty header" ? "empty file" : header);
        return;
      }
      first = false;
      const h = header;
      const type = String.fromCharCode(h[156]);
      const size = octal(h.subarray(124, 136));
      if (type === "L" || type === "x" || type === "g") {
        const meta = await small(size);
        if (type === "L") longName = cstr(meta);
        // Global records: kept for every member after (their path names them; a size there is not taken).
        else if (type === "g") for (const [k, v] of paxRecords(meta)) globalPax.set(k, v);
        else {
          const pax = paxRecords(meta);
          ownPax = new Map([...(ownPax ?? []), ...pax]);
          // As tarfile, a pax path loses its trailing slashes.
          const path = pax.get("path");
          if (path) longName = trimSlashes(path);
          const s = pax.get("size")?.toString("latin1");
          if (s !== undefined && /^\d+$/.test(s) && Number.isSafeInteger(Number(s))) paxSize = Number(s);
        }
        extended = true;
        continue;
      }
      extended = false;
      const prefix = h.subarray(257, 263).toString("latin1").startsWith("ustar")
        ? cstr(h.subarray(345, 500))
        : Buffer.alloc(0);
      const own = cstr(h.subarray(0, 100));
      // A global pax path names every following member (as tarfile), below a long name or the member's own.
      const globalPath = globalPax.get("path");
      let rawPath =
        longName ??
        (globalPath ? trimSlashes(globalPath) : undefined) ??
        (prefix.length ? Buffer.concat([prefix, Buffer.from("/"), own]) : own);
      const length = paxSize ?? size;
      const pax = new Map([...globalPax, ...(ownPax ?? [])]);
      longName = paxSize = ownPax = undefined;
      // A pre-POSIX regular file whose own name ends in a slash is a directory, as tarfile reads it.
      const dir = type === "5" || (type === "\0" && own.at(-1) === 0x2f);
      if (dir) rawPath = trimSlashes(rawPath);
      const file = !dir && (type === "0" || type === "\0" || type === "7");
      const data = member(file || (!dir && !NO_DATA.has(type)) ? length : 0);
      yield { path: rawPath.toString("utf8"), rawPath, file, size: file ? length : 0, pax, data };
      for await (const _ of data); // drain what the caller left
    }
  } finally {
    // Stopping early leaves the source to its owner (returned, not read on).
    await it.return?.();
  }
}

/** The next header block, or what is wrong with it in tarfile's words (an all-zero block: "end of file header"). */
async function readHeader(
  need: (n: number) => Promise<boolean>,
  take: (n: number) => Buffer,
): Promise<Buffer | string> {
  if (!(await need(BLOCK))) return take(BLOCK).length ? "truncated header" : "empty header";
  const h = take(BLOCK);
  if (h.every((b) => b === 0)) return "end of file header";
  const sum = field(h.subarray(148, 156));
  if (sum === undefined || field(h.subarray(124, 136)) === undefined) return "invalid header";
  if (!checksums(h).includes(sum)) return "bad checksum";
  return h;
}

/** A NUL-terminated field's bytes. */
const cstr = (b: Buffer): Buffer => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end);
};

/** A path without its trailing slashes. */
const trimSlashes = (b: Buffer): Buffer => {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0x2f) end--;
  return b.subarray(0, end);
};

/** A numeric header field (octal text, or base-256 when the high bit is set); undefined when malformed. */
function field(b: Buffer): number | undefined {
  if (b[0] & 0x80) {
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const s = cstr(b).toString("latin1").trim();
  if (s === "") return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : undefined;
}

/** A numeric field already checked by readHeader. */
const octal = (b: Buffer): number => field(b) as number;

/** A header block's checksums, its bytes summed (unsigned, and signed as some old tars did) with the checksum
 *  field as spaces. */
function checksums(h: Buffer): number[] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return [unsigned, signed];
}

/** The records of a pax extended header ("<length> <key>=<value>\n"), values as bytes. */
function paxRecords(meta: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < meta.length) {
    const sp = meta.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(meta.subarray(at, sp).toString("latin1"));
    if (!Number.isInteger(len) || len <= 0 || at + len > meta.length) break;
    const rec = meta.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.subarray(0, eq).toString("utf8"), rec.subarray(eq + 1));
    at += len;
  }
  return out;
}
