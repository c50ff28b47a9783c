// An instance's local disks: the root disk as a qcow2 overlay on a cached base image, grown to the flavor's root
// size; blank ephemeral disks; swap disks. qemu-img always runs with an explicit -f (and -F for the backing file)
// and under CPU and address-space limits (src/shared/qemu-img.ts, OSSA-2016-012); every path is made absolute.
import { randomBytes } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { qemuImgInfo, runQemuImg, type QemuImgInfo, type QemuImgOptions } from "../../../shared/qemu-img.js";
import { ImageLargerThanFlavorDisk, InvalidQemuSpec } from "./errors.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A base image the root disk is layered on (from the image cache). */
export interface BaseImage {
  id: string;
  path: string;
  format: "qcow2" | "raw";
  virtualSize: number;
}

/** One disk file made by this module. */
export interface LocalDisk {
  path: string;
  format: "qcow2" | "raw";
  sizeBytes: number;
}

function absolute(path: string): string {
  if (typeof path !== "string" || path === "" || /[\0\n]/.test(path))
    throw new InvalidQemuSpec("bad disk path");
  return resolve(path);
}

function sizeCheck(what: string, n: number, min = 0): number {
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidQemuSpec(`${what} must be an integer >= ${min}`);
  return n;
}

/**
 * Refuse an image larger than the flavor's root disk (Nova's FlavorDiskSmallerThanImage). rootGb 0 means "the
 * image's own size" (Nova's zero-disk flavors), which always fits.
 */
export function checkImageFitsFlavor(image: Pick<BaseImage, "id" | "virtualSize">, rootGb: number): void {
  sizeCheck("rootGb", rootGb);
  if (rootGb > 0 && image.virtualSize > rootGb * GiB) {
    throw new ImageLargerThanFlavorDisk(image.id, image.virtualSize, rootGb);
  }
}

/**
 * The root disk: a qcow2 overlay at `path` backed by `base`, sized to the flavor's root disk (or the image's own
 * size when rootGb is 0). Throws ImageLargerThanFlavorDisk before creating anything when the image does not fit.
 */
export async function createRootDisk(
  base: BaseImage,
  path: string,
  rootGb: number,
  opts: QemuImgOptions = {},
): Promise<LocalDisk> {
  checkImageFitsFlavor(base, rootGb);
  const size = rootGb > 0 ? rootGb * GiB : base.virtualSize;
  const file = absolute(path);
  await runQemuImg(
    ["create", "-q", "-f", "qcow2", "-F", base.format, "-b", absolute(base.path), file, String(size)],
    opts,
  );
  return { path: file, format: "qcow2", sizeBytes: size };
}

/** Grow a disk to `sizeBytes` (resize up); shrinking is refused, as Nova refuses it. */
export async function growDisk(
  disk: LocalDisk,
  sizeBytes: number,
  opts: QemuImgOptions = {},
): Promise<LocalDisk> {
  sizeCheck("sizeBytes", sizeBytes, 1);
  const info = await diskInfo(disk, opts);
  if (sizeBytes < info["virtual-size"]) {
    throw new InvalidQemuSpec(
      `cannot shrink ${disk.path} from ${info["virtual-size"]} to ${sizeBytes} bytes`,
    );
  }
  if (sizeBytes > info["virtual-size"]) {
    await runQemuImg(["resize", "-q", "-f", disk.format, absolute(disk.path), String(sizeBytes)], opts);
  }
  return { ...disk, sizeBytes };
}

/** A blank qcow2 disk of `sizeGb` (flavor ephemeral disks; the guest's cloud-init formats them). */
export async function createBlankDisk(
  path: string,
  sizeGb: number,
  opts: QemuImgOptions = {},
): Promise<LocalDisk> {
  sizeCheck("sizeGb", sizeGb, 1);
  const file = absolute(path);
  await runQemuImg(["create", "-q", "-f", "qcow2", file, String(sizeGb * GiB)], opts);
  return { path: file, format: "qcow2", sizeBytes: sizeGb * GiB };
}

/**
 * A raw, sparse swap disk of `sizeMb` (flavor swap is in MiB) with a Linux swap signature written directly (as
 * mkswap would), so the guest can `swapon` it with no formatting step.
 */
export async function createSwapDisk(path: string, sizeMb: number): Promise<LocalDisk> {
  sizeCheck("sizeMb", sizeMb, 1);
  const file = absolute(path);
  const size = sizeMb * MiB;
  const fh = await open(file, "wx");
  try {
    await fh.truncate(size);
    await fh.write(swapHeader(size), 0, 4096, 0);
  } catch (err) {
    await fh.close();
    await rm(file, { force: true });
    throw err;
  }
  await fh.close();
  return { path: file, format: "raw", sizeBytes: size };
}

/** The first 4 KiB page of a Linux swap area (version 1, no bad pages, a random UUID, label "swap"). */
export function swapHeader(sizeBytes: number): Buffer {
  const page = Buffer.alloc(4096);
  page.writeUInt32LE(1, 1024); // version
  page.writeUInt32LE(Math.floor(sizeBytes / 4096) - 1, 1028); // last_page
  page.writeUInt32LE(0, 1032); // nr_badpages
  const uuid = randomBytes(16);
  uuid[6] = (uuid[6] & 0x0f) | 0x40;
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
  uuid.copy(page, 1036);
  page.write("swap", 1052, "latin1"); // volume_name[16]
  page.write("SWAPSPACE2", 4096 - 10, "latin1");
  return page;
}

/** `qemu-img info` of one of our disks (its format forced; the backing file of an overlay is expected). */
export async function diskInfo(
  disk: Pick<LocalDisk, "path" | "format">,
  opts: QemuImgOptions = {},
): Promise<QemuImgInfo> {
  return qemuImgInfo(disk.path, disk.format, opts);
}
