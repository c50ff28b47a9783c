// runQemuImg under its address-space limit: a convert with many requests in flight must not abort. glibc's malloc
// arenas (64 MiB of address space each, up to 8 per core) made qemu-img's I/O threads exceed 1 GiB and SIGABRT;
// seen as a snapshot's convert failing under load.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { qemuImgInfo, runQemuImg } from "../../src/shared/qemu-img.js";

const have = (() => {
  try {
    execFileSync("qemu-io", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const SKIP = have || process.env.CI ? false : "qemu-utils is not installed";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "stratus-qemu-img-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(
  "convert of an overlay with 16 requests in flight, five times, under the 1 GiB limit",
  { skip: SKIP },
  async () => {
    const base = join(dir, "base.qcow2");
    const overlay = join(dir, "overlay.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 512M", base], { stdio: "ignore" });
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay]);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x11 100M 200M", overlay], { stdio: "ignore" });
    for (let i = 0; i < 5; i++) {
      const out = join(dir, `out${i}.qcow2`);
      await runQemuImg(
        ["convert", "-q", "-U", "-f", "qcow2", "-O", "qcow2", "-m", "16", "-W", overlay, out],
        {
          timeoutMs: 300_000,
          cpuSeconds: 300,
        },
      );
      assert.equal((await qemuImgInfo(out, "qcow2"))["virtual-size"], 1024 ** 3);
      await rm(out);
    }
  },
);
