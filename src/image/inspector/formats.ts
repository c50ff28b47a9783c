// The single-structure formats: VHD, VDI, ISO 9660/UDF, MBR/GPT partition tables, and the other formats qemu
// probes by a magic at offset 0.
import { hasAt, mulSafe, toSafe, u16le, u32be, u32le, u64be, u64le } from "./bytes.js";
import type { Finding } from "./finding.js";

// ---- VHD (Microsoft Virtual PC / "vpc" in qemu) ----
// A 512-byte big-endian footer: 0 cookie "conectix", 16 data offset (u64), 28 creator application, 40 original
// size (u64), 48 current size (u64), 60 disk type (u32: 2 fixed, 3 dynamic, 4 differencing). Fixed disks carry it
// only at the very end; dynamic and differencing disks also have a copy at offset 0. A differencing disk reads
// unallocated blocks from a parent file named in its dynamic header's parent locators.
// Spec: Microsoft "Virtual Hard Disk Image Format Specification" 1.0.

export function vhdFooterAt(b: Buffer, off: number): Buffer | null {
  return hasAt(b, off, "conectix") && off + 512 <= b.length ? b.subarray(off, off + 512) : null;
}

const VHD_TYPES: Record<number, string> = { 2: "fixed", 3: "dynamic", 4: "differencing" };

export function inspectVhd(footer: Buffer): Finding {
  const unsafe: string[] = [];
  const type = u32be(footer, 60) as number;
  const f: Finding = { name: "vhd", format: "vhd", virtualSize: null, unsafe, subformat: VHD_TYPES[type] };
  f.virtualSize = toSafe(u64be(footer, 48));
  if (f.virtualSize === null) unsafe.push("VHD current size is larger than 2^53 bytes");
  if (type === 4) unsafe.push("differencing VHD reads its data from a parent image");
  else if (type !== 2 && type !== 3) unsafe.push(`unknown VHD disk type ${type}`);
  return f;
}

// ---- VDI (VirtualBox) ----
// Little-endian: 0 text banner, 0x40 signature 0xbeda107f, 0x44 version, 0x4c image type (1 dynamic, 2 fixed,
// 3 undo, 4 differencing), 0x170 disk size in bytes (u64). Undo/differencing images depend on a parent image.

export const VDI_SIGNATURE = 0xbeda107f;

export function isVdi(head: Buffer): boolean {
  return u32le(head, 0x40) === VDI_SIGNATURE;
}

const VDI_TYPES: Record<number, string> = { 1: "dynamic", 2: "fixed", 3: "undo", 4: "differencing" };

export function inspectVdi(head: Buffer): Finding {
  const unsafe: string[] = [];
  const type = u32le(head, 0x4c);
  const size = u64le(head, 0x170);
  const f: Finding = { name: "vdi", format: "vdi", virtualSize: null, unsafe };
  if (type === null || size === null) {
    unsafe.push("truncated VDI header");
    return f;
  }
  f.subformat = VDI_TYPES[type];
  f.virtualSize = toSafe(size);
  if (f.virtualSize === null) unsafe.push("VDI disk size is larger than 2^53 bytes");
  if (type === 3 || type === 4) unsafe.push(`${VDI_TYPES[type]} VDI depends on a parent image`);
  else if (type !== 1 && type !== 2) unsafe.push(`unknown VDI image type ${type}`);
  return f;
}

// ---- ISO 9660 / UDF ----
// 2048-byte volume descriptors from 32 KiB (sector 16): type (1 byte), identifier (5), version. ISO 9660 uses
// "CD001" (type 1 = primary volume descriptor, 255 = terminator); UDF's volume recognition sequence uses "BEA01",
// "NSR02"/"NSR03", "TEA01". In the PVD, the volume space size is a both-endian u32 at 80 and the logical block size
// a both-endian u16 at 128.

const ISO_START = 32 * 1024;
const ISO_SECTOR = 2048;
const VRS_IDS = new Set(["CD001", "BEA01", "NSR02", "NSR03", "TEA01", "BOOT2", "CDW02"]);

/** The ISO finding, or null when there is no volume recognition sequence at 32 KiB. */
export function inspectIso(head: Buffer, actualSize: number): Finding | null {
  let isIso = false;
  let udf = false;
  let size: number | null = null;
  for (let i = 0; i < 64; i++) {
    const off = ISO_START + i * ISO_SECTOR;
    if (off + ISO_SECTOR > head.length) break;
    const id = head.toString("latin1", off + 1, off + 6);
    if (!VRS_IDS.has(id)) break;
    const type = head[off];
    if (id === "CD001") {
      isIso = true;
      if (type === 1 && size === null) {
        const blocks = u32le(head, off + 80);
        const blockSize = u16le(head, off + 128);
        if (blocks && blockSize) size = mulSafe(blocks, blockSize);
      }
      if (type === 255) break;
    } else if (id === "NSR02" || id === "NSR03") {
      isIso = true;
      udf = true;
    }
  }
  if (!isIso) return null;
  // A UDF-only image has no PVD; its size would need the anchor and partition descriptors, so use the data size.
  return {
    name: "iso",
    format: "iso",
    virtualSize: size ?? actualSize,
    unsafe: [],
    subformat: size === null && udf ? "udf" : "iso9660",
  };
}

// ---- MBR / GPT (informational: a partitioned raw disk is raw) ----

export function partitionTable(head: Buffer): string | null {
  if (hasAt(head, 512, "EFI PART") || hasAt(head, 4096, "EFI PART")) return "gpt";
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) return "mbr";
  return null;
}

// ---- other formats qemu probes by a magic at offset 0 ----

const OTHER_MAGICS: Array<{ name: string; magic: Buffer }> = [
  { name: "qed", magic: Buffer.from("QED\0", "latin1") },
  { name: "luks", magic: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: "parallels", magic: Buffer.from("WithoutFreeSpace", "latin1") },
  { name: "parallels", magic: Buffer.from("WithouFreSpacExt", "latin1") },
  { name: "bochs", magic: Buffer.from("Bochs Virtual HD Image", "latin1") },
  { name: "cloop", magic: Buffer.from("#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0", "latin1") },
];

export function inspectOtherMagic(head: Buffer, actualSize: number): Finding | null {
  for (const { name, magic } of OTHER_MAGICS) {
    if (!hasAt(head, 0, magic)) continue;
    const unsafe: string[] = [];
    // QED is banned outright, as in OpenStack: nothing uses it, and it supports backing files.
    if (name === "qed") unsafe.push("QED images are not allowed");
    return { name, format: "raw", virtualSize: actualSize, unsafe };
  }
  return null;
}
