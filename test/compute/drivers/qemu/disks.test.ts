// Instance disks: the root overlay on a cached base (sized to the flavor, refused when the image is bigger),
// growing, blank ephemeral disks, swap with a Linux swap signature.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  checkImageFitsFlavor,
  createBlankDisk,
  createRootDisk,
  createSwapDisk,
  diskInfo,
  growDisk,
} from "../../../../src/compute/drivers/qemu/disks.js";
import { ImageLargerThanFlavorDisk, InvalidQemuSpec } from "../../../../src/compute/drivers/qemu/errors.js";
import { SKIP_QEMU_IMG, scratchDir } from "./helpers.js";

const GiB = 1024 ** 3;

describe("instance disks", () => {
  let dir = "";
  let cleanup = async () => {};
  let base = "";
  before(async () => {
    ({ dir, cleanup } = await scratchDir("disks"));
    base = join(dir, "base.raw");
    await writeFile(base, Buffer.alloc(2 * 1024 * 1024, 1));
  });
  after(() => cleanup());

  test("an image bigger than the flavor's root disk is refused (FlavorDiskSmallerThanImage)", async () => {
    assert.throws(
      () => checkImageFitsFlavor({ id: "i", virtualSize: GiB + 1 }, 1),
      ImageLargerThanFlavorDisk,
    );
    checkImageFitsFlavor({ id: "i", virtualSize: GiB }, 1);
    checkImageFitsFlavor({ id: "i", virtualSize: 100 * GiB }, 0); // zero-disk flavors take the image's size
    const path = join(dir, "too-big.qcow2");
    await assert.rejects(
      createRootDisk({ id: "i", path: base, format: "raw", virtualSize: 2 * GiB }, path, 1),
      (e: unknown) =>
        e instanceof ImageLargerThanFlavorDisk && e.rootGb === 1 && e.virtualSizeBytes === 2 * GiB,
    );
    assert.equal(existsSync(path), false);
  });

  test(
    "the root disk is a qcow2 overlay on the base, sized to the flavor, and can grow",
    { skip: SKIP_QEMU_IMG },
    async () => {
      const img = { id: "i", path: base, format: "raw" as const, virtualSize: 2 * 1024 * 1024 };
      const root = await createRootDisk(img, join(dir, "root.qcow2"), 2);
      assert.deepEqual(root, { path: join(dir, "root.qcow2"), format: "qcow2", sizeBytes: 2 * GiB });
      const info = await diskInfo(root);
      assert.equal(info["virtual-size"], 2 * GiB);
      assert.equal(info["backing-filename"], base);
      assert.equal(info["backing-filename-format"], "raw");
      assert.ok((await stat(root.path)).size < 1024 * 1024, "the overlay is thin");

      const grown = await growDisk(root, 3 * GiB);
      assert.equal((await diskInfo(grown))["virtual-size"], 3 * GiB);
      await assert.rejects(growDisk(grown, GiB), InvalidQemuSpec);

      const zero = await createRootDisk(img, join(dir, "root0.qcow2"), 0);
      assert.equal((await diskInfo(zero))["virtual-size"], img.virtualSize);
    },
  );

  test("a blank ephemeral disk is a sparse qcow2 of the flavor's size", { skip: SKIP_QEMU_IMG }, async () => {
    const eph = await createBlankDisk(join(dir, "eph.qcow2"), 1);
    const info = await diskInfo(eph);
    assert.equal(info["virtual-size"], GiB);
    assert.equal(info["backing-filename"], undefined);
  });

  test("a swap disk is a sparse raw file with a Linux swap signature", async () => {
    const swap = await createSwapDisk(join(dir, "swap.raw"), 16);
    assert.equal(swap.format, "raw");
    const st = await stat(swap.path);
    assert.equal(st.size, 16 * 1024 * 1024);
    const head = (await readFile(swap.path)).subarray(0, 4096);
    assert.equal(head.subarray(4086).toString("latin1"), "SWAPSPACE2");
    assert.equal(head.readUInt32LE(1024), 1);
    assert.equal(head.readUInt32LE(1028), 16 * 256 - 1);
    await assert.rejects(createSwapDisk(swap.path, 16), /EEXIST/, "never overwrites");
    await assert.rejects(createSwapDisk(join(dir, "s2"), 0), InvalidQemuSpec);
  });
});
