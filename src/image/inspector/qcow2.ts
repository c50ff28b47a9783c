// qcow2 (and its predecessor qcow v1, which shares the magic). Big-endian header:
//   0 magic "QFI\xfb"   4 version   8 backing_file_offset (u64)   16 backing_file_size (u32)   20 cluster_bits
//  24 size (u64, virtual size in bytes)   36 l1_size (u32, entries)   40 l1_table_offset (u64)
//  48 refcount_table_offset (u64)   56 refcount_table_clusters (u32)
//  v3 only: 72 incompatible_features (u64)   100 header_length (u32)
// Header extensions follow the header (v2: at 72, v3: at header_length), inside the first cluster and before the
// backing file name: {type u32, length u32, data padded to 8}, ending with type 0. Type 0x44415441 names an
// external data file. Incompatible feature bit 2 says the guest data lives in that external file.
// Spec: docs/interop/qcow2.txt in the QEMU tree.
import { hasAt, quote, toSafe, u32be, u64be } from "./bytes.js";
import type { Finding } from "./finding.js";

export const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_EXTENDED_L2 = 1n << 4n;
/** qemu's limits on the active L1 table (32 MiB) and the refcount table (8 MiB). */
const MAX_L1_BYTES = 32 * 2 ** 20;
const MAX_REFTABLE_BYTES = 8 * 2 ** 20;
/** dirty, corrupt, external data file, compression type, extended L2 entries. */
const INCOMPAT_KNOWN = (1n << 5n) - 1n;
const EXT_END = 0;
const EXT_DATA_FILE = 0x44415441;
const V2_HEADER_LEN = 72;
const V3_MIN_HEADER_LEN = 104;

export function isQcow(head: Buffer): boolean {
  return hasAt(head, 0, QCOW_MAGIC);
}

/** What the qcow2 header at the start of `head` says; `fileSize` is the whole image's length in bytes. */
export function inspectQcow(head: Buffer, fileSize?: number): Finding {
  const unsafe: string[] = [];
  const version = u32be(head, 4);
  const backingOffset = u64be(head, 8);
  const size = u64be(head, 24);
  const f: Finding = { name: "qcow2", format: "qcow2", virtualSize: null, unsafe };

  if (version === null || backingOffset === null || size === null || head.length < V2_HEADER_LEN) {
    unsafe.push("truncated qcow2 header");
    return f;
  }
  f.virtualSize = toSafe(size);
  if (f.virtualSize === null) unsafe.push("qcow2 virtual size is larger than 2^53 bytes");

  if (backingOffset !== 0n) {
    unsafe.push(`qcow2 image has a backing file${backingName(head, backingOffset)}`);
  }
  if (version === 1) {
    f.name = "qcow";
    f.subformat = "qcow1";
    unsafe.push("qcow version 1 images are not supported");
    return f;
  }
  if (version !== 2 && version !== 3) {
    f.subformat = `v${version}`;
    unsafe.push(`unsupported qcow2 version ${version}`);
    return f;
  }
  f.subformat = `v${version}`;

  const clusterBits = u32be(head, 20) as number;
  if (clusterBits < 9 || clusterBits > 21)
    unsafe.push(`invalid qcow2 cluster size (cluster_bits ${clusterBits})`);

  let headerLen = V2_HEADER_LEN;
  let extendedL2 = false;
  if (version === 3) {
    const incompat = u64be(head, 72);
    const len = u32be(head, 100);
    if (incompat === null || len === null) {
      unsafe.push("truncated qcow2 header");
      return f;
    }
    if (incompat & INCOMPAT_DATA_FILE) unsafe.push("qcow2 image uses an external data file");
    extendedL2 = (incompat & INCOMPAT_EXTENDED_L2) !== 0n;
    if (incompat & ~INCOMPAT_KNOWN) {
      unsafe.push(`qcow2 image has unknown incompatible features (0x${incompat.toString(16)})`);
    }
    if (len < V3_MIN_HEADER_LEN || len % 8 !== 0) {
      unsafe.push(`invalid qcow2 header length ${len}`);
      return f;
    }
    headerLen = len;
  }

  if (clusterBits >= 9 && clusterBits <= 21)
    unsafe.push(...tableProblems(head, size, clusterBits, extendedL2, fileSize));

  // Header extensions: within the first cluster (bounded by what the head holds) and before the backing file name.
  let extEnd = Math.min(head.length, 2 ** Math.min(Math.max(clusterBits, 9), 21));
  const bo = toSafe(backingOffset);
  if (backingOffset !== 0n && bo !== null && bo < extEnd) extEnd = bo;
  let off = headerLen;
  while (off + 8 <= extEnd) {
    const type = u32be(head, off) as number;
    const len = u32be(head, off + 4) as number;
    if (type === EXT_END) break;
    const dataEnd = off + 8 + len;
    if (type === EXT_DATA_FILE) {
      const name = dataEnd <= head.length ? head.subarray(off + 8, dataEnd).toString("latin1") : "";
      unsafe.push(`qcow2 image names an external data file ${quote(name)}`);
    }
    if (dataEnd > extEnd) {
      unsafe.push("qcow2 header extension runs past the end of the header area");
      break;
    }
    off = off + 8 + Math.ceil(len / 8) * 8;
  }
  return f;
}

/** Where the header's tables disagree with the declared size or the file, as qemu refuses them at open. */
function tableProblems(
  head: Buffer,
  size: bigint,
  clusterBits: number,
  extendedL2: boolean,
  fileSize?: number,
): string[] {
  const out: string[] = [];
  const l1Size = BigInt(u32be(head, 36) as number);
  const l1Offset = u64be(head, 40) as bigint;
  const refOffset = u64be(head, 48) as bigint;
  const refClusters = BigInt(u32be(head, 56) as number);
  const cluster = 1n << BigInt(clusterBits);
  // One L1 entry maps one L2 table: a cluster of 8-byte entries (16-byte with extended L2), each mapping a cluster.
  const perL1 = cluster * (cluster / (extendedL2 ? 16n : 8n));
  const needed = (size + perL1 - 1n) / perL1;
  if (l1Size < needed)
    out.push(`qcow2 L1 table is too small for the virtual size (${l1Size} entries, ${needed} needed)`);
  if (l1Size * 8n > BigInt(MAX_L1_BYTES)) out.push(`qcow2 L1 table is too large (${l1Size} entries)`);
  if (l1Size > 0n && (l1Offset === 0n || l1Offset % cluster !== 0n))
    out.push("invalid qcow2 L1 table offset");
  if (refOffset === 0n || refOffset % cluster !== 0n) out.push("invalid qcow2 refcount table offset");
  if (refClusters * cluster > BigInt(MAX_REFTABLE_BYTES)) out.push("qcow2 refcount table is too large");
  if (fileSize !== undefined) {
    const file = BigInt(fileSize);
    if (l1Offset + l1Size * 8n > file) out.push("qcow2 L1 table lies beyond the end of the image");
    if (refOffset + refClusters * cluster > file)
      out.push("qcow2 refcount table lies beyond the end of the image");
  }
  return out;
}

function backingName(head: Buffer, offset: bigint): string {
  const size = u32be(head, 16);
  const off = toSafe(offset);
  if (off === null || size === null || size === 0 || size > 1023 || off + size > head.length) return "";
  return ` ${quote(head.subarray(off, off + size).toString("latin1"))}`;
}
