// Birth and death of a qemu instance: spawn (image from the cache, overlay root grown to the flavor, ephemeral and
// swap disks, config drive, ports, then boot) with full rollback on failure, and destroy with nothing left behind.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { buildConfigDrive } from "../../metadata/config-drive.js";
import { InstanceExists, SpawnFailed } from "../errors.js";
import type { InstanceSpec } from "../types.js";
import { createBlankDisk, createRootDisk, createSwapDisk, type BaseImage } from "./disks.js";
import { freePorts, type QemuCore } from "./driver-core.js";
import type { InstanceRecord } from "./driver-layout.js";
import type { CachedImage } from "./image-cache.js";
import { ImageUnusable } from "./errors.js";
import type { QemuKernelBoot } from "./cmdline.js";

/** The kernel command line of a direct-boot image without os_command_line (the Stratus guest image's own). */
export const DEFAULT_KERNEL_CMDLINE = "root=LABEL=cirros-rootfs ro console=tty1 console=ttyS0";

/** A base image for `imageId`: given by path (tests, pre-cached), or fetched from the image service once. */
export async function baseImage(
  core: QemuCore,
  image: InstanceSpec["image"],
): Promise<{ base: BaseImage; kernel?: QemuKernelBoot }> {
  if (image.path) {
    const fmt = image.format === "raw" ? "raw" : "qcow2";
    const { qemuImgInfo } = await import("../../../shared/qemu-img.js");
    const info = await qemuImgInfo(image.path, fmt);
    return { base: { id: image.id, path: image.path, format: fmt, virtualSize: info["virtual-size"] } };
  }
  const cached = await cachedImage(core, image.id);
  return { base: cached, kernel: await kernelOf(core, image) };
}

/** The direct kernel boot an image asks for (kernel_id, ramdisk_id, os_command_line), from this host's cache. */
export async function kernelOf(
  core: QemuCore,
  image: InstanceSpec["image"],
): Promise<QemuKernelBoot | undefined> {
  if (image.path) return undefined;
  if (!core.opts.images) throw new ImageUnusable(image.id, "no image service is configured");
  const props = (await core.opts.images.describe(image.id)).properties;
  if (typeof props.kernel_id !== "string" || props.kernel_id === "") return undefined;
  const k = await cachedImage(core, props.kernel_id);
  const r =
    typeof props.ramdisk_id === "string" && props.ramdisk_id !== ""
      ? await cachedImage(core, props.ramdisk_id)
      : undefined;
  const append = typeof props.os_command_line === "string" ? props.os_command_line : DEFAULT_KERNEL_CMDLINE;
  return { kernel: k.path, ...(r ? { initrd: r.path } : {}), append };
}

async function cachedImage(core: QemuCore, id: string): Promise<CachedImage> {
  const hit = await core.cache.lookup(id);
  if (hit) return hit;
  if (!core.opts.images) throw new ImageUnusable(id, "it is not cached and no image service is configured");
  const rec = await core.opts.images.describe(id);
  if (rec.status !== undefined && rec.status !== "active")
    throw new ImageUnusable(id, `its status is ${rec.status}, not active`);
  return core.cache.get({
    id,
    diskFormat: rec.diskFormat,
    osHashAlgo: rec.osHashAlgo,
    osHashValue: rec.osHashValue,
    sizeBytes: rec.sizeBytes,
  });
}

/** Write the config drive of `uuid` when its metadata asks for one; returns whether it did. */
export async function writeConfigDrive(core: QemuCore, uuid: string, path: string): Promise<boolean> {
  const d = await core.opts.metadata?.describe(uuid);
  if (!d?.configDrive) return false;
  await writeFile(path, buildConfigDrive(d.source, d.options), { mode: 0o600 });
  return true;
}

/** Create and boot an instance; on any failure remove everything it made and throw SpawnFailed. */
export async function spawnInstance(
  core: QemuCore,
  spec: InstanceSpec,
  building: Set<string>,
): Promise<void> {
  const p = core.layout.paths(spec.uuid);
  if (building.has(spec.uuid) || (await core.layout.load(spec.uuid))) throw new InstanceExists(spec.uuid);
  building.add(spec.uuid);
  try {
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    // Boot from volume: the volume is the root disk (SeaBIOS boots it); no image is fetched, no local root made.
    const bootVolume = (spec.volumes ?? []).some((v) => v.bootIndex === 0);
    const { base, kernel } = bootVolume
      ? { base: undefined, kernel: undefined }
      : await baseImage(core, spec.image);
    const root = base ? await createRootDisk(base, p.root, spec.rootGb) : { path: p.root };
    const [vncPort, websocketPort, sshPort] = await freePorts(3, 5900);
    const rec: InstanceRecord = {
      uuid: spec.uuid,
      name: spec.name,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      rootGb: spec.rootGb,
      projectId: spec.projectId ?? "",
      imageId: spec.image.id,
      ...(spec.image.path
        ? { imagePath: { path: spec.image.path, format: spec.image.format === "raw" ? "raw" : "qcow2" } }
        : {}),
      root: { path: root.path, format: "qcow2" },
      ...(bootVolume ? { volumeRoot: true } : {}),
      ...(kernel ? { kernel } : {}),
      vifs: spec.networkInfo ?? [],
      ...(spec.volumes?.length ? { volumes: structuredClone(spec.volumes) } : {}),
      vncPort,
      websocketPort,
    };
    if ((spec.ephemeralGb ?? 0) > 0) {
      rec.ephemeral = { path: (await createBlankDisk(p.ephemeral, spec.ephemeralGb!)).path, format: "qcow2" };
    }
    if ((spec.swapMb ?? 0) > 0)
      rec.swap = { path: (await createSwapDisk(p.swap, spec.swapMb!)).path, format: "raw" };
    if (await writeConfigDrive(core, spec.uuid, p.configDrive))
      rec.configDrive = { path: p.configDrive, format: "raw" };
    if (core.opts.hostForwardSsh) rec.sshPort = sshPort;
    await core.layout.save(rec);
    await core.boot(rec);
  } catch (err) {
    await removeInstance(core, spec.uuid);
    throw new SpawnFailed(spec.uuid, (err as Error).message);
  } finally {
    building.delete(spec.uuid);
  }
}

/** Stop the QEMU and remove every file, socket and listener of an instance. Idempotent. */
export async function removeInstance(core: QemuCore, uuid: string): Promise<void> {
  const p = core.layout.paths(uuid);
  await core.stop(uuid);
  // A QEMU we never adopted (its record was lost) is still ours if its pidfile says so.
  const { adoptQemu } = await import("./process.js");
  const orphan = await adoptQemu({ uuid, pidfile: p.pidfile, qmpSocket: p.qmpSocket }).catch(() => null);
  if (orphan) await orphan.kill();
  await core.closeMetadataListener(uuid);
  await rm(p.sockDir, { recursive: true, force: true });
  await rm(p.dir, { recursive: true, force: true });
}
