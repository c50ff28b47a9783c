// The reference backend and transport: volumes in memory (their size, the bytes written into them, their
// snapshots), exports as records. Every operation is idempotent as the interface asks; tests make an operation fail
// with `failures` and read what is left with `list()`.
import { Readable } from "node:stream";
import type { PoolStats, VolumeBackend, VolumeLocation, VolumeSpec } from "./types.js";
import type { ConnectionInfo, ExportRecord, VolumeTransport } from "./transports.js";

interface FakeVolume {
  sizeGb: number;
  format: "qcow2" | "raw";
  data: Buffer;
  snapshots: Map<string, { sizeGb: number; data: Buffer }>;
}

/** The operations a test can make fail (once each time it is added). */
export type FakeOp =
  | "create"
  | "delete"
  | "extend"
  | "createSnapshot"
  | "deleteSnapshot"
  | "createFromSnapshot"
  | "clone"
  | "writeImage"
  | "revertToSnapshot";

/** An in-memory backend (pool "fake", thin, iSCSI for raw volumes and NBD for qcow2 ones). */
export class FakeBackend implements VolumeBackend {
  readonly name = "fake";
  private readonly volumes = new Map<string, FakeVolume>();
  /** Operations that fail on their next call (each entry is used once). */
  readonly failures = new Set<FakeOp>();

  constructor(private readonly capacityGb = 1000) {}

  private fail(op: FakeOp): void {
    if (this.failures.delete(op)) throw new Error(`fake backend: ${op} failed (injected)`);
  }

  private location(id: string, v: FakeVolume): VolumeLocation {
    return { path: `fake:${id}`, format: v.format };
  }

  private make(spec: VolumeSpec, data: Buffer): VolumeLocation {
    const existing = this.volumes.get(spec.id);
    if (existing) return this.location(spec.id, existing);
    const format = spec.options?.get("file:format") === "qcow2" ? "qcow2" : "raw";
    const v: FakeVolume = { sizeGb: spec.sizeGb, format, data, snapshots: new Map() };
    this.volumes.set(spec.id, v);
    return this.location(spec.id, v);
  }

  private get(id: string): FakeVolume {
    const v = this.volumes.get(id);
    if (!v) throw new Error(`fake backend: no volume ${id}`);
    return v;
  }

  async stats(): Promise<PoolStats> {
    let used = 0;
    for (const v of this.volumes.values()) used += v.sizeGb;
    return {
      pool: "fake",
      totalCapacityGb: this.capacityGb,
      freeCapacityGb: Math.max(0, this.capacityGb - used),
      provisionedCapacityGb: used,
      thinProvisioning: true,
      protocols: ["iSCSI", "NBD"],
    };
  }

  async create(spec: VolumeSpec): Promise<VolumeLocation> {
    this.fail("create");
    return this.make(spec, Buffer.alloc(0));
  }

  async delete(volumeId: string): Promise<void> {
    this.fail("delete");
    this.volumes.delete(volumeId);
  }

  async extend(volumeId: string, newSizeGb: number): Promise<void> {
    this.fail("extend");
    const v = this.get(volumeId);
    v.sizeGb = Math.max(v.sizeGb, newSizeGb);
  }

  async locate(volumeId: string): Promise<VolumeLocation | null> {
    const v = this.volumes.get(volumeId);
    return v ? this.location(volumeId, v) : null;
  }

  async list(): Promise<string[]> {
    return [...this.volumes.keys()];
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    this.fail("createSnapshot");
    const v = this.get(volumeId);
    if (!v.snapshots.has(snapshotId))
      v.snapshots.set(snapshotId, { sizeGb: v.sizeGb, data: Buffer.from(v.data) });
  }

  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    this.fail("deleteSnapshot");
    this.volumes.get(volumeId)?.snapshots.delete(snapshotId);
  }

  private findSnapshot(snapshotId: string): { sizeGb: number; data: Buffer } {
    for (const v of this.volumes.values()) {
      const s = v.snapshots.get(snapshotId);
      if (s) return s;
    }
    throw new Error(`fake backend: no snapshot ${snapshotId}`);
  }

  async createFromSnapshot(spec: VolumeSpec, snapshotId: string): Promise<VolumeLocation> {
    this.fail("createFromSnapshot");
    const s = this.findSnapshot(snapshotId);
    if (spec.sizeGb < s.sizeGb) throw new Error("fake backend: a volume smaller than its snapshot");
    return this.make(spec, Buffer.from(s.data));
  }

  async clone(spec: VolumeSpec, sourceVolumeId: string): Promise<VolumeLocation> {
    this.fail("clone");
    const src = this.get(sourceVolumeId);
    if (spec.sizeGb < src.sizeGb) throw new Error("fake backend: a clone smaller than its source");
    return this.make(spec, Buffer.from(src.data));
  }

  async writeImage(volumeId: string, data: Readable, _format: "raw" | "qcow2"): Promise<void> {
    const v = this.get(volumeId);
    const chunks: Buffer[] = [];
    for await (const c of data) chunks.push(Buffer.from(c as Buffer));
    this.fail("writeImage");
    v.data = Buffer.concat(chunks);
  }

  async readRaw(volumeId: string): Promise<Readable> {
    return Readable.from([this.get(volumeId).data]);
  }

  /** Volumes forgotten by unmanage, by reference. */
  private readonly unmanaged = new Map<string, FakeVolume>();

  async manageable(): Promise<Array<{ ref: string; sizeGb: number }>> {
    return [...this.unmanaged].map(([ref, v]) => ({ ref, sizeGb: v.sizeGb }));
  }

  async manage(spec: VolumeSpec, ref: string): Promise<{ location: VolumeLocation; sizeGb: number }> {
    const v = this.unmanaged.get(ref);
    if (!v) throw new Error(`fake backend: nothing to manage under ${ref}`);
    this.unmanaged.delete(ref);
    this.volumes.set(spec.id, v);
    return { location: this.location(spec.id, v), sizeGb: v.sizeGb };
  }

  async unmanage(volumeId: string): Promise<string> {
    const v = this.get(volumeId);
    if (v.snapshots.size > 0) throw new Error(`fake backend: volume ${volumeId} has snapshots`);
    this.volumes.delete(volumeId);
    this.unmanaged.set(`volume-${volumeId}`, v);
    return `volume-${volumeId}`;
  }

  async revertToSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    this.fail("revertToSnapshot");
    const v = this.get(volumeId);
    const s = v.snapshots.get(snapshotId);
    if (!s) throw new Error(`fake backend: no snapshot ${snapshotId}`);
    v.data = Buffer.from(s.data);
  }
}

/** A transport that exports nothing for real: records, and connection info in the protocol's format. */
export class FakeTransport implements VolumeTransport {
  private readonly exports = new Map<string, ExportRecord>();
  /** How many times restore() ran, and with what (tests read it). */
  readonly restored: ExportRecord[][] = [];

  constructor(readonly protocol: "iscsi" | "nbd") {}

  async export(
    volumeId: string,
    location: VolumeLocation,
    opts: { readOnly: boolean },
  ): Promise<ExportRecord> {
    const had = this.exports.get(volumeId);
    if (had) return had;
    const state =
      this.protocol === "iscsi"
        ? { iqn: `iqn.2010-10.org.openstack:volume-${volumeId}`, user: "fake", password: "fake-secret" }
        : { socket: `/nonexistent/fake-nbd-${volumeId}.sock` };
    const rec: ExportRecord = { volumeId, location, readOnly: opts.readOnly, state };
    this.exports.set(volumeId, rec);
    return rec;
  }

  connectionInfo(rec: ExportRecord): ConnectionInfo {
    const access_mode = rec.readOnly ? "ro" : "rw";
    if (this.protocol === "iscsi")
      return {
        driver_volume_type: "iscsi",
        data: {
          target_iqn: String(rec.state.iqn),
          target_portal: "127.0.0.1:3260",
          target_lun: 1,
          target_discovered: false,
          auth_method: "CHAP",
          auth_username: String(rec.state.user),
          auth_password: String(rec.state.password),
          volume_id: rec.volumeId,
          access_mode,
          encrypted: false,
        },
      };
    return {
      driver_volume_type: "nbd",
      data: {
        socket_path: String(rec.state.socket),
        export_name: rec.volumeId,
        volume_id: rec.volumeId,
        access_mode,
        encrypted: false,
      },
    };
  }

  async unexport(volumeId: string): Promise<void> {
    this.exports.delete(volumeId);
  }

  async restore(records: ExportRecord[]): Promise<void> {
    this.restored.push(records);
    this.exports.clear();
    for (const r of records) this.exports.set(r.volumeId, r);
  }

  async exported(): Promise<string[]> {
    return [...this.exports.keys()];
  }
}

/** The fake backend with one fake transport per protocol (what `volume.backend = "fake"` runs). */
export function fakeDriver(capacityGb = 1000): {
  backend: FakeBackend;
  transports: Map<"iscsi" | "nbd", FakeTransport>;
} {
  return {
    backend: new FakeBackend(capacityGb),
    transports: new Map([
      ["iscsi", new FakeTransport("iscsi")],
      ["nbd", new FakeTransport("nbd")],
    ]),
  };
}
