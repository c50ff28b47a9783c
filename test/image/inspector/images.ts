import type { InspectionResult, StreamInspector } from "../../../src/image/inspector/index.js";

// Hand-built disk images for the inspector tests, written field by field from the format specifications. They are
// complete enough that qemu-img opens the clean ones (the cross-check test relies on that), but hold no guest data.

export const KiB = 1024;
export const MiB = 1024 * 1024;

// ---- qcow2 ----

export interface Qcow2Options {
  version?: 2 | 3;
  size?: number;
  clusterBits?: number;
  backing?: string;
  /** Sets incompatible feature bit 2 (external data file). */
  dataFileBit?: boolean;
  /** Adds the "external data file name" header extension. */
  dataFileName?: string;
  /** Extra incompatible feature bits (v3). */
  incompatible?: bigint;
  /** Overrides the L1 table's entry count in the header (the table written stays the right size). */
  l1Size?: number;
}

export function qcow2(o: Qcow2Options = {}): Buffer {
  const version = o.version ?? 3;
  const size = o.size ?? 64 * MiB;
  const clusterBits = o.clusterBits ?? 16;
  const cluster = 2 ** clusterBits;
  // Clusters: 0 header, 1 refcount table, 2 refcount block, 3.. L1 table.
  const l1Size = Math.max(1, Math.ceil(size / (cluster * (cluster / 8))));
  const clusters = 3 + Math.ceil((l1Size * 8) / cluster);
  const b = Buffer.alloc(cluster * clusters);
  Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(b, 0);
  b.writeUInt32BE(version, 4);
  b.writeUInt32BE(clusterBits, 20);
  b.writeBigUInt64BE(BigInt(size), 24);
  b.writeUInt32BE(o.l1Size ?? l1Size, 36);
  b.writeBigUInt64BE(BigInt(3 * cluster), 40); // l1_table_offset
  b.writeBigUInt64BE(BigInt(cluster), 48); // refcount_table_offset
  b.writeUInt32BE(1, 56); // refcount_table_clusters
  let off = 72;
  if (version === 3) {
    let incompat = o.incompatible ?? 0n;
    if (o.dataFileBit) incompat |= 1n << 2n;
    b.writeBigUInt64BE(incompat, 72);
    b.writeUInt32BE(4, 96); // refcount_order: 16-bit refcounts
    b.writeUInt32BE(104, 100); // header_length
    off = 104;
  }
  if (o.dataFileName !== undefined) {
    const name = Buffer.from(o.dataFileName);
    b.writeUInt32BE(0x44415441, off);
    b.writeUInt32BE(name.length, off + 4);
    name.copy(b, off + 8);
    off += 8 + Math.ceil(name.length / 8) * 8;
  }
  b.writeUInt32BE(0, off); // end of extensions
  b.writeUInt32BE(0, off + 4);
  off += 8;
  if (o.backing !== undefined) {
    const name = Buffer.from(o.backing);
    name.copy(b, off);
    b.writeBigUInt64BE(BigInt(off), 8);
    b.writeUInt32BE(name.length, 16);
  }
  // Refcount table → refcount block at cluster 2, which counts every cluster once (16-bit entries).
  b.writeBigUInt64BE(BigInt(2 * cluster), cluster);
  for (let i = 0; i < clusters; i++) b.writeUInt16BE(1, 2 * cluster + i * 2);
  return b;
}

// ---- VMDK ----

export function vmdkDescriptorText(createType: string, extents: string[], extra = ""): string {
  return [
    "# Disk DescriptorFile",
    "version=1",
    "CID=7e5a1b2c",
    "parentCID=ffffffff",
    `createType="${createType}"`,
    extra,
    "# Extent description",
    ...extents,
    "",
    "# The Disk Data Base",
    "#DDB",
    "",
    'ddb.virtualHWVersion = "4"',
    'ddb.geometry.cylinders = "130"',
    'ddb.geometry.heads = "16"',
    'ddb.geometry.sectors = "63"',
    'ddb.adapterType = "ide"',
    "",
  ].join("\n");
}

export interface VmdkSparseOptions {
  /** Capacity in 512-byte sectors (default 64 MiB worth). */
  capacity?: number;
  createType?: string;
  /** Extent lines for the embedded descriptor (default: one SPARSE extent naming the image). */
  extents?: string[];
  /** Replaces the whole embedded descriptor text. */
  descriptor?: string;
  /** streamOptimized style: grain directory at the end, authoritative header in a footer. */
  gdAtEnd?: boolean;
  /** With gdAtEnd: write the footer (default true). */
  footer?: boolean;
  /** Capacity written into the footer (default: same as the header). */
  footerCapacity?: number;
  descOffset?: number;
}

export function vmdkSparse(o: VmdkSparseOptions = {}): Buffer {
  const capacity = o.capacity ?? (64 * MiB) / 512;
  const createType = o.createType ?? (o.gdAtEnd ? "streamOptimized" : "monolithicSparse");
  const extents = o.extents ?? [`RW ${capacity} SPARSE "disk.vmdk"`];
  const text = o.descriptor ?? vmdkDescriptorText(createType, extents);
  const descSectors = 20;
  const gtes = 512;
  const grain = 128;
  const gdeCount = Math.max(1, Math.ceil(capacity / (grain * gtes)));
  const gdSectors = Math.ceil((gdeCount * 4) / 512);
  const rgd = 1 + descSectors;
  const gd = rgd + gdSectors;
  const overhead = 128;
  const header = (gdOffset: bigint, cap: number) => {
    const h = Buffer.alloc(512);
    h.write("KDMV", 0, "latin1");
    h.writeUInt32LE(o.gdAtEnd ? 3 : 1, 4);
    h.writeUInt32LE(o.gdAtEnd ? 0x30001 : 0x3, 8); // newline check (+ redundant GD / compressed + markers)
    h.writeBigUInt64LE(BigInt(cap), 12);
    h.writeBigUInt64LE(BigInt(grain), 20);
    h.writeBigUInt64LE(BigInt(o.descOffset ?? 1), 28);
    h.writeBigUInt64LE(BigInt(descSectors), 36);
    h.writeUInt32LE(gtes, 44);
    h.writeBigUInt64LE(o.gdAtEnd ? 0n : BigInt(rgd), 48);
    h.writeBigUInt64LE(gdOffset, 56);
    h.writeBigUInt64LE(BigInt(overhead), 64);
    h.write("\n \r\n", 73, "latin1");
    h.writeUInt16LE(o.gdAtEnd ? 1 : 0, 77);
    return h;
  };
  const body = Buffer.alloc(overhead * 512);
  header(o.gdAtEnd ? 0xffffffffffffffffn : BigInt(gd), capacity).copy(body, 0);
  Buffer.from(text, "latin1").copy(body, 512, 0, descSectors * 512);
  if (!o.gdAtEnd) return body;
  if (o.footer === false) return Buffer.concat([body, Buffer.alloc(1024)]);
  const marker = Buffer.alloc(512);
  marker.writeBigUInt64LE(1n, 0);
  marker.writeUInt32LE(0, 8);
  marker.writeUInt32LE(3, 12); // footer marker
  const footer = header(BigInt(gd), o.footerCapacity ?? capacity);
  const eos = Buffer.alloc(512);
  return Buffer.concat([body, marker, footer, eos]);
}

// ---- VHD ----

function vhdChecksum(b: Buffer, field: number): void {
  b.writeUInt32BE(0, field);
  let sum = 0;
  for (const c of b) sum = (sum + c) >>> 0;
  b.writeUInt32BE(~sum >>> 0, field);
}

export function vhdFooter(type: 2 | 3 | 4, size: number, dataOffset: bigint): Buffer {
  const f = Buffer.alloc(512);
  f.write("conectix", 0, "latin1");
  f.writeUInt32BE(2, 8); // features: reserved bit
  f.writeUInt32BE(0x00010000, 12);
  f.writeBigUInt64BE(dataOffset, 16);
  f.write("win ", 28, "latin1"); // qemu then takes the current size as the disk size
  f.writeUInt32BE(0x000a0000, 32);
  f.write("Wi2k", 36, "latin1");
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  f.writeUInt16BE(Math.min(65535, Math.ceil(size / 512 / 16 / 255)), 56); // CHS (informational here)
  f.writeUInt8(16, 58);
  f.writeUInt8(255, 59);
  f.writeUInt32BE(type, 60);
  for (let i = 0; i < 16; i++) f[68 + i] = (i * 37 + 11) & 0xff;
  vhdChecksum(f, 64);
  return f;
}

export function vhdFixed(size = 4 * MiB): Buffer {
  const data = Buffer.alloc(size);
  data.write("guest data", 0);
  return Buffer.concat([data, vhdFooter(2, size, 0xffffffffffffffffn)]);
}

export function vhdDynamic(size = 64 * MiB, type: 3 | 4 = 3): Buffer {
  const blockSize = 2 * MiB;
  const entries = Math.ceil(size / blockSize);
  const footer = vhdFooter(type, size, 512n);
  const dyn = Buffer.alloc(1024);
  dyn.write("cxsparse", 0, "latin1");
  dyn.writeBigUInt64BE(0xffffffffffffffffn, 8);
  dyn.writeBigUInt64BE(1536n, 16); // BAT offset
  dyn.writeUInt32BE(0x00010000, 24);
  dyn.writeUInt32BE(entries, 28);
  dyn.writeUInt32BE(blockSize, 32);
  vhdChecksum(dyn, 36);
  const bat = Buffer.alloc(Math.ceil((entries * 4) / 512) * 512, 0xff);
  return Buffer.concat([footer, dyn, bat, footer]);
}

// ---- VHDX ----

export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, "");
  const b = Buffer.from(hex, "hex");
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `b`, which VHDX stores in headers and region tables (with the checksum field zeroed). */
function crc32c(b: Buffer): number {
  let c = 0xffffffff;
  for (const byte of b) c = CRC32C_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface VhdxOptions {
  size?: number;
  /** Where the metadata region starts (default 1 MiB, inside the inspector's head; 3 MiB is beyond it). */
  metadataOffset?: number;
  parentLocator?: boolean;
  hasParentFlag?: boolean;
  omitVirtualDiskSize?: boolean;
}

export function vhdx(o: VhdxOptions = {}): Buffer {
  const metaOff = o.metadataOffset ?? MiB;
  const b = Buffer.alloc(metaOff + 128 * KiB);
  b.write("vhdxfile", 0, "latin1");
  Buffer.from("Stratus test", "utf16le").copy(b, 8);
  for (const h of [64 * KiB, 128 * KiB]) {
    b.write("head", h, "latin1");
    b.writeBigUInt64LE(h === 64 * KiB ? 1n : 2n, h + 8);
    b.writeUInt16LE(1, h + 66); // version
    b.writeUInt32LE(1 * MiB, h + 68); // log length
    b.writeBigUInt64LE(BigInt(metaOff + 2 * MiB), h + 72); // log offset (log GUID is zero: nothing to replay)
    b.writeUInt32LE(crc32c(b.subarray(h, h + 4 * KiB)), h + 4);
  }
  for (const rt of [192 * KiB, 256 * KiB]) {
    b.write("regi", rt, "latin1");
    b.writeUInt32LE(2, rt + 8);
    guidBytes("2DC27766-F623-4200-9D64-115E9BFD4A08").copy(b, rt + 16); // BAT
    b.writeBigUInt64LE(BigInt(metaOff + MiB), rt + 32);
    b.writeUInt32LE(MiB, rt + 40);
    b.writeUInt32LE(1, rt + 44);
    guidBytes("8B7CA206-4790-4B9A-B8FE-575F050F886E").copy(b, rt + 48); // metadata
    b.writeBigUInt64LE(BigInt(metaOff), rt + 64);
    b.writeUInt32LE(MiB, rt + 72);
    b.writeUInt32LE(1, rt + 76);
    b.writeUInt32LE(crc32c(b.subarray(rt, rt + 64 * KiB)), rt + 4);
  }
  const items: Array<[string, Buffer, number]> = [];
  const fp = Buffer.alloc(8);
  fp.writeUInt32LE(32 * MiB, 0);
  fp.writeUInt32LE(o.hasParentFlag ? 2 : 0, 4);
  items.push(["CAA16737-FA36-4D43-B3B6-33F0AA44E76B", fp, 4]);
  if (!o.omitVirtualDiskSize) {
    const vds = Buffer.alloc(8);
    vds.writeBigUInt64LE(BigInt(o.size ?? 256 * MiB), 0);
    items.push(["2FA54224-CD1B-4876-B211-5DBED83BF4B8", vds, 6]);
  }
  const lss = Buffer.alloc(4);
  lss.writeUInt32LE(512, 0);
  items.push(["8141BF1D-A96F-4709-BA47-F233A8FAAB5F", lss, 6]);
  items.push(["CDA348C7-445D-4471-9CC9-E9885251C556", Buffer.from(lss), 6]);
  items.push(["BECA12AB-B2E6-4523-93EF-C309E000C746", Buffer.alloc(16, 7), 6]);
  if (o.parentLocator) items.push(["A8D35F2D-B30B-454D-ABF7-D3D84834AB0C", Buffer.alloc(32, 1), 4]);
  b.write("metadata", metaOff, "latin1");
  b.writeUInt16LE(items.length, metaOff + 10);
  let dataOff = 64 * KiB;
  items.forEach(([guid, data, flags], i) => {
    const e = metaOff + 32 + i * 32;
    guidBytes(guid).copy(b, e);
    b.writeUInt32LE(dataOff, e + 16);
    b.writeUInt32LE(data.length, e + 20);
    b.writeUInt32LE(flags, e + 24);
    data.copy(b, metaOff + dataOff);
    dataOff += Math.ceil(data.length / 8) * 8;
  });
  return b;
}

// ---- VDI ----

export function vdi(size = 64 * MiB, imageType = 1): Buffer {
  const blocks = Math.ceil(size / MiB);
  const offBlocks = 512;
  const offData = offBlocks + Math.ceil((blocks * 4) / 512) * 512;
  const b = Buffer.alloc(offData);
  b.write("<<< QEMU VM Virtual Disk Image >>>\n", 0, "latin1");
  b.writeUInt32LE(0xbeda107f, 0x40);
  b.writeUInt32LE(0x00010001, 0x44);
  b.writeUInt32LE(0x190, 0x48);
  b.writeUInt32LE(imageType, 0x4c);
  b.writeUInt32LE(offBlocks, 0x154);
  b.writeUInt32LE(offData, 0x158);
  b.writeUInt32LE(512, 0x168);
  b.writeBigUInt64LE(BigInt(size), 0x170);
  b.writeUInt32LE(MiB, 0x178);
  b.writeUInt32LE(blocks, 0x180);
  for (let i = 0; i < 16; i++) b[0x188 + i] = i + 1;
  b.fill(0xff, offBlocks, offBlocks + blocks * 4);
  return b;
}

// ---- ISO 9660 ----

export function iso(blocks = 64, o: { mbr?: boolean } = {}): Buffer {
  const b = Buffer.alloc(blocks * 2048);
  const pvd = 16 * 2048;
  b[pvd] = 1;
  b.write("CD001", pvd + 1, "latin1");
  b[pvd + 6] = 1;
  b.write("STRATUS_TEST".padEnd(32, " "), pvd + 40, "latin1");
  b.writeUInt32LE(blocks, pvd + 80);
  b.writeUInt32BE(blocks, pvd + 84);
  b.writeUInt16LE(2048, pvd + 128);
  b.writeUInt16BE(2048, pvd + 130);
  const term = 17 * 2048;
  b[term] = 255;
  b.write("CD001", term + 1, "latin1");
  b[term + 6] = 1;
  if (o.mbr) mbrInto(b, 0x17);
  return b;
}

// ---- raw ----

function mbrInto(b: Buffer, type: number): void {
  const e = 446;
  b[e] = 0x80;
  b[e + 4] = type;
  b.writeUInt32LE(2048, e + 8);
  b.writeUInt32LE(Math.max(1, b.length / 512 - 2048), e + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
}

export function rawMbr(size = 2 * MiB): Buffer {
  const b = Buffer.alloc(size);
  mbrInto(b, 0x83);
  return b;
}

export function rawGpt(size = 2 * MiB): Buffer {
  const b = Buffer.alloc(size);
  mbrInto(b, 0xee);
  b.write("EFI PART", 512, "latin1");
  return b;
}

/** Deterministic pseudo-random bytes (no format signature at any of the probed offsets). */
export function noise(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Feeds `data` to a fresh inspector in `chunk`-byte pieces. */
export function feed(inspector: StreamInspector, data: Buffer, chunk: number): InspectionResult {
  for (let i = 0; i < data.length; i += chunk) inspector.write(data.subarray(i, i + chunk));
  return inspector.finish();
}
