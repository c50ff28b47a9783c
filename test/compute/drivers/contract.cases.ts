// The virt driver contract, as one suite parameterised by a driver target. Every registered driver runs it
// (fake.test.ts for the fake; the qemu driver's test will call runDriverContract too). Optional capabilities are
// exercised only when the driver has them, and reported as skipped otherwise.
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  InstanceExists,
  InstanceNotFound,
  InvalidInstanceState,
  InvalidPowerState,
  UnsupportedOperation,
  requireCapability,
} from "../../../src/compute/drivers/errors.js";
import {
  COLD_MIGRATION_METHODS,
  LIVE_MIGRATION_METHODS,
  PowerState,
  hasCapability,
  type ImageRef,
  type InstanceSpec,
  type OptionalDriverMethod,
  type SnapshotMeta,
  type VirtDriver,
} from "../../../src/compute/drivers/types.js";

const { RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;

/** One simulated or real host for the contract to use. */
export interface ContractHost {
  /** A new driver over this host's backing state; calling it again simulates an agent restart. Not yet init'd. */
  openDriver(): VirtDriver;
  /** Hostname to init() with. */
  hostname: string;
  /** Clean up whatever the host left behind (instances are destroyed by the suite first where it can). */
  dispose?(): Promise<void>;
}

export interface ContractTarget {
  /** A fresh, empty host; each test gets its own. */
  newHost(): ContractHost | Promise<ContractHost>;
  /** The image to boot. */
  image: ImageRef;
  /** How many instances the concurrency test spawns at once (default 50). */
  concurrentSpawns?: number;
}

async function withHost<T>(
  target: ContractTarget,
  fn: (driver: VirtDriver, host: ContractHost) => Promise<T>,
): Promise<T> {
  const host = await target.newHost();
  const driver = host.openDriver();
  await driver.init(host.hostname);
  try {
    return await fn(driver, host);
  } finally {
    for (const uuid of await driver.listInstances().catch(() => []))
      await driver.destroy(uuid).catch(() => {});
    await host.dispose?.();
  }
}

const stateOf = async (d: VirtDriver, uuid: string) => (await d.getInfo(uuid)).state;

export function runDriverContract(label: string, target: ContractTarget): void {
  const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
    uuid: randomUUID(),
    name: "contract-vm",
    vcpus: 1,
    memoryMb: 64,
    rootGb: 1,
    image: target.image,
    networkInfo: [{ id: randomUUID(), address: "fa:16:3e:00:00:01", fixedIps: ["10.0.0.5"] }],
    metadata: { purpose: "contract" },
    ...over,
  });

  /** Run `fn` with a driver narrowed to `methods`, or skip the test naming the missing ones. */
  async function withCapability<M extends OptionalDriverMethod>(
    t: TestContext,
    methods: readonly M[],
    fn: (driver: VirtDriver & Required<Pick<VirtDriver, M>>, host: ContractHost) => Promise<void>,
  ): Promise<void> {
    await withHost(target, async (driver, host) => {
      const missing = methods.filter((m) => !hasCapability(driver, m));
      if (missing.length > 0) {
        t.skip(`${label} has no ${missing.join(", ")}`);
        return;
      }
      await fn(driver as VirtDriver & Required<Pick<VirtDriver, M>>, host);
    });
  }

  describe(`virt driver contract: ${label}`, () => {
    it("spawn leaves the instance RUNNING and listed; a second spawn of the uuid is InstanceExists", async () => {
      await withHost(target, async (d) => {
        const s = spec();
        await d.spawn(s);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        assert.deepEqual(await d.listInstances(), [s.uuid]);
        await assert.rejects(d.spawn(s), InstanceExists);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
      });
    });

    it("power off and on; both are no-ops when already there", async () => {
      await withHost(target, async (d) => {
        const s = spec();
        await d.spawn(s);
        await d.powerOff(s.uuid, { timeoutS: 0 });
        assert.equal(await stateOf(d, s.uuid), SHUTDOWN);
        await d.powerOff(s.uuid);
        assert.equal(await stateOf(d, s.uuid), SHUTDOWN);
        await d.powerOn(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await d.powerOn(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
      });
    });

    it("reboot: SOFT and HARD end RUNNING; SOFT needs a running guest, HARD recovers a stopped one", async () => {
      await withHost(target, async (d) => {
        const s = spec();
        await d.spawn(s);
        await d.reboot(s.uuid, "SOFT");
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await d.reboot(s.uuid, "HARD");
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await d.powerOff(s.uuid);
        await assert.rejects(d.reboot(s.uuid, "SOFT"), InvalidPowerState);
        assert.equal(await stateOf(d, s.uuid), SHUTDOWN);
        await d.reboot(s.uuid, "HARD");
        assert.equal(await stateOf(d, s.uuid), RUNNING);
      });
    });

    it("destroy removes the instance and is idempotent", async () => {
      await withHost(target, async (d) => {
        const a = spec();
        const b = spec();
        await d.spawn(a);
        await d.spawn(b);
        await d.destroy(a.uuid);
        await d.destroy(a.uuid);
        await d.destroy(randomUUID());
        assert.deepEqual(await d.listInstances(), [b.uuid]);
        await assert.rejects(d.getInfo(a.uuid), InstanceNotFound);
        await d.powerOff(b.uuid);
        await d.destroy(b.uuid); // a stopped instance too
        assert.deepEqual(await d.listInstances(), []);
      });
    });

    it("unknown uuids: getInfo and every operation throw InstanceNotFound", async () => {
      await withHost(target, async (d) => {
        const u = randomUUID();
        await assert.rejects(d.getInfo(u), InstanceNotFound);
        await assert.rejects(d.powerOn(u), InstanceNotFound);
        await assert.rejects(d.powerOff(u), InstanceNotFound);
        await assert.rejects(d.reboot(u, "HARD"), InstanceNotFound);
        if (d.pause) await assert.rejects(d.pause(u), InstanceNotFound);
        if (d.getConsoleOutput) await assert.rejects(d.getConsoleOutput(u), InstanceNotFound);
      });
    });

    it("listInstances reflects spawns and destroys, sorted, whatever the power state", async () => {
      await withHost(target, async (d) => {
        assert.deepEqual(await d.listInstances(), []);
        const specs = [spec(), spec(), spec()];
        for (const s of specs) await d.spawn(s);
        await d.powerOff(specs[1].uuid);
        assert.deepEqual(await d.listInstances(), specs.map((s) => s.uuid).sort());
        await d.destroy(specs[0].uuid);
        assert.deepEqual(await d.listInstances(), [specs[1].uuid, specs[2].uuid].sort());
      });
    });

    it("concurrent spawns all end RUNNING", async () => {
      await withHost(target, async (d) => {
        const specs = Array.from({ length: target.concurrentSpawns ?? 50 }, (_, i) =>
          spec({ name: `vm-${i}` }),
        );
        await Promise.all(specs.map((s) => d.spawn(s)));
        assert.deepEqual(await d.listInstances(), specs.map((s) => s.uuid).sort());
        const states = await Promise.all(specs.map((s) => stateOf(d, s.uuid)));
        assert.ok(states.every((st) => st === RUNNING));
        await Promise.all(specs.map((s) => d.destroy(s.uuid)));
        assert.deepEqual(await d.listInstances(), []);
      });
    });

    it("reports the host's resources", async () => {
      await withHost(target, async (d, host) => {
        const r = await d.getAvailableResources();
        assert.equal(r.hypervisorHostname, host.hostname);
        for (const k of ["vcpus", "memoryMb", "diskGb", "hypervisorVersion"] as const) {
          assert.ok(Number.isInteger(r[k]) && r[k] > 0, `${k} = ${r[k]}`);
        }
        assert.ok(r.hypervisorType.length > 0);
        assert.ok(r.cpuInfo.arch.length > 0);
        assert.ok(r.cpuInfo.topology.sockets * r.cpuInfo.topology.cores * r.cpuInfo.topology.threads > 0);
        const s = spec({ vcpus: 2, memoryMb: 128, rootGb: 3 });
        await d.spawn(s);
        const after = await d.getAvailableResources();
        assert.ok(after.vcpusUsed >= r.vcpusUsed + 2);
        assert.ok(after.memoryMbUsed >= r.memoryMbUsed + 128);
      });
    });

    it("re-init after an agent restart adopts the instances without changing their state", async () => {
      await withHost(target, async (d, host) => {
        const running = spec();
        const stopped = spec();
        await d.spawn(running);
        await d.spawn(stopped);
        await d.powerOff(stopped.uuid);
        const restarted = host.openDriver();
        await restarted.init(host.hostname);
        assert.deepEqual(await restarted.listInstances(), [running.uuid, stopped.uuid].sort());
        assert.equal(await stateOf(restarted, running.uuid), RUNNING);
        assert.equal(await stateOf(restarted, stopped.uuid), SHUTDOWN);
        await restarted.powerOn(stopped.uuid);
        assert.equal(await stateOf(restarted, stopped.uuid), RUNNING);
        await restarted.destroy(running.uuid);
        await restarted.destroy(stopped.uuid);
      });
    });

    it("capabilities agree with the optional methods", async () => {
      await withHost(target, async (d) => {
        if (d.capabilities.supportsAttachInterface) {
          assert.ok(hasCapability(d, "attachInterface") && hasCapability(d, "detachInterface"));
        }
        for (const group of [COLD_MIGRATION_METHODS, LIVE_MIGRATION_METHODS]) {
          const present = group.filter((m) => hasCapability(d, m));
          assert.ok(present.length === 0 || present.length === group.length, `partial group: ${present}`);
        }
        for (const pair of [
          ["pause", "unpause"],
          ["suspend", "resume"],
          ["rescue", "unrescue"],
        ] as const) {
          assert.equal(hasCapability(d, pair[0]), hasCapability(d, pair[1]), pair.join("/"));
        }
        if (!hasCapability(d, "pause"))
          assert.throws(() => requireCapability(d, "pause"), UnsupportedOperation);
        assert.ok(d.capabilities.imageFormats.length > 0);
      });
    });

    // ---- optional capabilities ----

    it("pause/unpause", async (t) => {
      await withCapability(t, ["pause", "unpause"], async (d) => {
        const s = spec();
        await d.spawn(s);
        await d.pause(s.uuid);
        assert.equal(await stateOf(d, s.uuid), PAUSED);
        await assert.rejects(d.pause(s.uuid), InvalidPowerState);
        await d.unpause(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await assert.rejects(d.unpause(s.uuid), InvalidPowerState);
        await d.powerOff(s.uuid);
        await assert.rejects(d.pause(s.uuid), InvalidPowerState);
      });
    });

    it("suspend/resume", async (t) => {
      await withCapability(t, ["suspend", "resume"], async (d) => {
        const s = spec();
        await d.spawn(s);
        await d.suspend(s.uuid);
        assert.equal(await stateOf(d, s.uuid), SUSPENDED);
        await assert.rejects(d.powerOn(s.uuid), InvalidPowerState);
        await d.resume(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await assert.rejects(d.resume(s.uuid), InvalidPowerState);
      });
    });

    it("rescue/unrescue", async (t) => {
      await withCapability(t, ["rescue", "unrescue"], async (d) => {
        const s = spec();
        await d.spawn(s);
        await assert.rejects(d.unrescue(s.uuid), InvalidInstanceState);
        await d.rescue(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await assert.rejects(d.rescue(s.uuid), InvalidInstanceState);
        await assert.rejects(d.reboot(s.uuid, "SOFT"), InvalidInstanceState);
        await d.unrescue(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await d.reboot(s.uuid, "SOFT");
      });
    });

    it("getConsoleOutput returns the boot log", async (t) => {
      await withCapability(t, ["getConsoleOutput"], async (d) => {
        const s = spec();
        await d.spawn(s);
        const out = await d.getConsoleOutput(s.uuid);
        assert.equal(typeof out, "string");
        assert.ok(out.length > 0);
      });
    });

    it("snapshot writes the disk to the sink and keeps the power state", async (t) => {
      await withCapability(t, ["snapshot"], async (d) => {
        const s = spec();
        await d.spawn(s);
        let meta: SnapshotMeta | undefined;
        let bytes = 0;
        await d.snapshot(s.uuid, {
          async write(m, data) {
            meta = m;
            for await (const chunk of data) bytes += chunk.byteLength;
          },
        });
        assert.ok(meta !== undefined && bytes > 0);
        assert.ok(d.capabilities.imageFormats.includes(meta.diskFormat));
        assert.equal(await stateOf(d, s.uuid), RUNNING);
      });
    });

    it("triggerCrashDump sends a running instance an NMI; InvalidPowerState when it is not running", async (t) => {
      await withCapability(t, ["triggerCrashDump"], async (d) => {
        const s = spec();
        await d.spawn(s);
        await d.triggerCrashDump(s.uuid);
        // What the NMI does is the guest's call: the fake's kernel panics, a Linux guest logs it or panics, a
        // halted boot sector ignores it.
        const after = await stateOf(d, s.uuid);
        assert.ok(after === RUNNING || after === CRASHED, `state ${after} after the NMI`);
        if (after === CRASHED) await assert.rejects(d.triggerCrashDump(s.uuid), InvalidPowerState);
        await d.powerOff(s.uuid);
        await assert.rejects(d.triggerCrashDump(s.uuid), InvalidPowerState);
        assert.equal(await stateOf(d, s.uuid), SHUTDOWN);
        await d.powerOn(s.uuid);
        assert.equal(await stateOf(d, s.uuid), RUNNING);
        await d.triggerCrashDump(s.uuid);
      });
    });

    it("getVncConsole of a running instance; InvalidPowerState when shut down", async (t) => {
      await withCapability(t, ["getVncConsole"], async (d) => {
        const s = spec();
        await d.spawn(s);
        const vnc = await d.getVncConsole(s.uuid);
        assert.ok(vnc.host.length > 0 && Number.isInteger(vnc.port) && vnc.port > 0);
        await d.powerOff(s.uuid);
        await assert.rejects(d.getVncConsole(s.uuid), InvalidPowerState);
      });
    });

    it("attach/detach interface", async (t) => {
      await withCapability(t, ["attachInterface", "detachInterface"], async (d) => {
        const s = spec();
        await d.spawn(s);
        const vif = { id: randomUUID(), address: "fa:16:3e:00:00:02" };
        await d.attachInterface(s.uuid, vif);
        await assert.rejects(d.attachInterface(s.uuid, vif), InvalidInstanceState);
        await d.detachInterface(s.uuid, vif.id);
        await assert.rejects(d.detachInterface(s.uuid, vif.id), InvalidInstanceState);
      });
    });

    it("attach/detach volume: live and stopped, kept across power off/on, extend", async (t) => {
      await withCapability(t, ["attachVolume", "detachVolume", "extendVolume"], async (d) => {
        const dir = mkdtempSync(join(tmpdir(), "stq-cvol-"));
        try {
          const path = join(dir, "vol.raw");
          writeFileSync(path, Buffer.alloc(1024 * 1024));
          const source = { type: "file" as const, path, format: "raw" as const };
          const volumeId = randomUUID();
          const s = spec();
          await d.spawn(s);
          await d.attachVolume(s.uuid, volumeId, source);
          await assert.rejects(d.attachVolume(s.uuid, volumeId, source), InvalidInstanceState);
          await d.extendVolume(s.uuid, volumeId, 2 * 1024 * 1024);
          await d.powerOff(s.uuid);
          await d.powerOn(s.uuid);
          assert.equal((await d.getInfo(s.uuid)).state, PowerState.RUNNING);
          await d.powerOff(s.uuid);
          await d.detachVolume(s.uuid, volumeId);
          await assert.rejects(d.detachVolume(s.uuid, volumeId), InvalidInstanceState);
          await d.attachVolume(s.uuid, volumeId, source);
          await d.powerOn(s.uuid);
          assert.equal((await d.getInfo(s.uuid)).state, PowerState.RUNNING);
          await d.destroy(s.uuid);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    it("cold migration between two hosts: confirm, and revert", async (t) => {
      await withCapability(t, COLD_MIGRATION_METHODS, async (src) => {
        const destHost = await target.newHost();
        const dest = requireCapability(destHost.openDriver(), "finishMigration");
        await dest.init(destHost.hostname);
        try {
          const s = spec();
          await src.spawn(s);
          const disk = await src.migrateDiskAndPowerOff(s.uuid, destHost.hostname);
          assert.equal(await stateOf(src, s.uuid), SHUTDOWN);
          await dest.finishMigration({ ...s, vcpus: 2 }, disk, { powerOn: true });
          assert.equal(await stateOf(dest, s.uuid), RUNNING);
          await src.confirmMigration(s.uuid);
          assert.deepEqual(await src.listInstances(), []);

          const r = spec();
          await src.spawn(r);
          const rdisk = await src.migrateDiskAndPowerOff(r.uuid, destHost.hostname);
          await dest.finishMigration(r, rdisk, { powerOn: false });
          assert.equal(await stateOf(dest, r.uuid), SHUTDOWN);
          await dest.destroy(r.uuid);
          await src.finishRevertMigration(r.uuid, { powerOn: true });
          assert.equal(await stateOf(src, r.uuid), RUNNING);
          assert.deepEqual(await dest.listInstances(), [s.uuid]);
        } finally {
          for (const u of await dest.listInstances()) await dest.destroy(u);
          await destHost.dispose?.();
        }
      });
    });

    it("live migration between two hosts, and rollback", async (t) => {
      await withCapability(t, LIVE_MIGRATION_METHODS, async (src) => {
        const destHost = await target.newHost();
        const dest = requireCapability(
          requireCapability(destHost.openDriver(), "preLiveMigration"),
          "postLiveMigrationAtDestination",
        );
        await dest.init(destHost.hostname);
        try {
          // With every kind of local disk: root, ephemeral and swap all move with the guest.
          const s = spec({ ephemeralGb: 1, swapMb: 16 });
          await src.spawn(s);
          await dest.preLiveMigration(s, "src");
          await src.liveMigration(s.uuid, destHost.hostname);
          await dest.postLiveMigrationAtDestination(s.uuid);
          assert.deepEqual(await src.listInstances(), []);
          assert.equal(await stateOf(dest, s.uuid), RUNNING);

          const r = spec();
          await src.spawn(r);
          await dest.preLiveMigration(r, "src");
          await requireCapability(
            dest,
            "rollbackLiveMigrationAtDestination",
          ).rollbackLiveMigrationAtDestination(r.uuid);
          await requireCapability(
            dest,
            "rollbackLiveMigrationAtDestination",
          ).rollbackLiveMigrationAtDestination(r.uuid);
          assert.deepEqual(await dest.listInstances(), [s.uuid]);
          assert.equal(await stateOf(src, r.uuid), RUNNING);
        } finally {
          for (const u of await dest.listInstances()) await dest.destroy(u);
          await destHost.dispose?.();
        }
      });
    });
  });
}
