// The `linux` NetworkDriver: the agent's specs (drivers/types.ts) mapped onto the building blocks of this
// directory. Layer 2 (bridges, taps, VXLAN) on every host; DHCP, routers and the public namespace through the
// optional capabilities, which the agent uses on network nodes; the firewall of the host's ports. What it made
// is recorded in its inventory (inventory.ts), so a restart finds its own objects again, removes only those, and
// skips re-applying unchanged firewall and router rules (no flap, counters kept).
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type {
  DataPlaneState,
  DhcpCapability,
  DhcpNetworkSpec,
  ExternalNetworkSpec,
  FirewallCapability,
  HostFirewallSpec,
  NetworkDriver,
  NetworkSpec,
  PortSpec,
  RouterCapability,
  RouterSpec,
  VifBinding,
} from "../types.js";
import { ensureDhcp, removeDhcp } from "./dhcp.js";
import { servedSubnets } from "./dhcp-files.js";
import { findTool } from "./exec.js";
import { applyFirewall, removeFirewall } from "./firewall.js";
import { chainPrefix } from "./firewall-names.js";
import { buildFamilyRules } from "./firewall-rules.js";
import type { LinuxHost } from "./host.js";
import { publicNamespace } from "./identity.js";
import { Inventory } from "./inventory.js";
import { deleteLink, getLink, listLinks } from "./ip.js";
import { deleteNamespace, listNamespaces, namespaceExists } from "./ip-netns.js";
import { ourChains } from "./iptables.js";
import type * as M from "./model.js";
import {
  bridgeName,
  dhcpNamespace,
  gatewayPortName,
  routerNamespace,
  routerPortName,
  safeIfName,
  tapName,
  vxlanName,
} from "./names.js";
import { ensureNetwork, plugTap, unplugTap } from "./network.js";
import { ensurePublic, removePublic } from "./public.js";
import { ensurePublicLink, publicLinkName } from "./public-link.js";
import { ensureUplink, removeUplink } from "./uplink.js";
import { ensureRouter, removeRouter } from "./router.js";

/** Hooks of the metadata proxy, which listens at 169.254.169.254:80 inside each DHCP namespace that carries it. */
export interface MetadataHooks {
  /** The network's DHCP namespace (with 169.254.169.254 on its port) exists or was re-ensured. */
  ensure(networkId: string, netns: string): Promise<void>;
  /** The network's DHCP namespace goes away. */
  remove(networkId: string): Promise<void>;
}

/** Options of the linux driver. */
export interface LinuxDriverOptions {
  /** Prefix of every namespace the driver creates (per cloud: see identity.ts). */
  prefix: string;
  /** dnsmasq files and the inventory (traversable by `nobody`). */
  stateDir: string;
  /** Tag of the firewall's chains, sets and table (per cloud; default none: the namespace is this driver's alone). */
  firewallTag?: string;
  /** A named namespace playing the host (tests, several hosts on one machine); default the agent's own. */
  hostNetns?: string;
  /** Physical network -> host interface, for flat and VLAN networks (an unmapped one is a host-local bridge). */
  physicalInterfaces?: Record<string, string>;
  /** User id allowed to open the taps (QEMU's user; default root only). */
  tapOwner?: number;
  /** The metadata proxy (the lead wires it). */
  metadata?: MetadataHooks;
  /** Opt-in route out of the public namespace through this host interface, NATed (uplink.ts; default none). */
  publicUplink?: { interface: string };
}

const TOOLS = [
  "ip",
  "bridge",
  "dnsmasq",
  "iptables-restore",
  "ip6tables-restore",
  "ipset",
  "nft",
  "conntrack",
];

/** The binding of a port on a linux host: a tap QEMU opens by name, in the network's bridge. */
export function linuxBinding(portId: string, networkId: string, portFilter: boolean): VifBinding {
  const vifDetails: Record<string, unknown> = { connectivity: "l2", port_filter: portFilter };
  if (portId && networkId) {
    vifDetails.tap_name = tapName(portId);
    vifDetails.bridge_name = bridgeName(networkId);
  }
  return { vifType: "tap", vifDetails };
}

/** The data plane of one Linux host. */
export class LinuxDriver implements NetworkDriver {
  readonly name = "linux";
  readonly realDataPlane = true;
  readonly host: LinuxHost;
  readonly publicNetns: string;
  private readonly inventory: Inventory;
  /** Whether this process has seen the kernel's chains match the inventory's firewall. */
  private firewallVerified = false;
  readonly dhcp: DhcpCapability;
  readonly routing: RouterCapability;
  readonly firewall: FirewallCapability;

  constructor(readonly opts: LinuxDriverOptions) {
    this.host = {
      netns: opts.hostNetns,
      nsPrefix: opts.prefix,
      stateDir: opts.stateDir,
      firewallTag: opts.firewallTag,
    };
    this.publicNetns = publicNamespace(opts.prefix);
    // Conntrack zones start at a point of the tag, so two clouds sharing the namespace rarely share a zone.
    const zoneBase = opts.firewallTag ? 1 + (parseInt(opts.firewallTag.slice(0, 4), 16) % 60000 || 0) : 1;
    this.inventory = new Inventory(join(opts.stateDir, "inventory.json"), zoneBase);
    this.dhcp = {
      ensureDhcp: (s) => this.ensureDhcp(s),
      removeDhcp: (id) => this.removeDhcp(id),
      dhcpNetworks: () => this.namespaced("qdhcp-"),
    };
    this.routing = {
      ensureExternal: (n) => this.ensureExternal(n),
      ensureRouter: (s) => this.ensureRouter(s),
      removeRouter: (id) => this.removeRouter(id),
      routers: () => this.namespaced("qrouter-"),
    };
    this.firewall = { applyFirewall: (s) => this.applyFirewall(s) };
  }

  async init(_host: string): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("the linux network driver needs root");
    const missing = TOOLS.filter((t) => !findTool(t));
    if (missing.length) throw new Error(`the linux network driver needs ${missing.join(", ")}`);
    mkdirSync(this.opts.stateDir, { recursive: true, mode: 0o755 });
    // A misnamed uplink fails the start, not every later router update.
    const up = this.opts.publicUplink?.interface;
    if (up && !(await getLink(this.host.netns, safeIfName(up))))
      throw new Error(`network.publicUplink: interface ${up} does not exist on this host`);
  }

  binding(port: PortSpec): VifBinding {
    return linuxBinding(port.id, port.networkId, port.portSecurityEnabled);
  }

  /** The building blocks' view of a network on this host. */
  private model(net: NetworkSpec): M.NetworkSpec {
    const { segment } = net;
    const base = { id: net.id, mtu: net.mtu, ctZone: this.inventory.zone(net.id) };
    const physIf =
      segment.physicalNetwork && this.opts.physicalInterfaces
        ? Object.hasOwn(this.opts.physicalInterfaces, segment.physicalNetwork)
          ? this.opts.physicalInterfaces[segment.physicalNetwork]
          : undefined
        : undefined;
    const peers = net.vxlanPeers ?? [];
    if (segment.networkType === "vxlan" && net.vxlanLocal && peers.length && segment.segmentationId)
      return {
        ...base,
        segmentation: "vxlan",
        segmentationId: segment.segmentationId,
        vxlanLocal: net.vxlanLocal,
        vxlanPeers: peers,
      };
    if ((segment.networkType === "flat" || segment.networkType === "vlan") && physIf)
      return {
        ...base,
        segmentation: segment.networkType,
        segmentationId: segment.segmentationId ?? undefined,
        physicalInterface: physIf,
      };
    return { ...base, segmentation: "local" };
  }

  async ensureNetwork(net: NetworkSpec): Promise<void> {
    const m = this.model(net);
    await ensureNetwork(this.host, m);
    // A guest on an external network reaches the public namespace through a veth between the two bridges.
    if (net.external) await ensurePublicLink(this.host, this.publicNetns, net.id, net.mtu);
    // A VXLAN network whose last peer went away keeps no tunnel device.
    if (m.segmentation !== "vxlan" && net.segment.networkType === "vxlan" && net.segment.segmentationId)
      await this.deleteOwnedLink(vxlanName(net.segment.segmentationId), bridgeName(net.id));
  }

  /** Delete a link only when it is plugged into our bridge (another cloud may use the same VNI name). */
  private async deleteOwnedLink(name: string, bridge: string): Promise<void> {
    const l = await getLink(this.host.netns, name);
    if (l?.master === bridge) await deleteLink(this.host.netns, name);
  }

  async deleteNetwork(networkId: string): Promise<void> {
    for (const p of this.inventory.ports())
      if (this.inventory.portNetwork(p) === networkId) await this.unplugPort(p);
    const br = bridgeName(networkId);
    await this.deleteOwnedLink(publicLinkName(networkId), br);
    for (const l of await listLinks(this.host.netns))
      if (l.master === br && ["vxlan", "vlan"].includes(l.linkinfo?.info_kind ?? ""))
        await deleteLink(this.host.netns, l.ifname);
    await deleteLink(this.host.netns, br);
    this.inventory.dropNetwork(networkId);
  }

  async plugPort(port: PortSpec, net: NetworkSpec): Promise<void> {
    // Administratively down (the port's or its network's admin_state_up false): the tap is down, the guest cut off.
    await plugTap(
      this.host,
      this.model(net),
      port.id,
      this.opts.tapOwner,
      port.adminStateUp && net.adminStateUp,
    );
    this.inventory.addPort(port.id, net.id);
  }

  /** Remove a port's tap when it is ours (a device of that name not in the inventory is left alone). */
  async unplugPort(portId: string): Promise<void> {
    if (this.inventory.portNetwork(portId) === undefined) return;
    await unplugTap(this.host, portId);
    this.inventory.dropPort(portId);
  }

  async state(): Promise<DataPlaneState> {
    return { networks: this.inventory.networks(), ports: this.inventory.ports() };
  }

  /** Stop: the data plane stays, but the operator's uplink (a way off the machine) does not outlive the cloud. */
  async close(): Promise<void> {
    if (this.opts.publicUplink) await removeUplink(this.host, this.opts.firewallTag ?? "");
  }

  /**
   * Remove everything of this cloud from the host (its cloud should be stopped): DHCP servers, routers, the public
   * namespace and every other namespace with its prefix, its taps and bridges, its firewall, its state directory.
   * Returns what was removed, one line each.
   */
  async wipe(): Promise<string[]> {
    const done: string[] = [];
    if (await removeUplink(this.host, this.opts.firewallTag ?? "")) done.push("public uplink");
    for (const id of await this.namespaced("qdhcp-")) {
      await this.removeDhcp(id);
      done.push(`dhcp ${id}`);
    }
    for (const ns of await listNamespaces())
      if (ns.startsWith(this.opts.prefix)) {
        await deleteNamespace(ns);
        done.push(`namespace ${ns}`);
      }
    for (const id of this.inventory.networks()) {
      await this.deleteNetwork(id);
      done.push(`bridge ${bridgeName(id)}`);
    }
    for (const p of this.inventory.ports()) await this.unplugPort(p);
    if (
      this.inventory.firewall !== null ||
      (await ourChains(this.host.netns, 4, "filter", this.chainPrefix)).length
    ) {
      await removeFirewall(this.host);
      done.push("firewall");
    }
    rmSync(this.opts.stateDir, { recursive: true, force: true });
    return done;
  }

  /** Ids of the namespaces of one kind (`qdhcp-`, `qrouter-`) this cloud has. */
  private async namespaced(kind: string): Promise<string[]> {
    const start = `${this.opts.prefix}${kind}`;
    return (await listNamespaces()).filter((n) => n.startsWith(start)).map((n) => n.slice(start.length));
  }

  private async ensureDhcp(spec: DhcpNetworkSpec): Promise<void> {
    const d: M.PortSpec[] = spec.ports.map(modelPort);
    const dhcp = {
      network: this.model(spec.network),
      subnets: spec.subnets,
      port: modelPort(spec.port),
      ports: d,
      metadata: false,
    };
    dhcp.metadata = servedSubnets(dhcp).some((s) => s.ipVersion === 4);
    // An external network's bridge is inside the public namespace: the DHCP port's near end goes there.
    await ensureDhcp(spec.external ? { ...this.host, netns: this.publicNetns } : this.host, dhcp);
    const ns = dhcpNamespace(this.opts.prefix, spec.network.id);
    if (dhcp.metadata) await this.opts.metadata?.ensure(spec.network.id, ns);
    else await this.opts.metadata?.remove(spec.network.id);
  }

  private async removeDhcp(networkId: string): Promise<void> {
    await this.opts.metadata?.remove(networkId);
    await removeDhcp(this.host, networkId);
  }

  private async ensureExternal(nets: ExternalNetworkSpec[]): Promise<void> {
    if (!nets.length) {
      await removeUplink(this.host, this.opts.firewallTag ?? "");
      if (await namespaceExists(this.publicNetns)) await removePublic(this.publicNetns);
      return;
    }
    const uplink = this.opts.publicUplink;
    for (const n of nets)
      await ensurePublic({
        networkId: n.network.id,
        mtu: n.network.mtu,
        gatewayCidrs: n.gatewayCidrs,
        netns: this.publicNetns,
        forward: !!uplink,
      });
    if (uplink)
      await ensureUplink(this.host, this.publicNetns, uplink.interface, this.opts.firewallTag ?? "");
    else await removeUplink(this.host, this.opts.firewallTag ?? "");
    // This host's own bridges of external networks (their link goes when the public namespace is recreated).
    const here = new Set(this.inventory.networks());
    for (const n of nets)
      if (here.has(n.network.id) && (await getLink(this.host.netns, bridgeName(n.network.id))))
        await ensurePublicLink(this.host, this.publicNetns, n.network.id, n.network.mtu);
    const wanted = new Set(nets.map((n) => bridgeName(n.network.id)));
    for (const l of await listLinks(this.publicNetns))
      if (l.linkinfo?.info_kind === "bridge" && !wanted.has(l.ifname))
        await deleteLink(this.publicNetns, l.ifname);
  }

  private async ensureRouter(spec: RouterSpec): Promise<void> {
    const fingerprint = JSON.stringify(spec);
    const ns = routerNamespace(this.opts.prefix, spec.id);
    // Unchanged since the last apply and still there (its namespace and every port: a veth whose other end went,
    // with the public namespace say, is gone too): nothing is touched (NAT counters and conntrack kept).
    if (this.inventory.router(spec.id) === fingerprint && (await this.routerPresent(ns, spec))) return;
    const ext = spec.gateway
      ? { bridge: bridgeName(spec.gateway.networkId), netns: this.publicNetns }
      : undefined;
    await ensureRouter(this.host, spec, ext);
    this.inventory.setRouter(spec.id, fingerprint);
  }

  private async routerPresent(ns: string, spec: RouterSpec): Promise<boolean> {
    if (!(await namespaceExists(ns))) return false;
    const links = new Set((await listLinks(ns)).map((l) => l.ifname));
    const want = [
      ...spec.interfaces.map((i) => routerPortName(i.portId)),
      ...(spec.gateway ? [gatewayPortName(spec.gateway.portId)] : []),
    ];
    return want.every((n) => links.has(n));
  }

  private async removeRouter(routerId: string): Promise<void> {
    await removeRouter(this.host, routerId);
    this.inventory.setRouter(routerId, null);
  }

  private async applyFirewall(spec: HostFirewallSpec): Promise<void> {
    if (!spec.ports.length && !spec.networks.length) {
      if (
        this.inventory.firewall !== null ||
        (await ourChains(this.host.netns, 4, "filter", this.chainPrefix)).length
      )
        await removeFirewall(this.host);
      this.inventory.firewall = null;
      return;
    }
    const fw = {
      networks: spec.networks.map((n) => this.model(n)),
      ports: spec.ports.map(modelPort),
      groups: spec.groups,
      tag: this.opts.firewallTag ?? "",
    };
    const fingerprint = JSON.stringify(fw);
    // Unchanged: nothing is touched. The chains are checked against the kernel once per process (at the agent's
    // resync); after that the fingerprint of what this process applied is trusted.
    if (
      this.inventory.firewall === fingerprint &&
      (this.firewallVerified || (await this.chainsPresent(fw)))
    ) {
      this.firewallVerified = true;
      return;
    }
    await applyFirewall(this.host, fw);
    this.inventory.firewall = fingerprint;
    this.firewallVerified = true;
  }

  private get chainPrefix(): string {
    return chainPrefix(this.opts.firewallTag ?? "");
  }

  /** Whether exactly the chains `fw` makes exist (the rules inside are trusted to the fingerprint). */
  private async chainsPresent(fw: Parameters<typeof buildFamilyRules>[0]): Promise<boolean> {
    for (const v of [4, 6] as const) {
      const want = buildFamilyRules(fw, v);
      for (const table of ["filter", "raw"] as const) {
        const have = (await ourChains(this.host.netns, v, table, this.chainPrefix)).sort();
        if (JSON.stringify(have) !== JSON.stringify([...want[table].chains].sort())) return false;
      }
    }
    return true;
  }
}

/** The building blocks' view of a port. */
function modelPort(p: PortSpec): M.PortSpec {
  return {
    id: p.id,
    networkId: p.networkId,
    mac: p.macAddress,
    fixedIps: p.fixedIps.map((f) => ({ subnetId: f.subnetId, address: f.ipAddress })),
    deviceOwner: p.deviceOwner,
    securityGroups: p.securityGroupIds,
    allowedAddressPairs: p.allowedAddressPairs.map((a) => ({
      ipAddress: a.ipAddress,
      macAddress: a.macAddress || undefined,
    })),
    portSecurity: p.portSecurityEnabled,
    extraDhcpOpts: p.extraDhcpOpts ?? [],
  };
}
