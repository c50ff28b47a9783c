import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import {
  DriverNotInitialized,
  InstanceNotFound,
  InsufficientResources,
  InvalidInstanceSpec,
  InvalidInstanceState,
  InvalidPowerState,
  OperationFailed,
  SpawnFailed,
  UnknownDriver,
  VirtDriverError,
} from "../../../src/compute/drivers/errors.js";
import {
  FakeDriver,
  createFakeStateStore,
  type FakeDriverOptions,
} from "../../../src/compute/drivers/fake.js";
import {
  DRIVER_NAMES,
  createDriver,
  isDriverName,
  parseDriverName,
  type DriverName,
} from "../../../src/compute/drivers/registry.js";
import { PowerState, powerStateName, type InstanceSpec } from "../../../src/compute/drivers/types.js";
import { runDriverContract, type ContractTarget } from "./contract.cases.js";

const image = { id: "c0ffee00-0000-4000-8000-000000000001", format: "qcow2" as const };

let hostSeq = 0;
/** Contract targets for the drivers that need no hypervisor; qemu runs the contract in qemu/driver-contract.test.ts. */
const targets = {
  fake: {
    image,
    newHost() {
      const state = createFakeStateStore();
      return { hostname: `fake-host-${++hostSeq}`, openDriver: () => createDriver("fake", { state }) };
    },
  },
} satisfies Record<Exclude<DriverName, "qemu">, ContractTarget>;

for (const name of DRIVER_NAMES) if (name !== "qemu") runDriverContract(name, targets[name]);
// The same contract with simulated latency, so the ordering of awaits inside the driver is exercised too.
runDriverContract("fake (with delays)", {
  image,
  newHost() {
    const state = createFakeStateStore();
    const opts: FakeDriverOptions = { state, spawnDelayMs: 2, opDelayMs: 1 };
    return { hostname: `slow-host-${++hostSeq}`, openDriver: () => new FakeDriver(opts) };
  },
});

const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  uuid: randomUUID(),
  name: "vm",
  vcpus: 1,
  memoryMb: 512,
  rootGb: 10,
  image,
  metadata: {},
  ...over,
});

async function host(opts: FakeDriverOptions = {}, name = "h1"): Promise<FakeDriver> {
  const d = new FakeDriver(opts);
  await d.init(name);
  return d;
}

describe("fake driver", () => {
  it("refuses use before init()", async () => {
    const d = new FakeDriver();
    await assert.rejects(d.spawn(spec()), DriverNotInitialized);
    await assert.rejects(d.listInstances(), DriverNotInitialized);
    await assert.rejects(d.getAvailableResources(), DriverNotInitialized);
  });

  it("reports its configured capacity and usage", async () => {
    const d = await host({ vcpus: 8, memoryMb: 16384, diskGb: 100 }, "compute-7");
    await d.spawn(spec({ vcpus: 2, memoryMb: 2048, rootGb: 20 }));
    const r = await d.getAvailableResources();
    assert.equal(r.vcpus, 8);
    assert.equal(r.memoryMb, 16384);
    assert.equal(r.diskGb, 100);
    assert.deepEqual([r.vcpusUsed, r.memoryMbUsed, r.diskGbUsed], [2, 2048, 20]);
    assert.equal(r.hypervisorType, "fake");
    assert.equal(r.hypervisorHostname, "compute-7");
    assert.equal(r.cpuInfo.topology.cores, 8);
    assert.throws(() => new FakeDriver({ vcpus: -1 }), RangeError);
  });

  it("enforceCapacity: refuses what does not fit, counting stopped instances, and frees on destroy", async () => {
    const d = await host({ vcpus: 4, memoryMb: 4096, diskGb: 50, enforceCapacity: true });
    const a = spec({ vcpus: 3 });
    await d.spawn(a);
    await d.powerOff(a.uuid);
    const b = spec({ vcpus: 2 });
    const err = await d.spawn(b).catch((e: unknown) => e);
    assert.ok(err instanceof InsufficientResources);
    assert.equal(err.resource, "vcpus");
    assert.equal(err.free, 1);
    assert.deepEqual(await d.listInstances(), [a.uuid]);
    await assert.rejects(d.spawn(spec({ memoryMb: 8192 })), InsufficientResources);
    await d.destroy(a.uuid);
    await d.spawn(b);
    // Concurrent spawns reserve capacity before their delay: exactly the ones that fit succeed.
    const slow = await host({ vcpus: 4, memoryMb: 4096, diskGb: 50, enforceCapacity: true, spawnDelayMs: 5 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => slow.spawn(spec())));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 4);
    assert.equal((await slow.listInstances()).length, 4);
  });

  it("without enforceCapacity it overcommits like a real hypervisor under placement's ratios", async () => {
    const d = await host({ vcpus: 1 });
    await d.spawn(spec({ vcpus: 4 }));
    assert.equal((await d.getAvailableResources()).vcpusUsed, 4);
  });

  it("failSpawnFor: the spawn fails with SpawnFailed and leaves nothing behind", async () => {
    const d = await host({ failSpawnFor: (s) => (s.name === "doomed" ? "no such bridge br-int" : false) });
    const bad = spec({ name: "doomed" });
    const err = await d.spawn(bad).catch((e: unknown) => e);
    assert.ok(err instanceof SpawnFailed);
    assert.match(err.message, /no such bridge br-int/);
    assert.equal(err.name, "SpawnFailed");
    assert.deepEqual(err.data, { uuid: bad.uuid, reason: "no such bridge br-int" });
    assert.deepEqual(await d.listInstances(), []);
    await assert.rejects(d.getInfo(bad.uuid), InstanceNotFound);
    const ok = spec();
    await d.spawn(ok);
    assert.deepEqual(await d.listInstances(), [ok.uuid]);
    // A later retry of the same uuid may succeed (the conductor reschedules the same instance).
    const flaky = await host({
      failSpawnFor: (() => {
        let n = 0;
        return () => n++ === 0;
      })(),
    });
    const s = spec();
    await assert.rejects(flaky.spawn(s), SpawnFailed);
    await flaky.spawn(s);
    assert.equal((await flaky.getInfo(s.uuid)).state, PowerState.RUNNING);
  });

  it("failOperation: the operation fails with OperationFailed and the state is unchanged", async () => {
    const d = await host({ failOperation: (op) => op === "powerOff" });
    const s = spec();
    await d.spawn(s);
    await assert.rejects(
      d.powerOff(s.uuid),
      (e: unknown) => e instanceof OperationFailed && e.action === "powerOff",
    );
    assert.equal((await d.getInfo(s.uuid)).state, PowerState.RUNNING);
    await d.reboot(s.uuid, "HARD");
  });

  it("spawnDelayMs: the instance is listed as NOSTATE while building and refuses operations", async () => {
    const d = await host({ spawnDelayMs: 20 });
    const s = spec();
    const p = d.spawn(s);
    assert.deepEqual(await d.listInstances(), [s.uuid]);
    assert.equal((await d.getInfo(s.uuid)).state, PowerState.NOSTATE);
    await assert.rejects(d.powerOff(s.uuid), InvalidInstanceState);
    await p;
    assert.equal((await d.getInfo(s.uuid)).state, PowerState.RUNNING);
  });

  it("destroy during a spawn wins: the spawn fails and nothing is left", async () => {
    const d = await host({ spawnDelayMs: 20 });
    const s = spec();
    const p = d.spawn(s);
    await d.destroy(s.uuid);
    await assert.rejects(p, SpawnFailed);
    assert.deepEqual(await d.listInstances(), []);
  });

  it("validates the spec", async () => {
    const d = await host();
    await assert.rejects(d.spawn(spec({ uuid: "not-a-uuid" })), InvalidInstanceSpec);
    await assert.rejects(d.spawn(spec({ vcpus: 0 })), InvalidInstanceSpec);
    await assert.rejects(d.spawn(spec({ memoryMb: 1.5 })), InvalidInstanceSpec);
    await assert.rejects(d.spawn(spec({ image: { id: "x", format: "ploop" } })), InvalidInstanceSpec);
    assert.deepEqual(await d.listInstances(), []);
  });

  it("does not alias the caller's spec", async () => {
    const d = await host();
    const s = spec({ vcpus: 2 });
    await d.spawn(s);
    s.vcpus = 64;
    assert.equal((await d.getAvailableResources()).vcpusUsed, 2);
  });

  it("the console shows a plausible, deterministic boot log", async () => {
    const run = async () => {
      const d = await host();
      const s = spec({
        uuid: "11111111-2222-4333-8444-555555555555",
        name: "web-1",
        vcpus: 2,
        networkInfo: [{ id: "p1", address: "fa:16:3e:aa:bb:cc", fixedIps: ["10.0.0.7"] }],
      });
      await d.spawn(s);
      await d.reboot(s.uuid, "SOFT");
      return d.getConsoleOutput(s.uuid);
    };
    const out = await run();
    assert.equal(out, await run());
    assert.match(out, /Linux version .* #1 SMP/);
    assert.match(out, /smpboot: Allowing 2 CPUs/);
    assert.match(out, /eth0: fa:16:3e:aa:bb:cc/);
    assert.match(out, /ci-info: eth0 10\.0\.0\.7/);
    assert.match(out, /reboot: Restarting system/);
    assert.match(out, /Linux version .* #2 SMP/);
    assert.match(out, /web-1 login: \n$/);
  });

  it("power state transitions refuse what a hypervisor would refuse", async () => {
    const d = await host();
    const s = spec();
    await d.spawn(s);
    await d.pause(s.uuid);
    const err = await d.powerOn(s.uuid).catch((e: unknown) => e);
    assert.ok(err instanceof InvalidPowerState && err instanceof VirtDriverError);
    assert.equal(err.state, PowerState.PAUSED);
    assert.match(err.message, /while it is PAUSED/);
    await d.powerOff(s.uuid); // a paused guest can be forced off
    assert.equal((await d.getInfo(s.uuid)).state, PowerState.SHUTDOWN);
    await d.rescue(s.uuid);
    await assert.rejects(d.suspend(s.uuid), InvalidInstanceState);
    await assert.rejects(d.snapshot(s.uuid, { write: async () => {} }), InvalidInstanceState);
    await d.unrescue(s.uuid);
    assert.equal(powerStateName(PowerState.SUSPENDED), "SUSPENDED");
  });

  it("snapshot bytes are deterministic and name the instance", async () => {
    const d = await host();
    const s = spec({ rootGb: 2 });
    await d.spawn(s);
    const parts: Uint8Array[] = [];
    await d.snapshot(s.uuid, {
      async write(meta, data) {
        assert.equal(meta.virtualSizeBytes, 2 * 1024 ** 3);
        for await (const c of data) parts.push(c);
      },
    });
    const buf = Buffer.concat(parts);
    assert.equal(buf.length, 64 * 1024);
    assert.ok(buf.toString("latin1").startsWith(`STRATUS-FAKE-DISK ${s.uuid}`));
  });

  it("several hosts in one process are independent; VNC ports are per host", async () => {
    const [a, b] = [await host({}, "a"), await host({}, "b")];
    const s = spec();
    await a.spawn(s);
    await b.spawn(s); // the same uuid on another host is another domain
    await a.destroy(s.uuid);
    assert.deepEqual(await a.listInstances(), []);
    assert.deepEqual(await b.listInstances(), [s.uuid]);
    assert.deepEqual(await b.getVncConsole(s.uuid), { host: "b", port: 5900 });
  });

  it("a half-done spawn found at restart is adopted as NOSTATE and can be destroyed", async () => {
    const state = createFakeStateStore();
    const old = await host({ state, spawnDelayMs: 50 });
    const s = spec();
    const pending = old.spawn(s);
    const restarted = await host({ state });
    assert.deepEqual(await restarted.listInstances(), [s.uuid]);
    assert.equal((await restarted.getInfo(s.uuid)).state, PowerState.NOSTATE);
    await restarted.destroy(s.uuid);
    await assert.rejects(pending, SpawnFailed);
  });

  it("live-migration hooks check which side of a migration they are on", async () => {
    const [src, dest] = [await host({}, "src"), await host({}, "dest")];
    const s = spec();
    await src.spawn(s);
    await assert.rejects(dest.postLiveMigrationAtDestination(s.uuid), InstanceNotFound);
    await dest.preLiveMigration(s, "src");
    assert.equal((await dest.getInfo(s.uuid)).state, PowerState.PAUSED);
    await assert.rejects(dest.powerOn(s.uuid), InvalidInstanceState);
    await assert.rejects(src.confirmMigration(s.uuid), InvalidInstanceState); // not migrating
    await dest.rollbackLiveMigrationAtDestination(s.uuid);
    await assert.rejects(src.rollbackLiveMigrationAtDestination(s.uuid), InvalidInstanceState); // not incoming
    assert.deepEqual(await src.listInstances(), [s.uuid]);
  });
});

describe("virt driver registry", () => {
  it("creates registered drivers by name", async () => {
    assert.deepEqual(DRIVER_NAMES, ["fake", "qemu"]);
    const d = createDriver("fake", { vcpus: 3 });
    assert.ok(d instanceof FakeDriver);
    await d.init("h");
    assert.equal((await d.getAvailableResources()).vcpus, 3);
    assert.ok(createDriver("fake") instanceof FakeDriver);
  });

  it("names the known drivers when asked for an unknown one", () => {
    for (const bad of ["libvirt", "kvm", "toString", "__proto__", ""]) {
      assert.equal(isDriverName(bad), false);
      assert.throws(
        () => createDriver(bad as DriverName),
        (e: unknown) =>
          e instanceof UnknownDriver && /known drivers: fake, qemu/.test(e.message) && e.driver === bad,
      );
    }
    assert.throws(() => parseDriverName("Fake"), UnknownDriver);
    assert.equal(parseDriverName("fake"), "fake");
  });
});
