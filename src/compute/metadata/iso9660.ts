// A small ISO 9660 image writer in pure TypeScript (no genisoimage/xorriso): one primary volume descriptor, L and
// M path tables, directories and files in single extents, with Rock Ridge (RRIP 1991A: SP, ER, PX, NM) so Linux
// and isoinfo show the real, lowercase names (meta_data.json, vendor_data2.json). ISO names are 8.3 fallbacks.

/** One file of the image: a slash-separated path below the root, and its bytes. */
export interface IsoFile {
  path: string;
  data: Buffer;
}

/** How an image is built. */
export interface IsoOptions {
  /** Volume identifier (the filesystem label, e.g. "config-2"); at most 32 bytes. */
  volumeId: string;
  /** Timestamp of every record (default now). */
  date?: Date;
  /** Largest file accepted (default ISO_LIMITS.maxFileBytes). */
  maxFileBytes?: number;
  /** Largest total of file bytes accepted (default ISO_LIMITS.maxTotalBytes). */
  maxTotalBytes?: number;
}

/** The bounds buildIso9660 enforces by default. */
export const ISO_LIMITS = {
  maxFileBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  /** Bytes of one name component (it must fit a directory record with its Rock Ridge name). */
  maxNameBytes: 180,
  /** Directory depth (ISO 9660's limit is 8 levels including the root). */
  maxDepth: 7,
} as const;

const SECTOR = 2048;

interface Node {
  name: string;
  isoName: string;
  dir: boolean;
  data?: Buffer;
  children: Node[];
  parent: Node | null;
  extent: number;
  size: number;
  /** Path table number (directories, 1-based). */
  number: number;
}

const both16 = (b: Buffer, off: number, v: number) => {
  b.writeUInt16LE(v, off);
  b.writeUInt16BE(v, off + 2);
};
const both32 = (b: Buffer, off: number, v: number) => {
  b.writeUInt32LE(v, off);
  b.writeUInt32BE(v, off + 4);
};

function isoBaseName(name: string, dir: boolean): { base: string; ext: string } {
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  if (dir) return { base: clean(name).slice(0, 8) || "_", ext: "" };
  const dot = name.lastIndexOf(".");
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot + 1) : "";
  return { base: clean(base).slice(0, 8) || "_", ext: clean(ext).slice(0, 3) };
}

/** Give every child a unique 8.3 ISO identifier. */
function assignIsoNames(dir: Node): void {
  const used = new Set<string>();
  for (const c of dir.children) {
    const { base, ext } = isoBaseName(c.name, c.dir);
    const make = (b: string) => (c.dir ? b : `${b}.${ext};1`);
    let id = make(base);
    for (let n = 1; used.has(id); n++) {
      const suffix = `~${n}`;
      id = make(base.slice(0, 8 - suffix.length) + suffix);
    }
    used.add(id);
    c.isoName = id;
  }
  dir.children.sort((a, b) => (a.isoName < b.isoName ? -1 : a.isoName > b.isoName ? 1 : 0));
}

function buildTree(files: IsoFile[], o: IsoOptions): Node {
  const root: Node = {
    name: "",
    isoName: "",
    dir: true,
    children: [],
    parent: null,
    extent: 0,
    size: 0,
    number: 1,
  };
  const maxFile = o.maxFileBytes ?? ISO_LIMITS.maxFileBytes;
  const maxTotal = o.maxTotalBytes ?? ISO_LIMITS.maxTotalBytes;
  let total = 0;
  for (const f of files) {
    const parts = f.path.split("/").filter((p) => p !== "");
    if (parts.length === 0) throw new Error(`iso9660: empty path "${f.path}"`);
    if (parts.length > ISO_LIMITS.maxDepth) throw new Error(`iso9660: ${f.path} is nested too deep`);
    for (const p of parts)
      if (p === "." || p === ".." || p.includes("\0") || Buffer.byteLength(p) > ISO_LIMITS.maxNameBytes)
        throw new Error(`iso9660: invalid name component "${p}" in ${f.path}`);
    if (f.data.length > maxFile) throw new Error(`iso9660: ${f.path} is larger than ${maxFile} bytes`);
    total += f.data.length;
    if (total > maxTotal) throw new Error(`iso9660: files total more than ${maxTotal} bytes`);
    let dir = root;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      let child = dir.children.find((c) => c.name === parts[i]);
      if (child && (last || !child.dir)) throw new Error(`iso9660: ${f.path} clashes with another entry`);
      if (!child) {
        child = {
          name: parts[i]!,
          isoName: "",
          dir: !last,
          children: [],
          parent: dir,
          extent: 0,
          size: 0,
          number: 0,
          ...(last ? { data: f.data } : {}),
        };
        dir.children.push(child);
      }
      dir = child;
    }
  }
  return root;
}

/** Directories in path-table order (breadth first, children in identifier order). */
function directories(root: Node): Node[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    assignIsoNames(out[i]!);
    for (const c of out[i]!.children) if (c.dir) out.push(c);
  }
  out.forEach((d, i) => (d.number = i + 1));
  return out;
}

function recordingDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

function decDate(d: Date | null): Buffer {
  const b = Buffer.alloc(17, 0);
  if (!d) {
    b.write("0000000000000000", 0, "ascii");
    return b;
  }
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  b.write(s, 0, "ascii");
  return b;
}

const ER_ID = "RRIP_1991A";
const ER_DES = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SRC = "PLEASE CONTACT THE STRATUS PROJECT";

function suEntry(sig: string, body: Buffer): Buffer {
  const head = Buffer.from([sig.charCodeAt(0), sig.charCodeAt(1), 4 + body.length, 1]);
  return Buffer.concat([head, body]);
}

function px(node: Node): Buffer {
  const b = Buffer.alloc(32);
  const subdirs = node.children.filter((c) => c.dir).length;
  both32(b, 0, node.dir ? 0o40555 : 0o100444);
  both32(b, 8, node.dir ? 2 + subdirs : 1);
  both32(b, 16, 0);
  both32(b, 24, 0);
  return suEntry("PX", b);
}

/** The system use area of a record: Rock Ridge entries. */
function systemUse(node: Node, kind: "self" | "parent" | "entry", isRoot: boolean): Buffer {
  const parts: Buffer[] = [];
  if (kind === "self" && isRoot) parts.push(suEntry("SP", Buffer.from([0xbe, 0xef, 0])));
  parts.push(px(node));
  if (kind === "entry") parts.push(suEntry("NM", Buffer.concat([Buffer.from([0]), Buffer.from(node.name)])));
  if (kind === "self" && isRoot) {
    const [id, des, src] = [ER_ID, ER_DES, ER_SRC].map((s) => Buffer.from(s, "ascii"));
    parts.push(
      suEntry("ER", Buffer.concat([Buffer.from([id!.length, des!.length, src!.length, 1]), id!, des!, src!])),
    );
  }
  return Buffer.concat(parts);
}

function dirRecord(node: Node, ident: Buffer, su: Buffer, date: Buffer): Buffer {
  const pad = ident.length % 2 === 0 ? 1 : 0;
  let len = 33 + ident.length + pad + su.length;
  if (len % 2) len++;
  if (len > 255) throw new Error(`iso9660: directory record for ${node.name} is too long`);
  const b = Buffer.alloc(len);
  b[0] = len;
  both32(b, 2, node.extent);
  both32(b, 10, node.dir ? node.size : node.data!.length);
  date.copy(b, 18);
  b[25] = node.dir ? 2 : 0;
  both16(b, 28, 1);
  b[32] = ident.length;
  ident.copy(b, 33);
  su.copy(b, 33 + ident.length + pad);
  return b;
}

/** The records of a directory: ".", "..", then each child. */
function dirRecords(dir: Node, date: Buffer): Buffer[] {
  const isRoot = dir.parent === null;
  return [
    dirRecord(dir, Buffer.from([0]), systemUse(dir, "self", isRoot), date),
    dirRecord(dir.parent ?? dir, Buffer.from([1]), systemUse(dir.parent ?? dir, "parent", false), date),
    ...dir.children.map((c) =>
      dirRecord(c, Buffer.from(c.isoName, "ascii"), systemUse(c, "entry", false), date),
    ),
  ];
}

/** Lay records into sectors (a record never crosses a sector boundary). */
function layRecords(records: Buffer[]): Buffer {
  const sectors: Buffer[] = [];
  let cur = Buffer.alloc(SECTOR);
  let off = 0;
  for (const r of records) {
    if (off + r.length > SECTOR) {
      sectors.push(cur);
      cur = Buffer.alloc(SECTOR);
      off = 0;
    }
    r.copy(cur, off);
    off += r.length;
  }
  sectors.push(cur);
  return Buffer.concat(sectors);
}

function pathTable(dirs: Node[], bigEndian: boolean): Buffer {
  const parts = dirs.map((d) => {
    const ident = d.parent ? Buffer.from(d.isoName, "ascii") : Buffer.from([0]);
    const b = Buffer.alloc(8 + ident.length + (ident.length % 2));
    b[0] = ident.length;
    if (bigEndian) {
      b.writeUInt32BE(d.extent, 2);
      b.writeUInt16BE(d.parent ? d.parent.number : 1, 6);
    } else {
      b.writeUInt32LE(d.extent, 2);
      b.writeUInt16LE(d.parent ? d.parent.number : 1, 6);
    }
    ident.copy(b, 8);
    return b;
  });
  return Buffer.concat(parts);
}

const sectorsOf = (bytes: number) => Math.ceil(bytes / SECTOR);

function padded(s: string, len: number): Buffer {
  const b = Buffer.alloc(len, 0x20);
  b.write(s, 0, "ascii");
  return b;
}

/** Build an ISO 9660 image (with Rock Ridge names) holding `files`. */
export function buildIso9660(files: IsoFile[], o: IsoOptions): Buffer {
  if (Buffer.byteLength(o.volumeId) > 32) throw new Error("iso9660: volume id longer than 32 bytes");
  const when = o.date ?? new Date();
  const date = recordingDate(when);
  const root = buildTree(files, o);
  const dirs = directories(root);
  // Sizes first (records do not depend on extents), then extents, then the bytes.
  for (const d of dirs) d.size = layRecords(dirRecords(d, date)).length;
  const ptSize = pathTable(dirs, false).length;
  const ptSectors = sectorsOf(ptSize);
  let next = 18;
  const lPath = next;
  next += ptSectors;
  const mPath = next;
  next += ptSectors;
  for (const d of dirs) {
    d.extent = next;
    next += d.size / SECTOR;
  }
  const fileNodes: Node[] = [];
  for (const d of dirs) for (const c of d.children) if (!c.dir) fileNodes.push(c);
  for (const f of fileNodes) {
    f.extent = f.data!.length ? next : 0;
    next += sectorsOf(f.data!.length);
  }
  const image = Buffer.alloc(next * SECTOR);
  const pvd = image.subarray(16 * SECTOR, 17 * SECTOR);
  pvd[0] = 1;
  pvd.write("CD001", 1, "ascii");
  pvd[6] = 1;
  padded("LINUX", 32).copy(pvd, 8);
  padded(o.volumeId, 32).copy(pvd, 40);
  both32(pvd, 80, next);
  both16(pvd, 120, 1);
  both16(pvd, 124, 1);
  both16(pvd, 128, SECTOR);
  both32(pvd, 132, ptSize);
  pvd.writeUInt32LE(lPath, 140);
  pvd.writeUInt32BE(mPath, 148);
  dirRecord(root, Buffer.from([0]), Buffer.alloc(0), date).copy(pvd, 156);
  padded("", 128).copy(pvd, 190);
  padded("", 128).copy(pvd, 318);
  padded("", 128).copy(pvd, 446);
  padded("STRATUS", 128).copy(pvd, 574);
  padded("", 37 * 3).copy(pvd, 702);
  decDate(when).copy(pvd, 813);
  decDate(when).copy(pvd, 830);
  decDate(null).copy(pvd, 847);
  decDate(null).copy(pvd, 864);
  pvd[881] = 1;
  const term = image.subarray(17 * SECTOR, 18 * SECTOR);
  term[0] = 255;
  term.write("CD001", 1, "ascii");
  term[6] = 1;
  pathTable(dirs, false).copy(image, lPath * SECTOR);
  pathTable(dirs, true).copy(image, mPath * SECTOR);
  for (const d of dirs) layRecords(dirRecords(d, date)).copy(image, d.extent * SECTOR);
  for (const f of fileNodes) f.data!.copy(image, f.extent * SECTOR);
  return image;
}
