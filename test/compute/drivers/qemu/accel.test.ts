// The accelerator probe: the payload really runs to its end under TCG, "auto" probes once and caches per host,
// the operator's choice wins.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { probeAccel, probeFirmware, resolveAccel } from "../../../../src/compute/drivers/qemu/accel.js";
import { SKIP_QEMU, scratchDir } from "./helpers.js";

describe("acceleration probe", () => {
  let dir = "";
  let cleanup = async () => {};
  before(async () => ({ dir, cleanup } = await scratchDir("accel")));
  after(() => cleanup());

  test("the probe firmware is a 64 KiB image with a far jump at the reset vector", () => {
    const rom = probeFirmware();
    assert.equal(rom.length, 65536);
    assert.deepEqual([...rom.subarray(0xfff0, 0xfff5)], [0xea, 0x00, 0x00, 0x00, 0xf0]);
    assert.equal(rom[0], 0xfa); // cli
  });

  test("the operator's choice is taken without probing", async () => {
    for (const accel of ["kvm", "tcg"] as const) {
      const d = await resolveAccel(accel, { dataDir: join(dir, "forced") });
      assert.deepEqual(d, {
        accel,
        source: "operator",
        reason: `forced to ${accel.toUpperCase()} by configuration`,
      });
    }
    await assert.rejects(resolveAccel("xen" as "kvm", { dataDir: dir }), TypeError);
  });

  test("the payload runs to its end under TCG", { skip: SKIP_QEMU }, async () => {
    const r = await probeAccel("tcg", { workDir: dir, timeoutMs: 20_000 });
    console.log(`# TCG probe: ${r.ms} ms`);
    assert.equal(r.ok, true, r.reason);
  });

  test(
    "auto probes KVM once (bounded), then answers from the per-host cache",
    { skip: SKIP_QEMU },
    async () => {
      const dataDir = join(dir, "auto");
      const first = await resolveAccel("auto", { dataDir, probeTimeoutMs: 2_000 });
      console.log(`# auto: ${first.accel} in ${first.probeMs} ms (${first.reason})`);
      assert.equal(first.source, "probe");
      assert.ok(first.accel === "kvm" || first.accel === "tcg");
      if (first.accel === "tcg") assert.match(first.reason, /^TCG: /);
      const second = await resolveAccel("auto", { dataDir, probeTimeoutMs: 2_000 });
      assert.deepEqual(second, { ...first, source: "cache" });

      // A cache from another kernel or QEMU build is not trusted.
      const cachePath = join(dataDir, "qemu-accel.json");
      const rec = JSON.parse(await readFile(cachePath, "utf8")) as { kernel: string; kvm: boolean };
      await writeFile(cachePath, JSON.stringify({ ...rec, kernel: "0.0.0-other", kvm: !rec.kvm }));
      const third = await resolveAccel("auto", { dataDir, probeTimeoutMs: 2_000 });
      assert.equal(third.source, "probe");
      assert.equal(third.accel, first.accel);
    },
  );
});
