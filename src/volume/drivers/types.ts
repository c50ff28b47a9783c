// The block storage backend interface: where a volume's blocks live (a file, later an LVM volume or an RBD image)
// and how they are exported to a compute host (transports.ts). The volume agent is the only caller; every
// operation is idempotent so a retried or replayed request does no harm.
import type { Readable } from "node:stream";

/** What the scheduler needs to know of a backend's pool (Cinder's pool capabilities, sizes in GiB). */
export interface PoolStats {
  pool: string;
  totalCapacityGb: number;
  freeCapacityGb: number;
  /** Allocated (provisioned) GiB, for thin provisioning ratios. */
  provisionedCapacityGb: number;
  thinProvisioning: boolean;
  /** Storage protocols this backend can export with ("iSCSI", "NBD"). */
  protocols: string[];
}

/** A volume as the backend is asked to make it. */
export interface VolumeSpec {
  id: string;
  sizeGb: number;
  /** Backend-specific options from the volume type's extra specs (e.g. `file:format` = qcow2 | raw). */
  options?: ReadonlyMap<string, string>;
}

/** Where an existing volume's blocks are, for an export (a local file, in a QEMU block format). */
export interface VolumeLocation {
  path: string;
  format: "qcow2" | "raw";
}

/** The required backend interface; optional capabilities are optional methods. */
export interface VolumeBackend {
  readonly name: string;
  /** Capacity of the backend's pool. */
  stats(): Promise<PoolStats>;
  /** Create an empty volume (zeros) of sizeGb. */
  create(spec: VolumeSpec): Promise<VolumeLocation>;
  /** Remove a volume and its snapshots' dependence on it (idempotent: a missing volume is not an error). */
  delete(volumeId: string): Promise<void>;
  /** Grow a volume (never shrinks). */
  extend(volumeId: string, newSizeGb: number): Promise<void>;
  /** Where the volume is, or null when the backend has no such volume. */
  locate(volumeId: string): Promise<VolumeLocation | null>;
  /** Ids of every volume the backend holds (reconciliation at agent start). */
  list(): Promise<string[]>;
  /** Point-in-time snapshot of a volume (crash-consistent). */
  createSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  deleteSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  /** A new volume with a snapshot's content, at least as large (sizeGb >= the snapshot's). */
  createFromSnapshot(spec: VolumeSpec, snapshotId: string): Promise<VolumeLocation>;
  /** A new volume with another volume's current content. */
  clone(spec: VolumeSpec, sourceVolumeId: string): Promise<VolumeLocation>;
  /** Replace a volume's content with the data of an image (raw or qcow2 bytes), growing it to fit sizeGb. */
  writeImage(volumeId: string, data: Readable, format: "raw" | "qcow2"): Promise<void>;
  /** The volume's content as raw bytes (upload to image, backups). */
  readRaw(volumeId: string): Promise<Readable>;
  /** Roll a volume back to one of its snapshots (Cinder 3.40). */
  revertToSnapshot?(volumeId: string, snapshotId: string): Promise<void>;
  /** Adopt data the backend holds under `ref` (Cinder's `source-name`) as volume `spec.id`; its size in GiB. */
  manage?(spec: VolumeSpec, ref: string): Promise<{ location: VolumeLocation; sizeGb: number }>;
  /** Forget a volume, keeping its data under a reference `manage` takes (returned). */
  unmanage?(volumeId: string): Promise<string>;
  /** What `manage` could adopt: references and sizes in GiB. */
  manageable?(): Promise<Array<{ ref: string; sizeGb: number }>>;
}

/** One of a host's backends (Cinder's enabled_backends): its name (volumes' hosts are `host@name#pool`), the
 *  `volume_backend_name` its pools report (what types select on) and the backend. */
export interface NamedBackend {
  name: string;
  volumeBackendName: string;
  backend: VolumeBackend;
}

/** A daemon that may hold volume files open (a transport's exports), so a backend acts through it while it does:
 *  QEMU locks images, so a qcow2 open in qemu-storage-daemon cannot be touched by qemu-img. */
export interface BlockHolder {
  /** Whether the daemon has the volume's file open now. */
  holds(volumeId: string): Promise<boolean>;
  /** Grow the open volume to `bytes` (the file and what the daemon's clients see). */
  resize(volumeId: string, bytes: number, location: VolumeLocation): Promise<void>;
  /** A qcow2 internal snapshot taken through the daemon (atomic while clients write). */
  snapshot?(volumeId: string, name: string): Promise<void>;
  /** Remove a qcow2 internal snapshot through the daemon (idempotent). */
  deleteSnapshot?(volumeId: string, name: string): Promise<void>;
}
