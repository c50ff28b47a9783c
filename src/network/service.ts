import type { Logger } from "pino";
import type { Bus } from "../shared/bus/index.js";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { NetworkAgent } from "./agent/agent.js";
import { networkApiRoutes } from "./api/index.js";
import { AgentNotifier, NetworkCore } from "./core.js";
import { createNetworkDriver, parseNetworkDriverName } from "./drivers/registry.js";
import type { MetadataHooks } from "./drivers/linux/driver.js";
import { cloudNetIdentity } from "./drivers/linux/identity.js";
import {
  createMetadataProxies,
  metadataSocketPath,
  portCallerLookup,
  type MetadataProxies,
  type MetadataTargetSource,
} from "./metadata/index.js";
import type { NetworkDriver } from "./drivers/types.js";
import { formatNetworkError } from "./errors.js";
import { networkMigrations } from "./migrations/index.js";
import { createTopology, type Topology, type TopologyProjects } from "./topology.js";

export { networkPolicies } from "./api/policy.js";

/** The configured driver of this host's agent; the linux one gets the cloud's identity (identity.ts). */
export function networkDriverFor(cfg: Config, opts: { metadata?: MetadataHooks } = {}): NetworkDriver {
  const name = parseNetworkDriverName(cfg.network.driver);
  if (name !== "linux") return createNetworkDriver(name);
  const id = cloudNetIdentity(cfg.dataDir);
  return createNetworkDriver("linux", {
    prefix: id.prefix,
    stateDir: id.stateDir,
    firewallTag: id.firewallTag,
    physicalInterfaces: cfg.network.physicalInterfaces,
    publicUplink: cfg.network.publicUplink ?? undefined,
    metadata: opts.metadata,
  });
}

/**
 * The Network service (Neutron v2.0 API): networks, subnets, subnet pools, ports with IPAM, RBAC, quotas,
 * agents. Changes are told to the network agents over the bus (rpc.ts); each agent drives its host's data plane
 * through a driver (drivers/).
 */
export class NetworkService {
  private agent: NetworkAgent | null = null;
  private proxies: MetadataProxies | null = null;

  private constructor(readonly core: NetworkCore) {}

  /** Migrate the network tables; the driver name is checked now, so a bad one fails before anything runs. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<NetworkService> {
    parseNetworkDriverName(cfg.network.driver);
    await migrate(db, "network", networkMigrations);
    return new NetworkService(new NetworkCore(db.kysely, db.engine, cfg, log, new AgentNotifier(log)));
  }

  /**
   * Tell agents about changes over `bus`, and run this host's agent with the configured driver. With the linux
   * driver and a metadata service to forward to, the agent also runs the metadata proxies (Neutron's metadata agent).
   */
  async connect(
    bus: Bus,
    host: string,
    opts: { metadata?: MetadataHooks; metadataTarget?: MetadataTargetSource } = {},
  ): Promise<NetworkAgent> {
    this.core.notify.connect(bus);
    let metadata = opts.metadata;
    if (!metadata && opts.metadataTarget && this.core.cfg.network.driver === "linux") {
      const { stateDir } = cloudNetIdentity(this.core.cfg.dataDir);
      this.proxies = createMetadataProxies({
        stateDir,
        socketPath: metadataSocketPath(stateDir),
        log: this.core.log,
        agent: { lookup: portCallerLookup(this.core), target: opts.metadataTarget },
      });
      metadata = this.proxies;
    }
    const driver = networkDriverFor(this.core.cfg, { metadata });
    this.agent = await NetworkAgent.start({ core: this.core, bus, host, driver, log: this.core.log });
    return this.agent;
  }

  /** The in-process agent, once connected. */
  get localAgent(): NetworkAgent | null {
    return this.agent;
  }

  /** Create the start-up networks (once per cloud). */
  bootstrap(projects: TopologyProjects): Promise<Topology | null> {
    return createTopology(this.core, projects);
  }

  /** Stop the in-process agent. */
  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = null;
    await this.proxies?.close();
    this.proxies = null;
  }

  /** The HTTP API mounted at /networking. */
  api(): ServiceApi {
    return {
      name: "network",
      serviceType: "network",
      prefix: "/networking",
      routes: networkApiRoutes(this.core),
      formatError: formatNetworkError,
    };
  }
}
