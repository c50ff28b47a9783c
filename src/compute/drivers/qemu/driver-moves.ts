// Operations that copy or move a qemu instance's disks: snapshot (qemu-img convert of the overlay, streamed to the
// sink), rescue/unrescue (a rescue overlay booted first, the root disk second), cold migration and resize (the
// destination converts the source's overlay into its own; same host keeps the old disk for revert) and live
// migration between two agents on this machine (QEMU -incoming defer, migrate over loopback TCP).
import { createReadStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { runQemuImg, qemuImgInfo } from "../../../shared/qemu-img.js";
import { InstanceExists, InvalidInstanceState, OperationFailed } from "../errors.js";
import {
  PowerState,
  type InstanceSpec,
  type MigrationDiskInfo,
  type RescueOptions,
  type SnapshotSink,
} from "../types.js";
import { createRootDisk, growDisk } from "./disks.js";
import { freePorts, type QemuCore } from "./driver-core.js";
import { peerWith, type InstanceRecord, type RecordDisk } from "./driver-layout.js";
import { baseImage, kernelOf, writeConfigDrive } from "./driver-lifecycle.js";
import { waitMigration } from "./driver-power.js";

const { NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;
const GiB = 1024 ** 3;

/** Seconds a running guest gets to shut down cleanly before its disk is moved or swapped (ACPI, then quit). */
const cleanStopS = (core: QemuCore) => core.opts.softRebootTimeoutS ?? 60;

/** Copy the root disk (flattened qcow2) into `sink`; a running guest is paused for the copy, then continues. */
export async function snapshot(core: QemuCore, uuid: string, sink: SnapshotSink): Promise<void> {
  const rec = await core.record(uuid);
  const st = await core.powerState(rec);
  const p = core.layout.paths(uuid);
  const tmp = `${p.dir}/snapshot.qcow2`;
  const l = st === RUNNING ? await core.liveOf(uuid) : undefined;
  try {
    if (l) await l.proc.qmp.execute("stop");
    try {
      await runQemuImg(["convert", "-q", "-U", "-f", "qcow2", "-O", "qcow2", rec.root.path, tmp], {
        timeoutMs: 600_000,
        cpuSeconds: 600,
      });
    } finally {
      if (l) await l.proc.qmp.execute("cont").catch(() => {});
    }
    const info = await qemuImgInfo(tmp, "qcow2");
    await sink.write(
      { diskFormat: "qcow2", containerFormat: "bare", virtualSizeBytes: info["virtual-size"] },
      createReadStream(tmp, { highWaterMark: 1024 * 1024 }),
    );
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Boot the rescue image with the instance's root disk attached second. */
export async function rescue(core: QemuCore, uuid: string, opts: RescueOptions = {}): Promise<void> {
  const rec = await core.record(uuid);
  if (rec.rescue) throw new InvalidInstanceState(uuid, "rescue", "the instance is already rescued");
  await core.expect(rec, "rescue", [RUNNING, PAUSED, SHUTDOWN, CRASHED]);
  const p = core.layout.paths(uuid);
  const image = opts.image ?? { id: rec.imageId, ...(rec.imagePath ?? {}) };
  const { base, kernel } = await baseImage(core, image);
  await core.stop(uuid, cleanStopS(core));
  await rm(p.rescue, { force: true });
  const disk = await createRootDisk(base, p.rescue, 0);
  rec.rescue = { disk: { path: disk.path, format: "qcow2" }, ...(kernel ? { kernel } : {}) };
  await core.layout.save(rec);
  await core.boot(rec);
}

/** Leave rescue: boot the instance's own disk again. */
export async function unrescue(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  if (!rec.rescue) throw new InvalidInstanceState(uuid, "unrescue", "the instance is not rescued");
  await core.stop(uuid, cleanStopS(core));
  delete rec.rescue;
  await core.layout.save(rec);
  await rm(core.layout.paths(uuid).rescue, { force: true });
  await core.boot(rec);
}

// ---- cold migration / resize ----

/** Power off; the disk's absolute path travels as its name (both agents are on this machine). */
export async function migrateDiskAndPowerOff(
  core: QemuCore,
  uuid: string,
  destHost: string,
): Promise<MigrationDiskInfo> {
  const rec = await core.record(uuid);
  if (rec.rescue) throw new InvalidInstanceState(uuid, "migrate", "the instance is rescued");
  const st = await core.expect(rec, "migrate", [RUNNING, PAUSED, SHUTDOWN, CRASHED]);
  await core.stop(uuid, st === RUNNING ? cleanStopS(core) : 0);
  rec.migratingTo = destHost;
  await core.layout.save(rec);
  return {
    uuid,
    sourceHost: core.host ?? "",
    // A volume-backed server has no local root: its volumes are reconnected at the destination instead.
    disks: rec.volumeRoot ? [] : [{ name: rec.root.path, format: "qcow2", sizeGb: rec.rootGb }],
  };
}

/** Build the instance here from the source's disk (flattened copy), grown to the new flavor. */
export async function finishMigration(
  core: QemuCore,
  spec: InstanceSpec,
  disk: MigrationDiskInfo,
  powerOn: boolean,
): Promise<void> {
  const volumeRoot = (spec.volumes ?? []).some((v) => v.bootIndex === 0);
  const src = disk.disks[0]?.name;
  if (!volumeRoot && (!src || !src.startsWith("/")))
    throw new OperationFailed(spec.uuid, "finish migration", "no source disk");
  const existing = await core.layout.load(spec.uuid);
  const p = core.layout.paths(spec.uuid);
  if (existing && !existing.migratingTo) throw new InstanceExists(spec.uuid);
  if (existing) {
    // Same host: keep the old root disk and sizes for a revert, switch to the new flavor (and to the volumes'
    // connections as block storage gave them for this move). A volume root has no local disk to keep.
    const backup = `${p.root}.resize`;
    if (!existing.volumeRoot) {
      await rename(existing.root.path, backup);
      await runQemuImg(["convert", "-q", "-f", "qcow2", "-O", "qcow2", backup, p.root], {
        timeoutMs: 600_000,
      });
    }
    if (spec.volumes) existing.volumes = structuredClone(spec.volumes);
    existing.resizeBackup = {
      root: { path: backup, format: "qcow2" },
      vcpus: existing.vcpus,
      memoryMb: existing.memoryMb,
      rootGb: existing.rootGb,
    };
    delete existing.migratingTo;
    Object.assign(existing, { vcpus: spec.vcpus, memoryMb: spec.memoryMb, rootGb: spec.rootGb });
    await grow(existing);
    await core.layout.save(existing);
    if (powerOn) await core.boot(existing);
    return;
  }
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  try {
    if (!volumeRoot)
      await runQemuImg(["convert", "-q", "-U", "-f", "qcow2", "-O", "qcow2", src!, p.root], {
        timeoutMs: 600_000,
      });
    const [vncPort, websocketPort, sshPort] = await freePorts(3, 5900);
    const rec: InstanceRecord = {
      uuid: spec.uuid,
      name: spec.name,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      rootGb: spec.rootGb,
      projectId: spec.projectId ?? "",
      imageId: spec.image.id,
      root: { path: p.root, format: "qcow2" },
      ...(volumeRoot ? { volumeRoot: true } : {}),
      vifs: spec.networkInfo ?? [],
      ...(spec.volumes?.length ? { volumes: structuredClone(spec.volumes) } : {}),
      vncPort,
      websocketPort,
    };
    // A direct-kernel-boot image boots its kernel here too, from this host's cache (a volume root boots itself).
    const kernel = volumeRoot ? undefined : await kernelOf(core, spec.image);
    if (kernel) rec.kernel = kernel;
    if (await writeConfigDrive(core, spec.uuid, p.configDrive))
      rec.configDrive = { path: p.configDrive, format: "raw" };
    if (core.opts.hostForwardSsh) rec.sshPort = sshPort;
    await grow(rec);
    await core.layout.save(rec);
    if (powerOn) await core.boot(rec);
  } catch (err) {
    await rm(p.dir, { recursive: true, force: true });
    throw err;
  }
}

async function grow(rec: InstanceRecord): Promise<void> {
  if (rec.rootGb > 0 && !rec.volumeRoot) {
    const info = await qemuImgInfo(rec.root.path, "qcow2");
    if (rec.rootGb * GiB > info["virtual-size"]) {
      await growDisk({ ...rec.root, sizeBytes: info["virtual-size"] }, rec.rootGb * GiB);
    }
  }
}

/** Source, after confirm: remove what is left (another host), or the kept old disk (same host). */
export async function confirmMigration(
  core: QemuCore,
  uuid: string,
  remove: (uuid: string) => Promise<void>,
): Promise<void> {
  const rec = await core.layout.load(uuid);
  if (!rec) return;
  if (rec.resizeBackup) {
    await rm(rec.resizeBackup.root.path, { force: true });
    delete rec.resizeBackup;
    await core.layout.save(rec);
    return;
  }
  if (rec.migratingTo) await remove(uuid);
}

/** Source, after revert: restore the instance (the old disk and sizes on the same host). */
export async function finishRevertMigration(core: QemuCore, uuid: string, powerOn: boolean): Promise<void> {
  const rec = await core.record(uuid);
  await core.stop(uuid);
  if (rec.resizeBackup) {
    if (!rec.volumeRoot) {
      await rm(rec.root.path, { force: true });
      await rename(rec.resizeBackup.root.path, rec.root.path);
    }
    Object.assign(rec, {
      vcpus: rec.resizeBackup.vcpus,
      memoryMb: rec.resizeBackup.memoryMb,
      rootGb: rec.resizeBackup.rootGb,
    });
    delete rec.resizeBackup;
  }
  delete rec.migratingTo;
  await core.layout.save(rec);
  if (powerOn) await core.boot(rec);
}

// ---- live migration ----

/**
 * The return path on both ends: the source's migration completes only once the destination has loaded the guest
 * (a destination that fails says so, the source fails the migration and its guest runs on). Without it "completed"
 * means "all sent", and a destination that then fails to load would leave the guest running nowhere.
 */
const RETURN_PATH = { capabilities: [{ capability: "return-path", state: true }] };

/**
 * Where this host keeps what the source's guest boots from (base image, kernel, initrd), fetched into its own
 * cache; null when that cannot be had here (the image is gone from the image service, say), and the source's files
 * are used.
 */
async function ownBootFiles(
  core: QemuCore,
  src: InstanceRecord,
): Promise<{ base: RecordDisk; kernel?: InstanceRecord["kernel"] } | null> {
  if (src.imagePath) return null; // a local file both hosts name the same way
  try {
    const { base, kernel } = await baseImage(core, { id: src.imageId });
    if (!src.kernel !== !kernel) return null;
    return {
      base: { path: base.path, format: base.format },
      ...(kernel ? { kernel: { ...kernel, append: src.kernel!.append } } : {}),
    };
  } catch (err) {
    core.log?.warn(
      { uuid: src.uuid, err: (err as Error).message },
      "live migration: the guest's image is not available here; it keeps using the source host's cached copy",
    );
    return null;
  }
}

/**
 * Destination: a paused QEMU waiting on a loopback port, opening the source's disks (shared storage: both agents
 * are on this machine; QEMU keeps an incoming guest's images inactive until the migration completes). The image it
 * was built from is fetched into this host's cache first, so that once the source hands the disks over the guest
 * depends on nothing of the source host's.
 */
export async function preLiveMigration(
  core: QemuCore,
  spec: InstanceSpec,
  sourceHost: string,
): Promise<void> {
  if (await core.layout.load(spec.uuid)) throw new InstanceExists(spec.uuid);
  const peer = await peerWith(sourceHost, spec.uuid, core.layout.stateDir);
  const srcRec = peer ? await peer.load(spec.uuid) : null;
  if (!peer || !srcRec)
    throw new OperationFailed(spec.uuid, "prepare live migration", `not on ${sourceHost}`);
  const p = core.layout.paths(spec.uuid);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  try {
    const own = await ownBootFiles(core, srcRec);
    const [vncPort, websocketPort, incomingPort, sshPort] = await freePorts(4, 5900);
    const rec: InstanceRecord = {
      ...srcRec,
      name: spec.name,
      // A volume root names no file: this host's own (unused) path, so nothing points at the source's directory.
      root: { path: srcRec.volumeRoot ? p.root : srcRec.root.path, format: "qcow2" },
      vncPort,
      websocketPort,
      incoming: { port: incomingPort, ...(own ? { backingFile: own.base } : {}) },
    };
    if (own?.kernel) rec.kernel = own.kernel;
    delete rec.rebaseRoot;
    // The volumes are opened with this host's own connections (block storage gave them to this host's connector);
    // the source's are only a fallback for a caller that passed none. They are shared, never block-migrated.
    if (spec.volumes) rec.volumes = destVolumes(srcRec, spec.volumes);
    // Every disk device the source has, the destination has too (or the guest's state would not load).
    delete rec.configDrive;
    if (srcRec.sshPort) rec.sshPort = sshPort;
    if (await writeConfigDrive(core, spec.uuid, p.configDrive))
      rec.configDrive = { path: p.configDrive, format: "raw" };
    await core.layout.save(rec);
    const l = await core.boot(rec, { incoming: true });
    await l.proc.qmp.execute("migrate-set-capabilities", RETURN_PATH);
    await l.proc.qmp.execute("migrate-incoming", { uri: `tcp:127.0.0.1:${rec.incoming!.port}` });
  } catch (err) {
    await core.stop(spec.uuid);
    await core.closeMetadataListener(spec.uuid);
    await rm(p.dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The destination's volumes: the source's devices in the source's order (the guest's state names them), each with
 * this host's connection; a volume the source has and `spec` lacks cannot be opened here.
 */
function destVolumes(
  src: InstanceRecord,
  volumes: NonNullable<InstanceSpec["volumes"]>,
): NonNullable<InstanceRecord["volumes"]> {
  return (src.volumes ?? []).map((v) => {
    const mine = volumes.find((x) => x.volumeId === v.volumeId);
    if (!mine)
      throw new OperationFailed(src.uuid, "prepare live migration", `no connection for ${v.volumeId}`);
    return { ...v, source: mine.source };
  });
}

/** Source: stream the running guest to the destination's port; then hand it the root disk and forget the guest. */
export async function liveMigrate(
  core: QemuCore,
  uuid: string,
  destHost: string,
  remove: (uuid: string) => Promise<void>,
): Promise<void> {
  const rec = await core.record(uuid);
  const peer = await peerWith(destHost, uuid, core.layout.stateDir);
  const destRec = peer ? await peer.load(uuid) : null;
  if (!peer || !destRec?.incoming)
    throw new OperationFailed(uuid, "live migrate", `${destHost} is not prepared`);
  const l = await core.requireLive(rec, "live migrate", [RUNNING, PAUSED]);
  await l.proc.qmp.execute("migrate-set-capabilities", RETURN_PATH);
  await l.proc.qmp.execute("migrate", { uri: `tcp:127.0.0.1:${destRec.incoming.port}` });
  await waitMigration(l, uuid);
  await core.stop(uuid);
  // Hand the disks over: they move into the destination's directory (the destination's QEMU keeps them open).
  const to = peer.paths(uuid);
  for (const [kind, path] of [
    ...(rec.volumeRoot ? [] : ([["root", to.root]] as const)),
    ["ephemeral", to.ephemeral],
    ["swap", to.swap],
  ] as const) {
    const disk = rec[kind];
    if (!disk) continue;
    await rename(disk.path, path);
    destRec[kind] = { path, format: disk.format };
  }
  await peer.save(destRec);
  await remove(uuid);
}

/** Destination after success: the guest runs here. */
export async function postLiveMigrationAtDestination(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  const l = await core.liveOf(uuid);
  if (!l) throw new OperationFailed(uuid, "finish live migration", "no incoming QEMU");
  if (!rec.volumeRoot && !rec.root.path.startsWith(core.layout.paths(uuid).dir))
    throw new OperationFailed(uuid, "finish live migration", "the source has not handed over the disk");
  for (let i = 0; i < 600; i++) {
    const s = await l.proc.runState();
    if (s !== "inmigrate") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if ((await l.proc.runState()) !== "running") await l.proc.qmp.execute("cont");
  // The root disk names the source host's base image until its next boot here, which names this host's copy.
  if (rec.incoming?.backingFile) rec.rebaseRoot = rec.incoming.backingFile;
  delete rec.incoming;
  await core.layout.save(rec);
}

export { NOSTATE, SUSPENDED };
