// A small ISO 9660 reader for the tests: the primary volume descriptor's label, and every file by its Rock Ridge
// name (NM), walking directory extents record by record. Checks the structure it relies on as it goes.
import assert from "node:assert/strict";

const SECTOR = 2048;

/** What the reader found in an image. */
export interface ParsedIso {
  volumeId: string;
  /** Rock Ridge was announced (SP in the root's "." record). */
  rockRidge: boolean;
  /** path → bytes, by Rock Ridge names. */
  files: Map<string, Buffer>;
  /** Directory paths ("" is the root). */
  dirs: string[];
  /** ISO (8.3) identifiers seen, per directory path. */
  isoNames: Map<string, string[]>;
}

interface Rec {
  len: number;
  extent: number;
  size: number;
  dir: boolean;
  ident: Buffer;
  su: Buffer;
}

function record(b: Buffer, off: number): Rec {
  const len = b[off]!;
  const identLen = b[off + 32]!;
  const suStart = off + 33 + identLen + (identLen % 2 === 0 ? 1 : 0);
  assert.equal(b.readUInt32LE(off + 2), b.readUInt32BE(off + 6), "both-endian extent");
  assert.equal(b.readUInt32LE(off + 10), b.readUInt32BE(off + 14), "both-endian size");
  return {
    len,
    extent: b.readUInt32LE(off + 2),
    size: b.readUInt32LE(off + 10),
    dir: (b[off + 25]! & 2) !== 0,
    ident: b.subarray(off + 33, off + 33 + identLen),
    su: b.subarray(suStart, off + len),
  };
}

/** The SUSP entries of a system use area. */
function suEntries(su: Buffer): Array<{ sig: string; data: Buffer }> {
  const out: Array<{ sig: string; data: Buffer }> = [];
  for (let i = 0; i + 4 <= su.length;) {
    const len = su[i + 2]!;
    if (len < 4) break;
    out.push({ sig: su.toString("latin1", i, i + 2), data: su.subarray(i + 4, i + len) });
    i += len;
  }
  return out;
}

/** Parse an image built by buildIso9660 (or any single-extent ISO with Rock Ridge names). */
export function readIso(img: Buffer): ParsedIso {
  assert.equal(img.length % SECTOR, 0, "whole sectors");
  const pvd = img.subarray(16 * SECTOR, 17 * SECTOR);
  assert.equal(pvd[0], 1);
  assert.equal(pvd.toString("latin1", 1, 6), "CD001");
  assert.equal(pvd.readUInt32LE(80) * SECTOR, img.length, "volume space size");
  assert.equal(pvd.readUInt16LE(128), SECTOR);
  const term = img.subarray(17 * SECTOR);
  assert.equal(term[0], 255, "descriptor set terminator");
  const root = record(pvd, 156);
  const out: ParsedIso = {
    volumeId: pvd.toString("latin1", 40, 72).trimEnd(),
    rockRidge: false,
    files: new Map(),
    dirs: [],
    isoNames: new Map(),
  };
  const walk = (extent: number, size: number, path: string) => {
    out.dirs.push(path);
    const names: string[] = [];
    const data = img.subarray(extent * SECTOR, extent * SECTOR + size);
    for (let s = 0; s < size; s += SECTOR) {
      for (let off = s; off < s + SECTOR && data[off]! > 0;) {
        const r = record(data, off);
        assert.ok(off + r.len <= s + SECTOR, "a record never crosses a sector boundary");
        off += r.len;
        const entries = suEntries(r.su);
        if (r.ident.length === 1 && r.ident[0]! <= 1) {
          if (path === "" && r.ident[0] === 0) out.rockRidge = entries.some((e) => e.sig === "SP");
          continue;
        }
        names.push(r.ident.toString("latin1"));
        const nm = entries.find((e) => e.sig === "NM");
        const name = nm ? nm.data.subarray(1).toString("utf8") : r.ident.toString("latin1");
        const full = path ? `${path}/${name}` : name;
        if (r.dir) walk(r.extent, r.size, full);
        else out.files.set(full, Buffer.from(img.subarray(r.extent * SECTOR, r.extent * SECTOR + r.size)));
      }
    }
    out.isoNames.set(path, names);
  };
  walk(root.extent, root.size, "");
  return out;
}
