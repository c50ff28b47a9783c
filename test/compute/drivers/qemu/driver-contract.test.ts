// The virt driver contract run against the qemu driver, with a 512-byte boot sector as the "guest" (it prints a
// line on COM1 and halts): every QEMU is real, started from SeaBIOS, but no operating system has to boot, so each
// case costs a fraction of a second under TCG. The full guest image is exercised by the e2e test.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { after, describe, it } from "node:test";
import { runDriverContract } from "../contract.cases.js";
import { QemuDriver } from "../../../../src/compute/drivers/qemu/driver.js";
import { DriverLayout } from "../../../../src/compute/drivers/qemu/driver-layout.js";
import { killPid } from "../../../../src/compute/drivers/qemu/process.js";
import { PowerState } from "../../../../src/compute/drivers/types.js";
import { bootSector, SKIP_QEMU, scratchDir } from "./helpers.js";

const dirs: Array<{ dir: string; cleanup: () => Promise<void> }> = [];
let imagePath = "";

/** Live QEMU pids whose command line names one of this file's run directories. */
function ourQemus(): number[] {
  const tags = dirs.map((d) => new DriverLayout(d.dir).runDir);
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (cmd.includes("qemu-system") && state !== "Z" && tags.some((t) => cmd.includes(t))) pids.push(+name);
    } catch {
      // raced with exit
    }
  }
  return pids;
}

describe("qemu driver", { skip: SKIP_QEMU }, () => {
  after(async () => {
    const left = ourQemus();
    for (const pid of left) await killPid(pid, 10_000);
    for (const d of dirs) await d.cleanup();
    assert.deepEqual(left, [], "QEMU processes left behind");
  });

  it("makes the boot-sector image", async () => {
    const d = await scratchDir("img");
    dirs.push(d);
    imagePath = `${d.dir}/boot.raw`;
    const disk = Buffer.alloc(1024 * 1024);
    bootSector().copy(disk);
    await writeFile(imagePath, disk);
  });

  runDriverContract("qemu", {
    image: {
      id: "b0075ec7-0000-4000-8000-000000000001",
      get path() {
        return imagePath;
      },
      format: "raw",
    },
    concurrentSpawns: 3,
    async newHost() {
      const d = await scratchDir("drv");
      dirs.push(d);
      const hostname = `qemu-contract-${dirs.length}`;
      return {
        hostname,
        openDriver: () =>
          new QemuDriver({ stateDir: d.dir, accel: "tcg", softRebootTimeoutS: 1, hotplugTimeoutS: 1 }),
      };
    },
  });

  it("console output shows what the guest printed", async () => {
    const d = await scratchDir("con");
    dirs.push(d);
    const drv = new QemuDriver({ stateDir: d.dir, accel: "tcg" });
    await drv.init("qemu-console");
    const uuid = "c0a50000-0000-4000-8000-000000000001";
    await drv.spawn({
      uuid,
      name: "con",
      vcpus: 1,
      memoryMb: 64,
      rootGb: 1,
      image: { id: "boot", path: imagePath, format: "raw" },
      metadata: {},
    });
    try {
      let out = "";
      for (let i = 0; i < 200 && !out.includes("stratus boot sector"); i++) {
        out = await drv.getConsoleOutput(uuid);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(out, /stratus boot sector/);
      // A QEMU killed behind the driver's back is SHUTDOWN, and powers on again.
      const pid = await drv.pidOf(uuid);
      assert.ok(pid);
      await killPid(pid, 10_000);
      assert.equal((await drv.getInfo(uuid)).state, PowerState.SHUTDOWN);
      await drv.powerOn(uuid);
      assert.equal((await drv.getInfo(uuid)).state, PowerState.RUNNING);
    } finally {
      await drv.destroy(uuid);
    }
  });
});
