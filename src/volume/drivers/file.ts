// The `file` backend: each volume is one file under a directory, `<id>.qcow2` (default: thin) or `<id>.raw`
// (sparse), chosen per volume by the type's extra spec `file:format`. The file name is the only metadata: the
// format is never probed, the size is the file's (raw) or its qcow2 header's.
//
// Snapshots. qcow2: internal snapshots named by the snapshot id, in the volume's own file. While the volume is
// exported by qemu-storage-daemon the daemon holds the image's write lock, so qemu-img cannot open it; the
// snapshot is then taken through the daemon's QMP (`blockdev-snapshot-internal-sync`, atomic with respect to the
// clients' writes: crash-consistent), through the BlockHolder the NBD transport implements. Internal snapshots
// need no chain bookkeeping (the volume's path never changes while a guest has it open, and deleting a snapshot
// frees only its clusters), and they are immutable once taken, so a copy out of one (`qemu-img convert -U -l
// snapshot.name=`) is consistent even while the daemon writes the active layer. Clones and reads of an in-use
// qcow2 volume go through a temporary internal snapshot for the same reason.
// raw: a sparse copy in `snapshots/<sid>.raw`; a raw volume in use (an iSCSI target writes it) cannot be copied
// consistently without a filesystem snapshot, so snapshot, clone and read of an in-use raw volume are refused.
// `snapshots/<sid>.json` names each snapshot's volume (the interface addresses snapshots by id alone).
//
// Other backends: an `lvm` one (real hosts with device-mapper) maps these operations to lvcreate (thin pool,
// snapshots as thin LVs, the transport's backing store the LV's /dev path, format raw); an RBD one needs no export
// at all (QEMU speaks rbd natively: a third ConnectionInfo type). Every operation here is idempotent and runs under
// a per-volume lock.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KeyedLock } from "../../shared/keyed-lock.js";
import { qemuImgInfoProblems, type QemuImgInfo } from "../../shared/qemu-img.js";
import { qemuImg, run } from "./exec.js";
import { emptyQcow2 } from "./qcow2.js";
import { sparseFileWriter } from "./sparse.js";
import type { BlockHolder, PoolStats, VolumeBackend, VolumeLocation, VolumeSpec } from "./types.js";

const GiB = 1024 ** 3;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const FORMATS = ["qcow2", "raw"] as const;
/** The ids Stratus gives volumes; other names in the directory are files an admin may manage. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How the file backend is set up. */
export interface FileBackendOptions {
  /** Directory of the volume files (created; the integrator passes DATA_DIR/volumes). */
  dir: string;
  /** Pool name reported to the scheduler (default "file"). */
  pool?: string;
  /** Daemons that may hold volumes open (the transports); asked before touching a file. */
  holders?: readonly BlockHolder[] | (() => readonly BlockHolder[]);
  /** Largest volume in GiB (default 16 384). */
  maxSizeGb?: number;
}

/** A volume or snapshot id that is not safe as a file name. */
export class InvalidVolumeRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidVolumeRequest";
  }
}

/** The volume is open in a transport's daemon and the operation needs it closed. */
export class VolumeBusy extends Error {
  constructor(volumeId: string, what: string) {
    super(`volume ${volumeId} is exported (in use): cannot ${what}`);
    this.name = "VolumeBusy";
  }
}

/** A volume or snapshot the backend does not have. */
export class VolumeNotFound extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = "VolumeNotFound";
  }
}

/** A qcow2 file as --image-opts (qemu-img snapshot has no -f; commas in a path are doubled). */
const qcow2Opts = (path: string) => `driver=qcow2,file.driver=file,file.filename=${path.replace(/,/g, ",,")}`;

const checkId = (id: string, what: string): string => {
  if (typeof id !== "string" || !ID.test(id)) throw new InvalidVolumeRequest(`invalid ${what} id`);
  return id;
};

/** The volume format a spec asks for (`file:format`, default qcow2). */
export function formatOf(spec: VolumeSpec): "qcow2" | "raw" {
  const f = spec.options?.get("file:format") ?? "qcow2";
  if (!(FORMATS as readonly string[]).includes(f))
    throw new InvalidVolumeRequest(`file:format must be qcow2 or raw`);
  return f as "qcow2" | "raw";
}

/** Virtual size of a volume file: a qcow2 header's size field, else the file's length. */
async function virtualSize(loc: VolumeLocation): Promise<number> {
  if (loc.format === "raw") return (await stat(loc.path)).size;
  const fh = await open(loc.path, "r");
  try {
    const b = Buffer.alloc(32);
    await fh.read(b, 0, 32, 0);
    return Number(b.readBigUInt64BE(24));
  } finally {
    await fh.close();
  }
}

/** Volumes as files (see the header). */
export class FileBackend implements VolumeBackend {
  readonly name = "file";
  private readonly lock = new KeyedLock();
  private readonly maxBytes: number;

  constructor(private readonly opts: FileBackendOptions) {
    this.maxBytes = (opts.maxSizeGb ?? 16_384) * GiB;
  }

  private get snapDir(): string {
    return join(this.opts.dir, "snapshots");
  }

  private get tmpDir(): string {
    return join(this.opts.dir, ".tmp");
  }

  private async dirs(): Promise<void> {
    await mkdir(this.snapDir, { recursive: true, mode: 0o700 });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  private tmp(tag: string): string {
    return join(this.tmpDir, `${tag}.${randomBytes(6).toString("hex")}`);
  }

  private bytesOf(sizeGb: number): number {
    const b = sizeGb * GiB;
    if (!Number.isSafeInteger(b) || sizeGb < 1 || b > this.maxBytes)
      throw new InvalidVolumeRequest(`size must be 1..${this.maxBytes / GiB} GiB`);
    return b;
  }

  /** The holder that has a volume open, if any. */
  private async holder(volumeId: string): Promise<BlockHolder | null> {
    const hs = typeof this.opts.holders === "function" ? this.opts.holders() : (this.opts.holders ?? []);
    for (const h of hs) if (await h.holds(volumeId)) return h;
    return null;
  }

  async stats(): Promise<PoolStats> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const fs = await statfs(this.opts.dir);
    let provisioned = 0;
    for (const id of await this.list()) {
      const loc = await this.locate(id);
      if (loc) provisioned += await virtualSize(loc).catch(() => 0);
    }
    const gb = (n: number) => Math.round((n / GiB) * 100) / 100;
    return {
      pool: this.opts.pool ?? "file",
      totalCapacityGb: gb(fs.blocks * fs.bsize),
      freeCapacityGb: gb(fs.bavail * fs.bsize),
      provisionedCapacityGb: gb(provisioned),
      thinProvisioning: true,
      protocols: ["iSCSI", "NBD"],
    };
  }

  async locate(volumeId: string): Promise<VolumeLocation | null> {
    checkId(volumeId, "volume");
    for (const format of FORMATS) {
      const path = join(this.opts.dir, `${volumeId}.${format}`);
      if (
        await stat(path).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return { path, format };
    }
    return null;
  }

  private async need(volumeId: string): Promise<VolumeLocation> {
    const loc = await this.locate(volumeId);
    if (!loc) throw new VolumeNotFound(`volume ${volumeId}`);
    return loc;
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.opts.dir).catch(() => [] as string[]);
    const ids = names.map((n) => /^(.+)\.(qcow2|raw)$/.exec(n)?.[1]).filter((x): x is string => !!x);
    return [...new Set(ids.filter((id) => ID.test(id)))].sort();
  }

  /** Files an admin may adopt (`manage`): those here whose name is not a volume id Stratus makes (a UUID). */
  async manageable(): Promise<Array<{ ref: string; sizeGb: number }>> {
    const out: Array<{ ref: string; sizeGb: number }> = [];
    for (const ref of await this.list()) {
      const loc = UUID.test(ref) ? null : await this.locate(ref);
      if (loc) out.push({ ref, sizeGb: Math.ceil((await virtualSize(loc)) / GiB) });
    }
    return out;
  }

  /** Adopt `<ref>.qcow2` or `<ref>.raw` as volume `spec.id` (renamed `<id>.<format>`); its size in GiB rounded up. */
  async manage(spec: VolumeSpec, ref: string): Promise<{ location: VolumeLocation; sizeGb: number }> {
    checkId(spec.id, "volume");
    checkId(ref, "volume reference");
    if (UUID.test(ref)) throw new InvalidVolumeRequest(`${ref} is a volume's own file, not one to manage`);
    return this.lock.run(ref, async () => {
      const from = await this.locate(ref);
      if (!from) throw new VolumeNotFound(`volume reference ${ref}`);
      const bytes = await virtualSize(from);
      const path = join(this.opts.dir, `${spec.id}.${from.format}`);
      await rename(from.path, path);
      return { location: { path, format: from.format }, sizeGb: Math.ceil(bytes / GiB) };
    });
  }

  /** Forget a volume, keeping its data: its file becomes `volume-<id>.<format>`, which `manage` adopts again. */
  async unmanage(volumeId: string): Promise<string> {
    checkId(volumeId, "volume");
    return this.lock.run(volumeId, async () => {
      if (await this.holder(volumeId)) throw new VolumeBusy(volumeId, "unmanage it");
      if ((await this.snapshotsOf(volumeId)).length > 0)
        throw new InvalidVolumeRequest(`volume ${volumeId} has snapshots`);
      const loc = await this.need(volumeId);
      const ref = `volume-${volumeId}`;
      await rename(loc.path, join(this.opts.dir, `${ref}.${loc.format}`));
      return ref;
    });
  }

  /** A new empty volume file at `path` (a temporary name, renamed by the caller); qcow2 written in-process. */
  private async blank(path: string, format: "qcow2" | "raw", bytes: number): Promise<void> {
    const image = format === "qcow2" ? emptyQcow2(bytes) : null;
    if (image) await writeFile(path, image, { flag: "wx", mode: 0o600 });
    else if (format === "qcow2") await qemuImg(["create", "-q", "-f", "qcow2", path, String(bytes)]);
    else {
      const fh = await open(path, "wx", 0o600);
      await fh.truncate(bytes).finally(() => fh.close());
    }
  }

  async create(spec: VolumeSpec): Promise<VolumeLocation> {
    const id = checkId(spec.id, "volume");
    const format = formatOf(spec);
    const bytes = this.bytesOf(spec.sizeGb);
    return this.lock.run(id, async () => {
      const have = await this.locate(id);
      if (have) return have;
      await this.dirs();
      const t = this.tmp(id);
      try {
        await this.blank(t, format, bytes);
        const path = join(this.opts.dir, `${id}.${format}`);
        await rename(t, path);
        return { path, format };
      } finally {
        await rm(t, { force: true });
      }
    });
  }

  async delete(volumeId: string): Promise<void> {
    checkId(volumeId, "volume");
    await this.lock.run(volumeId, async () => {
      if (await this.holder(volumeId)) throw new VolumeBusy(volumeId, "delete it");
      for (const s of await this.snapshotsOf(volumeId)) await this.dropSnapshotFiles(s);
      for (const f of FORMATS) await rm(join(this.opts.dir, `${volumeId}.${f}`), { force: true });
    });
  }

  async extend(volumeId: string, newSizeGb: number): Promise<void> {
    checkId(volumeId, "volume");
    const bytes = this.bytesOf(newSizeGb);
    await this.lock.run(volumeId, async () => {
      const loc = await this.need(volumeId);
      if ((await virtualSize(loc)) >= bytes) return;
      const h = await this.holder(volumeId);
      if (h) return h.resize(volumeId, bytes, loc);
      await qemuImg(["resize", "-q", "-f", loc.format, loc.path, String(bytes)]);
    });
  }

  // Snapshots ------------------------------------------------------------------------------------------------

  private snapMeta(sid: string): string {
    return join(this.snapDir, `${sid}.json`);
  }

  private async snapOwner(sid: string): Promise<{ volumeId: string; format: "qcow2" | "raw" } | null> {
    try {
      const m = JSON.parse(await readFile(this.snapMeta(sid), "utf8")) as {
        volumeId: string;
        format: string;
      };
      return { volumeId: checkId(m.volumeId, "volume"), format: m.format === "raw" ? "raw" : "qcow2" };
    } catch {
      return null;
    }
  }

  private async snapshotsOf(volumeId: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of await readdir(this.snapDir).catch(() => [] as string[])) {
      const sid = /^(.+)\.json$/.exec(n)?.[1];
      if (sid && ID.test(sid) && (await this.snapOwner(sid))?.volumeId === volumeId) out.push(sid);
    }
    return out;
  }

  private async dropSnapshotFiles(sid: string): Promise<void> {
    await rm(join(this.snapDir, `${sid}.raw`), { force: true });
    await rm(this.snapMeta(sid), { force: true });
  }

  /** Names of a qcow2's internal snapshots (-U: readable while a daemon holds it). */
  private async internalSnapshots(path: string): Promise<string[]> {
    const info = JSON.parse(
      await qemuImg(["info", "-U", "-f", "qcow2", "--output=json", path]),
    ) as QemuImgInfo;
    const snaps = (info.snapshots as Array<{ name: string }> | undefined) ?? [];
    return snaps.map((s) => s.name);
  }

  /** Take a qcow2 internal snapshot, through the daemon when it holds the image. */
  private async internalSnapshot(volumeId: string, loc: VolumeLocation, name: string): Promise<void> {
    if ((await this.internalSnapshots(loc.path)).includes(name)) return;
    const h = await this.holder(volumeId);
    if (h) {
      if (!h.snapshot) throw new VolumeBusy(volumeId, "snapshot it through its exporter");
      await h.snapshot(volumeId, name);
    } else await qemuImg(["snapshot", "-q", "--image-opts", "-c", name, qcow2Opts(loc.path)]);
  }

  private async dropInternal(volumeId: string, loc: VolumeLocation, name: string): Promise<void> {
    if (!(await this.internalSnapshots(loc.path)).includes(name)) return;
    const h = await this.holder(volumeId);
    if (h) {
      if (!h.deleteSnapshot) throw new VolumeBusy(volumeId, "delete a snapshot through its exporter");
      await h.deleteSnapshot(volumeId, name);
    } else await qemuImg(["snapshot", "-q", "--image-opts", "-d", name, qcow2Opts(loc.path)]);
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    checkId(volumeId, "volume");
    checkId(snapshotId, "snapshot");
    await this.lock.run(volumeId, async () => {
      const loc = await this.need(volumeId);
      const owner = await this.snapOwner(snapshotId);
      if (owner && owner.volumeId !== volumeId)
        throw new InvalidVolumeRequest(`snapshot ${snapshotId} belongs to another volume`);
      await this.dirs();
      // The marker first: a crash after it leaves a snapshot delete can clean up.
      await writeFile(this.snapMeta(snapshotId), JSON.stringify({ volumeId, format: loc.format }), {
        mode: 0o600,
      });
      if (loc.format === "qcow2") return this.internalSnapshot(volumeId, loc, snapshotId);
      const dst = join(this.snapDir, `${snapshotId}.raw`);
      if (
        await stat(dst).then(
          () => true,
          () => false,
        )
      )
        return;
      if (await this.holder(volumeId)) throw new VolumeBusy(volumeId, "snapshot a raw volume consistently");
      const t = this.tmp(snapshotId);
      try {
        await run("cp", ["--reflink=auto", "--sparse=always", loc.path, t], 3_600_000);
        await rename(t, dst);
      } finally {
        await rm(t, { force: true });
      }
    });
  }

  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    checkId(volumeId, "volume");
    checkId(snapshotId, "snapshot");
    await this.lock.run(volumeId, async () => {
      const owner = await this.snapOwner(snapshotId);
      if (owner && owner.volumeId !== volumeId) return;
      const loc = await this.locate(volumeId);
      if (loc?.format === "qcow2") await this.dropInternal(volumeId, loc, snapshotId);
      await this.dropSnapshotFiles(snapshotId);
    });
  }

  /** Write `src` (a file, or a qcow2's internal snapshot) as a new volume of `spec`, at least its size. */
  private async materialize(
    spec: VolumeSpec,
    src: { path: string; format: "qcow2" | "raw"; snapshot?: string },
  ): Promise<VolumeLocation> {
    const id = checkId(spec.id, "volume");
    const format = formatOf(spec);
    const bytes = this.bytesOf(spec.sizeGb);
    const have = await this.locate(id);
    if (have) return have;
    await this.dirs();
    const t = this.tmp(id);
    try {
      const args = ["convert", "-U", "-f", src.format];
      if (src.snapshot) args.push("-l", `snapshot.name=${src.snapshot}`);
      args.push("-O", format, src.path, t);
      await qemuImg(args);
      const size = format === "raw" ? (await stat(t)).size : await virtualSize({ path: t, format });
      if (size > bytes)
        throw new InvalidVolumeRequest(`the source (${size} bytes) is larger than ${spec.sizeGb} GiB`);
      if (size < bytes) await qemuImg(["resize", "-q", "-f", format, t, String(bytes)]);
      const path = join(this.opts.dir, `${id}.${format}`);
      await rename(t, path);
      return { path, format };
    } finally {
      await rm(t, { force: true });
    }
  }

  async createFromSnapshot(spec: VolumeSpec, snapshotId: string): Promise<VolumeLocation> {
    checkId(snapshotId, "snapshot");
    const owner = await this.snapOwner(snapshotId);
    if (!owner) throw new VolumeNotFound(`snapshot ${snapshotId}`);
    return this.lock.run(checkId(spec.id, "volume"), async () => {
      if (owner.format === "raw")
        return this.materialize(spec, { path: join(this.snapDir, `${snapshotId}.raw`), format: "raw" });
      const loc = await this.need(owner.volumeId);
      if (!(await this.internalSnapshots(loc.path)).includes(snapshotId))
        throw new VolumeNotFound(`snapshot ${snapshotId}`);
      return this.materialize(spec, { ...loc, snapshot: snapshotId });
    });
  }

  /** Run `fn` on a point-in-time view of a volume (a temporary internal snapshot when a daemon holds a qcow2). */
  private async pointInTime<T>(
    volumeId: string,
    what: string,
    fn: (src: { path: string; format: "qcow2" | "raw"; snapshot?: string }) => Promise<T>,
  ): Promise<T> {
    const loc = await this.need(volumeId);
    if (!(await this.holder(volumeId))) return fn(loc);
    if (loc.format === "raw") throw new VolumeBusy(volumeId, what);
    const name = `stratus-tmp-${randomBytes(6).toString("hex")}`;
    await this.internalSnapshot(volumeId, loc, name);
    try {
      return await fn({ ...loc, snapshot: name });
    } finally {
      await this.dropInternal(volumeId, loc, name);
    }
  }

  async clone(spec: VolumeSpec, sourceVolumeId: string): Promise<VolumeLocation> {
    checkId(sourceVolumeId, "volume");
    if (spec.id === sourceVolumeId) throw new InvalidVolumeRequest("a volume cannot be cloned onto itself");
    const have = await this.locate(checkId(spec.id, "volume"));
    if (have) return have;
    return this.lock.run(sourceVolumeId, () =>
      this.lock.run(spec.id, () =>
        this.pointInTime(sourceVolumeId, "clone a raw volume consistently", (src) =>
          this.materialize(spec, src),
        ),
      ),
    );
  }

  async writeImage(volumeId: string, data: Readable, format: "raw" | "qcow2"): Promise<void> {
    checkId(volumeId, "volume");
    if (format !== "raw" && format !== "qcow2")
      throw new InvalidVolumeRequest("image format must be raw or qcow2");
    await this.lock.run(volumeId, async () => {
      const loc = await this.need(volumeId);
      if (await this.holder(volumeId)) throw new VolumeBusy(volumeId, "write an image to it");
      const bytes = await virtualSize(loc);
      await this.dirs();
      const input = this.tmp(`${volumeId}.in`);
      const out = this.tmp(`${volumeId}.out`);
      try {
        // A qcow2 upload may be somewhat larger than its virtual size (metadata); anything beyond is refused.
        let seen = 0;
        const cap = bytes + bytes / 8 + 64 * 1024 * 1024;
        const bound = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            seen += chunk.length;
            cb(seen > cap ? new InvalidVolumeRequest("the image is larger than the volume") : null, chunk);
          },
        });
        await pipeline(data, bound, sparseFileWriter(input));
        const info = JSON.parse(await qemuImg(["info", "-f", format, "--output=json", input])) as QemuImgInfo;
        const problems = qemuImgInfoProblems(info, format);
        if (problems.length) throw new InvalidVolumeRequest(`unsafe image: ${problems.join("; ")}`);
        if (info["virtual-size"] > bytes)
          throw new InvalidVolumeRequest("the image is larger than the volume");
        await qemuImg(["convert", "-f", format, "-O", loc.format, input, out]);
        const size = loc.format === "raw" ? (await stat(out)).size : await virtualSize({ ...loc, path: out });
        if (size < bytes) await qemuImg(["resize", "-q", "-f", loc.format, out, String(bytes)]);
        // A raw volume's file is replaced; a qcow2 one is written over in place (-n), so its internal snapshots
        // stay (zeros beyond the image are written too: the converted copy has the volume's full size).
        if (loc.format === "raw") await rename(out, loc.path);
        else await qemuImg(["convert", "-n", "-f", "qcow2", "-O", "qcow2", out, loc.path]);
      } finally {
        await rm(input, { force: true });
        await rm(out, { force: true });
      }
    });
  }

  async readRaw(volumeId: string): Promise<Readable> {
    checkId(volumeId, "volume");
    return this.lock.run(volumeId, async () => {
      const loc = await this.need(volumeId);
      if (loc.format === "raw" && !(await this.holder(volumeId))) return createReadStream(loc.path);
      await this.dirs();
      const t = this.tmp(`${volumeId}.read`);
      await this.pointInTime(volumeId, "read a raw volume consistently", async (src) => {
        const args = ["convert", "-U", "-f", src.format];
        if (src.snapshot) args.push("-l", `snapshot.name=${src.snapshot}`);
        await qemuImg([...args, "-O", "raw", src.path, t]);
      });
      // The temporary copy goes once read (or abandoned): its name is unlinked at once, the stream keeps it open.
      const s = createReadStream(t);
      s.once("open", () => void rm(t, { force: true }));
      s.once("error", () => void rm(t, { force: true }));
      return s;
    });
  }

  async revertToSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    checkId(volumeId, "volume");
    checkId(snapshotId, "snapshot");
    await this.lock.run(volumeId, async () => {
      const loc = await this.need(volumeId);
      const owner = await this.snapOwner(snapshotId);
      if (!owner || owner.volumeId !== volumeId) throw new VolumeNotFound(`snapshot ${snapshotId}`);
      if (await this.holder(volumeId)) throw new VolumeBusy(volumeId, "revert it");
      if (loc.format === "qcow2") {
        if (!(await this.internalSnapshots(loc.path)).includes(snapshotId))
          throw new VolumeNotFound(`snapshot ${snapshotId}`);
        await qemuImg(["snapshot", "-q", "--image-opts", "-a", snapshotId, qcow2Opts(loc.path)]);
        return;
      }
      const t = this.tmp(volumeId);
      try {
        await run(
          "cp",
          ["--reflink=auto", "--sparse=always", join(this.snapDir, `${snapshotId}.raw`), t],
          3_600_000,
        );
        await rename(t, loc.path);
      } finally {
        await rm(t, { force: true });
      }
    });
  }
}
