// The compute control plane's moving parts beyond the API: the conductor (with the scheduler inside it), the
// control services' own heartbeats, and the compute agents `stratus up` runs in process.
import { hostname } from "node:os";
import { join } from "node:path";
import type { Bus } from "../shared/bus/index.js";
import { ComputeAgent } from "./agent/agent.js";
import { startConductor, type ConductorHandle } from "./conductor/conductor.js";
import type { ComputeCore } from "./core.js";
import { PersistentFakeDriver, persistentFakeDriver } from "./drivers/fake-persist.js";
import { createDriver, parseDriverName } from "./drivers/registry.js";
import { QemuDriver } from "./drivers/qemu/driver.js";
import { Scheduler } from "./scheduler/scheduler.js";
import { heartbeat } from "./servicegroup.js";
import { qemuDriverOptions, type QemuHostContext } from "./qemu-host.js";

/** What runs besides the API; close() stops it (guests of fake hosts are in memory and go with the process). */
export interface ComputeControl {
  agents: ComputeAgent[];
  scheduler: Scheduler;
  /** The conductor of this process (its ownership identity and orphan recovery). */
  conductor: ConductorHandle;
  close(): Promise<void>;
}

/** A name usable as a host and queue name: the machine's hostname, cleaned. */
export function defaultHostName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "") || "localhost"
  );
}

/** The host names of the in-process agents: NAME, NAME-2, NAME-3, ... */
export function agentHostNames(base: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base}-${i + 1}`));
}

/**
 * Start the conductor and scheduler on `bus`, then the configured number of in-process agents (qemu ones get the
 * image service and the metadata from `qemu`).
 */
export async function startComputeControl(
  core: ComputeCore,
  bus: Bus,
  qemu: QemuHostContext = {},
): Promise<ComputeControl> {
  const cfg = core.cfg.compute;
  const host = cfg.hostName ?? defaultHostName();
  const scheduler = new Scheduler(core);
  const conductor = await startConductor(core, scheduler, host);
  const beat = async () => {
    await heartbeat(core.db, host, "nova-conductor");
    await heartbeat(core.db, host, "nova-scheduler");
  };
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), cfg.reportInterval * 1000);
  timer.unref();
  const driverName = parseDriverName(cfg.driver);
  const agents: ComputeAgent[] = [];
  for (const name of agentHostNames(host, cfg.hosts)) {
    const fakeOpts = {
      vcpus: cfg.fake.vcpus,
      memoryMb: cfg.fake.memoryMb,
      diskGb: cfg.fake.diskGb,
      spawnDelayMs: cfg.fake.spawnDelayMs,
    };
    const driver =
      driverName === "qemu"
        ? createDriver("qemu", qemuDriverOptions(core.cfg, name, { log: core.log, ...qemu }))
        : driverName === "fake" && cfg.fake.persist
          ? persistentFakeDriver(join(core.cfg.dataDir, "fake-hosts"), name, fakeOpts, { lazy: true })
          : createDriver(driverName, fakeOpts);
    agents.push(
      await ComputeAgent.start({ host: name, driver, db: core.db, bus, log: core.log, cfg: core.cfg }),
    );
  }
  return {
    agents,
    scheduler,
    conductor,
    async close() {
      clearInterval(timer);
      for (const a of agents) {
        await a.stop();
        if (a.deps.driver instanceof PersistentFakeDriver) a.deps.driver.flush();
        if (a.deps.driver instanceof QemuDriver) await a.deps.driver.close(); // guests keep running
      }
      await conductor.stop();
    },
  };
}
