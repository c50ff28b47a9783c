// The compute agent (nova-compute): one per host. It registers its service and heartbeats, reports its
// resources (the conductor turns them into a compute node and placement inventory), serves the host's RPC queue
// and keeps the database and the hypervisor in agreement (reconcile on start, power-state sync periodically).
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Bus, ServerHandle } from "../../shared/bus/index.js";
import type { Config } from "../../shared/config.js";
import type { InstanceSpec, VirtDriver } from "../drivers/types.js";
import type { Instance } from "../instances/store.js";
import { driverVifs } from "../networking/vifs.js";
import { agentContract, conductorContract } from "../rpc.js";
import { heartbeat } from "../servicegroup.js";
import { actionHandlers } from "./actions.js";
import { buildHandlers } from "./build.js";
import type { AgentDeps } from "./deps.js";
import { closeSerialEndpoints } from "./serial-endpoints.js";
import { KeyedLock } from "../../shared/keyed-lock.js";
import { migrateAgentHandlers } from "./migrate.js";
import { interfaceHandlers } from "./interfaces.js";
import { volumeHandlers } from "./volumes.js";
import { reconcile, syncPowerStates } from "./reconcile.js";
import { InstanceEvents } from "./vif-events.js";

/** What an agent needs to run. */
export interface AgentOptions {
  host: string;
  driver: VirtDriver;
  db: Kysely<any>;
  bus: Bus;
  log: Logger;
  cfg: Config;
}

/** The driver's view of an instance. */
export function instanceSpec(inst: Instance): InstanceSpec {
  const meta = (inst.system_metadata.metadata as Record<string, string> | undefined) ?? {};
  return {
    uuid: inst.uuid,
    name: inst.display_name,
    vcpus: inst.flavor.vcpus,
    memoryMb: inst.flavor.memory_mb,
    rootGb: inst.flavor.root_gb,
    ephemeralGb: inst.flavor.ephemeral_gb,
    swapMb: inst.flavor.swap,
    projectId: inst.project_id,
    image: { id: inst.image_ref },
    networkInfo: driverVifs(inst.network_info),
    userData: inst.user_data ?? undefined,
    metadata: meta,
  };
}

/** A running compute agent. */
export class ComputeAgent {
  private server: ServerHandle | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly locks = new KeyedLock();
  readonly deps: AgentDeps;

  private constructor(private readonly opts: AgentOptions) {
    const { host, driver, db, bus, log, cfg } = opts;
    this.deps = {
      host,
      driver,
      db,
      bus,
      log: log.child({ agent: host }),
      cfg,
      lock: (uuid, fn) => this.locks.run(uuid, fn),
      spec: instanceSpec,
      events: new InstanceEvents(),
      syncPower: async (uuid) => {
        const info = await driver.getInfo(uuid).catch(() => null);
        if (info)
          await db
            .updateTable("compute_instance")
            .set({ power_state: info.state })
            .where("uuid", "=", uuid)
            .execute();
      },
    };
  }

  /** Initialise the driver, register and report, reconcile, then serve the host's queue. */
  static async start(opts: AgentOptions): Promise<ComputeAgent> {
    const agent = new ComputeAgent(opts);
    await agent.run();
    return agent;
  }

  get host(): string {
    return this.opts.host;
  }

  private async run(): Promise<void> {
    const { driver, host, cfg } = this.opts;
    await driver.init(host);
    await this.heartbeat();
    await this.reportResources();
    await reconcile(this.deps);
    this.server = await this.opts.bus.serve(agentContract, host, {
      ...buildHandlers(this.deps),
      ...actionHandlers(this.deps),
      ...migrateAgentHandlers(this.deps),
      ...interfaceHandlers(this.deps),
      ...volumeHandlers(this.deps),
      external_instance_event: async ({ uuid, events }) => {
        for (const ev of events)
          if (!this.deps.events.pop(uuid, ev) && ev.name === "network-vif-plugged")
            this.deps.log.debug({ uuid, event: ev.name, tag: ev.tag }, "an event nobody waited for");
      },
      refresh: async () => {
        await this.reportResources();
        await syncPowerStates(this.deps);
      },
    });
    const every = (seconds: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => {
        fn().catch((e: Error) => this.deps.log.warn({ err: e.message }, "periodic task failed"));
      }, seconds * 1000);
      t.unref();
      this.timers.push(t);
    };
    every(cfg.compute.reportInterval, () => this.heartbeat());
    every(cfg.compute.updateResourcesInterval, () => this.reportResources());
    every(cfg.compute.syncPowerStateInterval, () => syncPowerStates(this.deps));
  }

  /** Record that this host is alive (creating its service row the first time). */
  heartbeat(): Promise<void> {
    return heartbeat(this.opts.db, this.opts.host, "nova-compute");
  }

  /** Send the host's resources to the conductor (compute node + placement inventory). */
  async reportResources(): Promise<void> {
    const resources = await this.opts.driver.getAvailableResources();
    await this.opts.bus.call(conductorContract, "report_resources", { host: this.opts.host, resources });
  }

  /** Stop serving and stop the periodic tasks; guests keep running. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.server?.stop();
    this.server = null;
    await closeSerialEndpoints(this.deps);
  }
}
