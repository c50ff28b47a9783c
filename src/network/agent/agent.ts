// The network agent of one host (Neutron's L2 agent, with DHCP and L3 to come): it registers and heartbeats in
// network_agent, serves the network_agent contract (rpc.ts) and keeps its driver's data plane equal to what the
// database says for this host: the ports bound here and their networks. Messages only say what changed; the
// agent reads the rest, so a repeated message is harmless, and resync (at start, or on request) fixes anything
// a lost one left behind. `stratus up` runs one in process; a later stage adds `stratus agent network`.
import type { Logger } from "pino";
import type { Bus, ServerHandle } from "../../shared/bus/index.js";
import { AGENT_TYPE } from "../binding.js";
import type { NetworkCore } from "../core.js";
import type { NetworkDriver } from "../drivers/types.js";
import { networkAgentContract } from "../rpc.js";
import { reportAgent } from "../store/agents.js";
import { groupsReferring } from "../store/security-group-rules.js";
import { reportPortStatus } from "../compute-notifier.js";
import { getPort, portsOnHost, type Port } from "../store/ports.js";
import { networkSpec, portSpec } from "./specs.js";

/** What an agent runs with. */
export interface NetworkAgentDeps {
  core: NetworkCore;
  bus: Bus;
  host: string;
  driver: NetworkDriver;
  log: Logger;
}

/** One host's network agent. */
export class NetworkAgent {
  private server: ServerHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Changes are applied one at a time, in the order they came. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly deps: NetworkAgentDeps) {}

  /** Initialise the driver, register, resync, then serve the contract and heartbeat. */
  static async start(deps: NetworkAgentDeps): Promise<NetworkAgent> {
    const agent = new NetworkAgent(deps);
    await deps.driver.init(deps.host);
    await agent.report(true);
    await agent.resync();
    agent.server = await deps.bus.serve(networkAgentContract, deps.host, {
      network_update: ({ networkId }) => agent.serial(() => agent.networkUpdated(networkId)),
      network_delete: ({ networkId }) => agent.serial(() => agent.deps.driver.deleteNetwork(networkId)),
      port_update: ({ portId }) => agent.serial(() => agent.portUpdated(portId)),
      port_delete: ({ portId, networkId }) => agent.serial(() => agent.portDeleted(portId, networkId)),
      security_group_update: ({ securityGroupIds }) =>
        agent.serial(() => agent.groupsUpdated(securityGroupIds)),
      resync: () => agent.serial(() => agent.resync()),
    });
    const every = deps.core.cfg.network.reportInterval * 1000;
    agent.timer = setInterval(
      () =>
        void agent
          .report(false)
          .catch((err: unknown) => deps.log.warn({ err }, "network agent heartbeat failed")),
      every,
    );
    agent.timer.unref();
    return agent;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private report(starting: boolean): Promise<string> {
    const { core, host, driver } = this.deps;
    return reportAgent(
      core,
      {
        agentType: AGENT_TYPE,
        binary: "stratus-network-agent",
        host,
        topic: networkAgentContract.topic,
        availabilityZone: core.cfg.network.availabilityZone,
        configurations: {
          driver: driver.name,
          real_data_plane: driver.realDataPlane,
          vif_type: driver.binding(PROBE).vifType,
          tenant_network_types: core.cfg.network.tenantNetworkTypes,
        },
      },
      starting,
    );
  }

  /** Plug a port bound here (its network first) and report it up; unplug one that left this host. */
  private async portUpdated(portId: string): Promise<void> {
    const { core, host, driver } = this.deps;
    const port = await getPort(core, portId);
    if (!port || port.binding_host_id !== host) {
      await driver.unplugPort(portId, port?.network_id ?? "");
      return;
    }
    await this.plug(port);
  }

  private async plug(port: Port): Promise<void> {
    const { core, driver } = this.deps;
    const net = await networkSpec(core, port.network_id);
    if (!net) return;
    await driver.ensureNetwork(net);
    await driver.plugPort(portSpec(port), net);
    await reportPortStatus(core, port, port.admin_state_up && net.adminStateUp ? "ACTIVE" : "DOWN");
  }

  private async portDeleted(portId: string, networkId: string): Promise<void> {
    const { core, host, driver } = this.deps;
    await driver.unplugPort(portId, networkId);
    if (!(await portsOnHost(core, host)).some((p) => p.network_id === networkId))
      await driver.deleteNetwork(networkId);
  }

  /** Security groups changed (rules or members): replug (idempotently) the ports affected, so the driver reapplies them. */
  private async groupsUpdated(ids: string[]): Promise<void> {
    const { core, host } = this.deps;
    // Ports in the groups, and ports in groups whose rules name them as remote groups (their members changed).
    const wanted = new Set([...ids, ...(await groupsReferring(core, ids))]);
    for (const p of await portsOnHost(core, host))
      if (p.security_groups.some((g) => wanted.has(g))) await this.plug(p);
  }

  /** A network changed: refresh it where this host carries it. */
  private async networkUpdated(networkId: string): Promise<void> {
    const { core, host, driver } = this.deps;
    const ports = (await portsOnHost(core, host)).filter((p) => p.network_id === networkId);
    for (const p of ports) await this.plug(p);
    if (!ports.length && (await driver.state()).networks.includes(networkId))
      await driver.deleteNetwork(networkId);
  }

  /** Make the data plane match the database for this host; counts what changed. */
  async resync(): Promise<{ plugged: number; unplugged: number }> {
    const { core, host, driver } = this.deps;
    const ports = await portsOnHost(core, host);
    const state = await driver.state();
    let plugged = 0;
    let unplugged = 0;
    for (const p of ports) {
      if (!state.ports.includes(p.id)) plugged++;
      await this.plug(p);
    }
    const wanted = new Set(ports.map((p) => p.id));
    for (const id of state.ports)
      if (!wanted.has(id)) {
        await driver.unplugPort(id, "");
        unplugged++;
      }
    const nets = new Set(ports.map((p) => p.network_id));
    for (const id of (await driver.state()).networks) if (!nets.has(id)) await driver.deleteNetwork(id);
    return { plugged, unplugged };
  }

  /** Stop serving and heartbeating; the data plane stays as it is. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.server?.stop();
    await this.queue;
    await this.deps.driver.close();
  }
}

/** A port to ask a driver what binding its ports get. */
const PROBE = {
  id: "",
  networkId: "",
  macAddress: "",
  fixedIps: [],
  adminStateUp: true,
  portSecurityEnabled: true,
  allowedAddressPairs: [],
  securityGroupIds: [],
  deviceOwner: "",
  deviceId: "",
};
