// The network agent of one host (Neutron's L2 agent, plus its DHCP and L3 agents on a network node): it registers
// and heartbeats in network_agent, serves the network_agent contract (rpc.ts) and keeps its driver's data plane
// equal to what the database says for this host. Every host carries the networks of the VM ports bound to it or
// with an inactive binding on it (a live migration's destination): a bridge, VXLAN to the other hosts' tunnel
// addresses, a tap per port, and their firewall. A network node also runs DHCP for every network with a served
// subnet (an external one's on the public namespace's bridge), every router, and the external networks in the
// public namespace, when its driver has those capabilities (noop has none). Messages only say what changed; the
// agent reads the rest, so a repeated message is harmless, and resync (at start, or on request) fixes anything a
// lost one left behind and removes what the database no longer has. `stratus up` runs one in process as the
// network node.
import type { Logger } from "pino";
import type { Bus, ServerHandle } from "../../shared/bus/index.js";
import { AGENT_TYPE } from "../binding.js";
import type { NetworkCore } from "../core.js";
import type { NetworkDriver, NetworkSpec } from "../drivers/types.js";
import { networkAgentContract } from "../rpc.js";
import { agentAlive, listAgents, reportAgent } from "../store/agents.js";
import { floatingIpsOfPorts } from "../store/floatingips.js";
import { groupsReferring } from "../store/security-group-rules.js";
import { reportPortStatus } from "../compute-notifier.js";
import { portIdsBoundInactiveTo } from "../store/port-bindings.js";
import { getPort, portsByIds, portsOnHost, setPortStatus, type Port } from "../store/ports.js";
import { getRouter } from "../store/routers.js";
import {
  dhcpNetworkIds,
  dhcpSpec,
  externalSpecs,
  isVmPort,
  routedNetworkIds,
  routerIds,
  routerSpec,
} from "./node-specs.js";
import { networkSpec, portSpec, securityGroupSpecs } from "./specs.js";

/** What an agent runs with. */
export interface NetworkAgentDeps {
  core: NetworkCore;
  bus: Bus;
  host: string;
  driver: NetworkDriver;
  log: Logger;
  /** Run DHCP, routers and the public network here (default cfg.network.networkNode). */
  networkNode?: boolean;
  /** This host's VXLAN tunnel address, reported to the other agents (default cfg.network.tunnelIp). */
  tunnelIp?: string | null;
}

/** One host's network agent. */
export class NetworkAgent {
  private server: ServerHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Changes are applied one at a time, in the order they came. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Whether this host runs DHCP, routers and the public network. */
  readonly networkNode: boolean;
  /** The VXLAN peers last given to the driver. */
  private knownPeers: string[] = [];

  private constructor(readonly deps: NetworkAgentDeps) {
    this.networkNode = deps.networkNode ?? deps.core.cfg.network.networkNode;
  }

  /** Initialise the driver, register, resync, then serve the contract and heartbeat. */
  static async start(deps: NetworkAgentDeps): Promise<NetworkAgent> {
    const agent = new NetworkAgent(deps);
    await deps.driver.init(deps.host);
    await agent.report(true);
    await agent.resync();
    agent.server = await deps.bus.serve(networkAgentContract, deps.host, {
      network_update: ({ networkId }) => agent.serial(() => agent.networkChanged(networkId)),
      network_delete: ({ networkId }) => agent.serial(() => agent.networkChanged(networkId)),
      port_update: ({ portId }) => agent.serial(() => agent.portUpdated(portId)),
      port_delete: ({ portId, networkId }) => agent.serial(() => agent.portDeleted(portId, networkId)),
      security_group_update: ({ securityGroupIds }) =>
        agent.serial(() => agent.groupsUpdated(securityGroupIds)),
      router_update: ({ routerId }) => agent.serial(() => agent.routerChanged(routerId)),
      router_delete: ({ routerId }) => agent.serial(() => agent.routerChanged(routerId)),
      resync: () => agent.serial(() => agent.resync()),
    });
    const every = deps.core.cfg.network.reportInterval * 1000;
    agent.timer = setInterval(
      () =>
        void agent
          .report(false)
          .then(() => agent.serial(() => agent.refreshPeers()))
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

  private get tunnelIp(): string | null {
    return this.deps.tunnelIp !== undefined ? this.deps.tunnelIp : this.deps.core.cfg.network.tunnelIp;
  }

  private report(starting: boolean): Promise<string> {
    const { core, host, driver } = this.deps;
    const probe = driver.binding(PROBE);
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
          vif_type: probe.vifType,
          // The binding names the tap and bridge of each port (binding.ts fills them in from the ids).
          tap_names: "tap_name" in probe.vifDetails,
          tenant_network_types: core.cfg.network.tenantNetworkTypes,
          tunnel_ip: this.tunnelIp,
          network_node: this.networkNode,
        },
      },
      starting,
    );
  }

  /** The tunnel addresses of the other live agents (VXLAN peers: head-end replication to each). */
  private async peers(): Promise<string[]> {
    const { core, host } = this.deps;
    const peers = new Set<string>();
    for (const a of await listAgents(core)) {
      if (a.agent_type !== AGENT_TYPE || a.host === host || !agentAlive(core, a)) continue;
      const ip = (JSON.parse(a.configurations) as { tunnel_ip?: unknown }).tunnel_ip;
      if (typeof ip === "string" && ip !== this.tunnelIp) peers.add(ip);
    }
    return [...peers].sort();
  }

  /** A network as the driver sees it, with the other hosts' tunnel addresses as VXLAN peers. */
  private async netSpec(id: string): Promise<NetworkSpec | null> {
    const spec = await networkSpec(this.deps.core, id);
    if (!spec || spec.segment.networkType !== "vxlan") return spec;
    this.knownPeers = await this.peers();
    return { ...spec, vxlanLocal: this.tunnelIp, vxlanPeers: this.knownPeers };
  }

  /** Hosts came or went (seen at each heartbeat): give this host's VXLAN networks the new peer list. */
  async refreshPeers(): Promise<void> {
    const { driver } = this.deps;
    if (JSON.stringify(await this.peers()) === JSON.stringify(this.knownPeers)) return;
    for (const id of (await driver.state()).networks) {
      const net = await this.netSpec(id);
      if (net) await driver.ensureNetwork(net);
    }
  }

  /** VM ports bound to this host, and those with an inactive binding here (a live migration's destination). */
  private async vmPortsHere(): Promise<Port[]> {
    const { core, host } = this.deps;
    const bound = await portsOnHost(core, host);
    const known = new Set(bound.map((p) => p.id));
    const moving = (await portsByIds(core, await portIdsBoundInactiveTo(core, host))).filter(
      (p) => !known.has(p.id),
    );
    return [...bound, ...moving].filter(isVmPort);
  }

  /** Whether a port is plugged here: bound here, or with an inactive binding here. */
  private async plugsHere(port: Port): Promise<boolean> {
    const { core, host } = this.deps;
    return port.binding_host_id === host || (await portIdsBoundInactiveTo(core, host)).includes(port.id);
  }

  /** The networks this host carries: its VM ports', and on a network node those with DHCP or a router interface. */
  private async wantedNetworks(): Promise<Set<string>> {
    const out = new Set((await this.vmPortsHere()).map((p) => p.network_id));
    const { driver, core } = this.deps;
    if (this.networkNode && driver.dhcp) for (const id of await dhcpNetworkIds(core)) out.add(id);
    if (this.networkNode && driver.routing) for (const id of await routedNetworkIds(core)) out.add(id);
    return out;
  }

  /** Plug a VM port bound here (its network first); returns the status it is to get, or null when its network is gone. */
  private async plug(port: Port): Promise<string | null> {
    const { driver } = this.deps;
    const net = await this.netSpec(port.network_id);
    if (!net) return null;
    await driver.ensureNetwork(net);
    await driver.plugPort(portSpec(port), net);
    return port.admin_state_up && net.adminStateUp ? "ACTIVE" : "DOWN";
  }

  /** A port changed: plug, update or unplug it here (tap, firewall, then status); a network node refreshes DHCP and routers. */
  private async portUpdated(portId: string): Promise<void> {
    const { core, host, driver } = this.deps;
    const port = await getPort(core, portId);
    if (port && !isVmPort(port)) {
      if (port.device_owner.startsWith("network:router_")) await this.routerChanged(port.device_id);
      else if (port.device_owner === "network:floatingip") await this.routersOfFloatingPort(port.id);
      return;
    }
    let status: string | null = null;
    if (!port || !(await this.plugsHere(port))) {
      // Not (or no longer) this host's: only a port it had needs its tap and chains removed.
      if ((await driver.state()).ports.includes(portId)) {
        await driver.unplugPort(portId, port?.network_id ?? "");
        await this.refreshFirewall();
      }
    } else {
      status = await this.plug(port);
      await this.refreshFirewall();
      // A port only moving here (inactive binding) keeps the status its active host gives it.
      if (port.binding_host_id !== host) status = null;
    }
    if (port && status) await reportPortStatus(core, port, status);
    if (port) {
      await this.syncDhcp(port.network_id);
      for (const f of await floatingIpsOfPorts(core, [port.id]))
        if (f.router_id) await this.routerChanged(f.router_id);
    }
    await this.dropUnwantedNetworks();
  }

  private async routersOfFloatingPort(floatingPortId: string): Promise<void> {
    const rows = await this.deps.core.db
      .selectFrom("network_floatingip")
      .select("router_id")
      .where("floating_port_id", "=", floatingPortId)
      .execute();
    for (const r of rows as { router_id: string | null }[])
      if (r.router_id) await this.routerChanged(r.router_id);
  }

  private async portDeleted(portId: string, networkId: string): Promise<void> {
    const { driver } = this.deps;
    if ((await driver.state()).ports.includes(portId)) {
      await driver.unplugPort(portId, networkId);
      await this.refreshFirewall();
    }
    await this.syncDhcp(networkId);
    await this.dropUnwantedNetworks();
  }

  /** Security groups changed (rules or members): reapply the firewall of this host's ports in them. */
  private async groupsUpdated(ids: string[]): Promise<void> {
    const { core } = this.deps;
    // Ports in the groups, and ports in groups whose rules name them as remote groups (their members changed).
    const wanted = new Set([...ids, ...(await groupsReferring(core, ids))]);
    const affected = (await this.vmPortsHere()).filter((p) => p.security_groups.some((g) => wanted.has(g)));
    for (const p of affected) await this.plug(p);
    await this.refreshFirewall();
  }

  /** A network changed or went away: refresh its ports, DHCP and routers here, or remove it. */
  private async networkChanged(networkId: string): Promise<void> {
    const { core } = this.deps;
    const ports = (await this.vmPortsHere()).filter((p) => p.network_id === networkId);
    const statuses: Array<[Port, string]> = [];
    for (const p of ports) {
      const s = await this.plug(p);
      if (s && p.binding_host_id === this.deps.host) statuses.push([p, s]);
    }
    await this.syncDhcp(networkId);
    if (this.networkNode && this.deps.driver.routing) {
      await this.deps.driver.routing.ensureExternal(await externalSpecs(core));
      const routers = await core.db
        .selectFrom("network_port")
        .select("device_id")
        .where("network_id", "=", networkId)
        .where("device_owner", "in", ["network:router_interface", "network:router_gateway"])
        .execute();
      for (const r of new Set((routers as { device_id: string }[]).map((x) => x.device_id)))
        await this.routerChanged(r);
    }
    await this.dropUnwantedNetworks();
    await this.refreshFirewall();
    for (const [p, s] of statuses) await reportPortStatus(core, p, s);
  }

  /** Make a network's DHCP match the database (network nodes with a DHCP-capable driver). */
  private async syncDhcp(networkId: string): Promise<void> {
    const { core, host, driver } = this.deps;
    if (!this.networkNode || !driver.dhcp || !networkId) return;
    const spec = await dhcpSpec(core, networkId, host);
    if (!spec) {
      await driver.dhcp.removeDhcp(networkId);
      return;
    }
    const net = await this.netSpec(networkId);
    if (!net) return;
    // An external network's bridge is the public namespace's (made by the routing capability), not a host bridge.
    if (spec.external) {
      if (!driver.routing) return;
      await driver.routing.ensureExternal(await externalSpecs(core));
    } else await driver.ensureNetwork(net);
    await driver.dhcp.ensureDhcp({ ...spec, network: net });
    if (spec.port.adminStateUp) await setPortStatus(core, spec.port.id, "ACTIVE");
  }

  /** Make a router match the database, or remove it (network nodes with a routing-capable driver). */
  private async routerChanged(routerId: string): Promise<void> {
    const { core, driver } = this.deps;
    if (!this.networkNode || !driver.routing || !routerId) return;
    const router = await getRouter(core, routerId);
    if (!router || !router.admin_state_up) {
      await driver.routing.removeRouter(routerId);
      await this.dropUnwantedNetworks();
      return;
    }
    const spec = await routerSpec(core, router);
    for (const i of spec.interfaces) {
      const net = await this.netSpec(i.networkId);
      if (net) await driver.ensureNetwork(net);
    }
    if (spec.gateway) await driver.routing.ensureExternal(await externalSpecs(core));
    await driver.routing.ensureRouter(spec);
    // The router's ports are plugged now (Neutron's L3 agent reports them ACTIVE).
    for (const p of [...spec.interfaces.map((i) => i.portId), ...(spec.gateway ? [spec.gateway.portId] : [])])
      await setPortStatus(core, p, "ACTIVE");
    await this.dropUnwantedNetworks();
  }

  /** Remove the networks this host no longer carries. */
  private async dropUnwantedNetworks(): Promise<void> {
    const { driver } = this.deps;
    const wanted = await this.wantedNetworks();
    for (const id of (await driver.state()).networks) if (!wanted.has(id)) await driver.deleteNetwork(id);
  }

  /** Apply the firewall of every VM port plugged here (drivers with a firewall). */
  private async refreshFirewall(): Promise<void> {
    const { core, driver } = this.deps;
    if (!driver.firewall) return;
    const state = await driver.state();
    const plugged = new Set(state.ports);
    const ports = (await this.vmPortsHere()).filter((p) => plugged.has(p.id)).map(portSpec);
    const networks: NetworkSpec[] = [];
    for (const id of state.networks) {
      const n = await this.netSpec(id);
      if (n) networks.push(n);
    }
    const groups = await securityGroupSpecs(core, [...new Set(ports.flatMap((p) => p.securityGroupIds))]);
    await driver.firewall.applyFirewall({ networks, ports, groups: [...groups.values()] });
  }

  /** Make the data plane match the database for this host (removing what it no longer has); counts what changed. */
  async resync(): Promise<{ plugged: number; unplugged: number }> {
    const { core, driver } = this.deps;
    const ports = await this.vmPortsHere();
    const state = await driver.state();
    let plugged = 0;
    let unplugged = 0;
    const statuses: Array<[Port, string]> = [];
    // One object that cannot be built (a bad spec, a tool failing) must not keep the others from converging.
    const each = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        this.deps.log.error({ err, what }, "network agent: resync could not converge this");
      }
    };
    for (const p of ports)
      await each(`port ${p.id}`, async () => {
        if (!state.ports.includes(p.id)) plugged++;
        const s = await this.plug(p);
        if (s && p.binding_host_id === this.deps.host) statuses.push([p, s]);
      });
    const wanted = new Set(ports.map((p) => p.id));
    for (const id of state.ports)
      if (!wanted.has(id))
        await each(`port ${id}`, async () => {
          await driver.unplugPort(id, "");
          unplugged++;
        });
    if (this.networkNode && driver.dhcp) {
      const dhcp = new Set(await dhcpNetworkIds(core, true));
      for (const id of dhcp) await each(`DHCP of network ${id}`, () => this.syncDhcp(id));
      for (const id of await driver.dhcp.dhcpNetworks())
        if (!dhcp.has(id)) await each(`DHCP of network ${id}`, () => driver.dhcp!.removeDhcp(id));
    }
    if (this.networkNode && driver.routing) {
      const routing = driver.routing;
      await each("external networks", async () => routing.ensureExternal(await externalSpecs(core)));
      const routers = new Set(await routerIds(core));
      for (const id of routers) await each(`router ${id}`, () => this.routerChanged(id));
      for (const id of await routing.routers())
        if (!routers.has(id)) await each(`router ${id}`, () => routing.removeRouter(id));
    }
    await this.dropUnwantedNetworks();
    await this.refreshFirewall();
    for (const [p, s] of statuses) await reportPortStatus(core, p, s);
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
  id: "00000000-0000-0000-0000-000000000000",
  networkId: "00000000-0000-0000-0000-000000000000",
  macAddress: "",
  fixedIps: [],
  adminStateUp: true,
  portSecurityEnabled: true,
  allowedAddressPairs: [],
  securityGroupIds: [],
  deviceOwner: "",
  deviceId: "",
};
