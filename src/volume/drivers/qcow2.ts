// An empty qcow2 image written in-process (no qemu-img spawn per volume create), laid out as `qemu-img create -f
// qcow2` lays it out: version 3, 64 KiB clusters, 16-bit refcounts. Cluster 0 holds the header, cluster 1 the
// refcount table (one entry), cluster 2 the refcount block counting the metadata clusters, then the L1 table (all
// zero: every guest cluster unallocated, reading as zeros). Format: docs/interop/qcow2.txt in QEMU's sources.

/** log2 of the cluster size (64 KiB, qemu-img's default). */
const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
/** Bytes covered by one L2 table: cluster / 8 entries of one cluster each (512 MiB). */
const L2_SPAN = (CLUSTER / 8) * CLUSTER;
/** The header's length (version 3 without the optional compression type field). */
const HEADER_LENGTH = 104;
/** Refcounts of 2^4 = 16 bits, qemu-img's default. */
const REFCOUNT_ORDER = 4;
/** The most L1 clusters written in-process: one refcount block counts the metadata (32 768 clusters). */
const MAX_L1_CLUSTERS = 1024;

/** The bytes of an empty qcow2 image of `virtualBytes` (a multiple of 512), or null if too big for this writer. */
export function emptyQcow2(virtualBytes: number): Buffer | null {
  if (!Number.isSafeInteger(virtualBytes) || virtualBytes <= 0 || virtualBytes % 512 !== 0) return null;
  const l1Entries = Math.ceil(virtualBytes / L2_SPAN);
  const l1Clusters = Math.ceil((l1Entries * 8) / CLUSTER);
  if (l1Clusters > MAX_L1_CLUSTERS) return null;
  const refTable = 1 * CLUSTER;
  const refBlock = 2 * CLUSTER;
  const l1Table = 3 * CLUSTER;
  const clusters = 3 + l1Clusters;
  const out = Buffer.alloc(l1Table + l1Entries * 8);
  out.write("QFI\xfb", 0, "latin1");
  out.writeUInt32BE(3, 4); // version
  out.writeBigUInt64BE(0n, 8); // no backing file
  out.writeUInt32BE(0, 16);
  out.writeUInt32BE(CLUSTER_BITS, 20);
  out.writeBigUInt64BE(BigInt(virtualBytes), 24);
  out.writeUInt32BE(0, 32); // no encryption
  out.writeUInt32BE(l1Entries, 36);
  out.writeBigUInt64BE(BigInt(l1Table), 40);
  out.writeBigUInt64BE(BigInt(refTable), 48);
  out.writeUInt32BE(1, 56); // refcount table clusters
  out.writeUInt32BE(0, 60); // no snapshots
  out.writeBigUInt64BE(0n, 64);
  out.writeBigUInt64BE(0n, 72); // incompatible features
  out.writeBigUInt64BE(0n, 80); // compatible features
  out.writeBigUInt64BE(0n, 88); // autoclear features
  out.writeUInt32BE(REFCOUNT_ORDER, 96);
  out.writeUInt32BE(HEADER_LENGTH, 100);
  // Header extensions end at once: the end-of-extensions marker (type 0, length 0) is the zeros that follow.
  out.writeBigUInt64BE(BigInt(refBlock), refTable);
  for (let c = 0; c < clusters; c++) out.writeUInt16BE(1, refBlock + c * 2);
  return out;
}
