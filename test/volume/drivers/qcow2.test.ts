// The in-process qcow2 writer (src/volume/drivers/qcow2.ts): qemu-img checks and reads what it writes, at the
// sizes volumes have (one L2 table's span and less, odd sizes, several L1 clusters), and QEMU's own I/O through it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { emptyQcow2 } from "../../../src/volume/drivers/qcow2.js";
import { qemuImgAvailable } from "../../../src/shared/qemu-img.js";

const SKIP: string | false =
  qemuImgAvailable() || process.env.CI === "true"
    ? false
    : "qemu-img is not installed (apt-get install qemu-utils)";

const GiB = 1024 ** 3;
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "stv-qcow2-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8" });

describe("in-process qcow2 images", { skip: SKIP }, () => {
  for (const bytes of [512, 1 * GiB, 3 * GiB + 512, 100 * GiB, 5 * 1024 * GiB, 16 * 1024 * GiB]) {
    test(`an empty image of ${bytes} bytes is a clean qcow2 of that size`, async () => {
      const image = emptyQcow2(bytes);
      assert.ok(image, "within the writer's range");
      const path = join(dir, `v-${bytes}.qcow2`);
      await writeFile(path, image);
      const info = JSON.parse(qemuImg("info", "--output=json", "-f", "qcow2", path));
      assert.equal(info.format, "qcow2");
      assert.equal(info["virtual-size"], bytes);
      assert.equal(info["cluster-size"], 65536);
      assert.equal(info["format-specific"].data.compat, "1.1");
      assert.equal(info["format-specific"].data["refcount-bits"], 16);
      const check = JSON.parse(qemuImg("check", "--output=json", "-f", "qcow2", path));
      assert.equal(check["check-errors"], 0);
      assert.equal(check.corruptions ?? 0, 0);
      assert.equal(check.leaks ?? 0, 0);
      assert.equal(check["allocated-clusters"] ?? 0, 0, "nothing allocated: every cluster reads as zeros");
      await rm(path);
    });
  }

  test("QEMU writes and reads through it, and it stays clean (also after a resize)", async () => {
    const path = join(dir, "io.qcow2");
    await writeFile(path, emptyQcow2(GiB) as Buffer);
    const io = (cmd: string) =>
      execFileSync("qemu-io", ["-f", "qcow2", "-c", cmd, path], { encoding: "utf8" });
    io("write -P 0xab 0 1M");
    io(`write -P 0xcd ${GiB - 65536} 64k`);
    assert.doesNotThrow(() => io("read -P 0xab 0 1M"));
    assert.doesNotThrow(() => io(`read -P 0xcd ${GiB - 65536} 64k`));
    assert.doesNotThrow(() => io("read -P 0 1M 1M"), "unwritten clusters read as zeros");
    qemuImg("resize", "-q", "-f", "qcow2", path, String(2 * GiB));
    const check = JSON.parse(qemuImg("check", "--output=json", "-f", "qcow2", path));
    assert.equal(check["check-errors"], 0);
    assert.equal(check.corruptions ?? 0, 0);
    assert.equal(check.leaks ?? 0, 0);
    qemuImg("snapshot", "-c", "s1", path);
    assert.match(qemuImg("snapshot", "-l", path), /s1/);
  });

  test("sizes it does not write are left to qemu-img (null)", () => {
    assert.equal(emptyQcow2(0), null);
    assert.equal(emptyQcow2(1000), null, "not a multiple of 512");
    assert.equal(emptyQcow2(2 ** 60), null, "more L1 clusters than one refcount block counts");
  });
});
