// The `linux` network data plane: the building blocks an agent reconciles from the database. It knows nothing of
// the API or the DB; its inputs are the plain specs of model.ts, and every call is an idempotent "ensure" (bring
// the kernel to this state, changing only what differs) or "remove" (leave nothing behind), so an agent that
// restarts simply calls them again with what the DB says, and running guests see no flap.
//
// Wiring: driver.ts is the NetworkDriver the agent drives (registered as `linux`): layer 2 and taps on every host,
// plus the optional capabilities DHCP, routing (routers, floating IPs, port forwardings, the public namespace) and
// firewall, which the agent uses on network nodes (agent/agent.ts, agent/node-specs.ts). Per cloud, identity.ts
// derives from the data directory the namespace prefix (`s<8 hex>-`), the firewall tag (chains `stratus-<tag>-*`,
// sets `stv4-<tag>...`, table `bridge stratus<tag>`: firewall-names.ts) and the state directory, so clouds sharing a
// machine never touch each other's objects. inventory.ts records what the driver made (bridges, taps, conntrack
// zones, the fingerprints of the last firewall and of each router): a restart removes only its own objects and
// skips re-applying unchanged rules (same dnsmasq, bridges, taps, chains and counters). A port's binding names its
// tap (`tap` + 11 characters of the port id) and bridge (`brq` + 11 of the network id); the agent makes the tap
// (persistent, single queue) and QEMU opens it by name. A metadata proxy plugs in through the driver's `metadata`
// hooks, called for each DHCP namespace that carries 169.254.169.254.
//
// Design
//  - Where: a LinuxHost (host.ts) is the agent's own network namespace or a named one playing the host (tests, and
//    several "hosts" on one machine), plus a prefix for the namespaces it creates. Every tool runs through exec.ts:
//    execFile with an argv, never a shell; every id, name, address and MAC is validated before it reaches an argv
//    or a file (names.ts, addr.ts).
//  - Layer 2 (network.ts; iproute2 wrappers: ip.ts links, ip-addr.ts addresses and routes, ip-netns.ts namespaces
//    and sysctls, ip-vxlan.ts VXLAN and its flood list): a bridge `brq<net>` per network; VM ports are taps `tap<port>`
//    (single queue, optionally owned by QEMU's user) in it; the segment device links hosts: unicast VXLAN
//    `vxlan-<vni>` (learning off, one all-zeros fdb entry per peer host from the DB: head-end replication, no
//    multicast), a VLAN sub-interface `<phys>.<vid>`, or the physical interface itself (flat). The host has no
//    address and IPv6 off on all of them. Names follow Neutron's and fit IFNAMSIZ.
//  - DHCP (dhcp.ts, dhcp-files.ts, dnsmasq.ts, dhcp-options.ts): per network a namespace `qdhcp-<net>` with the DHCP
//    port as a veth (`tap<port>` in the bridge, `ns-<port>` inside) and one dnsmasq with a fixed command line; the
//    rest is in files: the config (ranges, subnet options: restart on change), hosts and options (SIGHUP on
//    change). Extra DHCP options are checked against injection (OSSA-2021-005). Metadata: 169.254.169.254/32 sits on
//    the DHCP port and a forced classless route (121/249) points guests at it (Neutron's force_metadata), so it
//    works with or without a router; a metadata proxy is to listen there. dnsmasq runs as nobody: its state
//    directory's path must be traversable by others. dnsmasq 2.90 aborts on SIGHUP after serving a tagged host
//    entry, so only ports with extra options are tagged and, while such entries are loaded, changes restart it.
//  - Security groups (firewall*.ts, iptables.ts): iptables in the host namespace, which sees bridged traffic through
//    br_netfilter (bridge-nf-call-iptables/ip6tables = 1, per namespace). Per port: physdev-matched chains,
//    default deny ingress, stateful (conntrack; each network's bridged traffic in its own conntrack zone), egress
//    rules, remote groups as ipsets swapped atomically, source IP+MAC anti-spoofing (allowed address pairs
//    included), DHCP server replies and router advertisements from guests dropped. The nft bridge family has no
//    conntrack on these kernels, so it only does stateless layer-2 checks in its own table `bridge stratus`: source
//    MAC, ARP sender MAC and IP, and only IPv4/IPv6/ARP frames (VLAN-tagged frames would bypass iptables). A resync
//    replaces only `stratus-*` chains (one iptables-restore transaction per table; after a first apply only the
//    chains whose rules changed, so the others keep their counters), `stv4-`/`stv6-` sets and that table (all
//    tagged per cloud when the driver has a tag); the host's other rules are untouched, and one jump per built-in
//    chain is kept first.
//  - Routers (router.ts, router-nat.ts): a namespace `qrouter-<id>` with forwarding on, `qr-<port>` veths into
//    tenant bridges, a `qg-<port>` veth into the external bridge carrying the external address and the floating IPs
//    (announced by gratuitous ARP), a default route via the external gateway, static routes (`proto static`), and
//    Neutron's NAT: DNAT+SNAT per floating IP, SNAT for the router's subnets when enabled, hairpin for internal
//    sources only; port forwardings DNAT a floating IP's port to an internal address and port. Conntrack entries of
//    floating IPs that went away or moved are deleted.
//  - Public network (public.ts): the external network is a bridge inside a namespace of its own (the driver's
//    `<prefix>public`; `stratus-public` when called without one),
//    holding the external gateway address and linked to no real interface: guest traffic never leaves the machine.
//    `publicExec`/`publicCommand` run commands there (the basis of `stratus public-exec -- CMD`).
//    A compute host's bridge of an external network is linked to that bridge by a veth (public-link.ts); the
//    operator may opt in to a NATed route out through a host interface (uplink.ts, `network.publicUplink`).
//
// Needs: iproute2, bridge, dnsmasq (dnsmasq-base), dhcp_release (dnsmasq-utils), iptables/ip6tables (-restore),
// ipset, nft, conntrack, sysctl, and arping (iputils-arping, optional: gratuitous ARP); root.
export * from "./model.js";
export type { LinuxHost } from "./host.js";
export { InvalidSpec, LinuxNetError, CommandFailed } from "./errors.js";
export { ensureNetwork, removeNetwork, plugTap, unplugTap } from "./network.js";
export type { DhcpSpec } from "./dhcp-files.js";
export { ensureDhcp, removeDhcp, dhcpRunning, dhcpPaths } from "./dhcp.js";
export { validateExtraDhcpOpts } from "./dhcp-options.js";
export type { FirewallSpec } from "./firewall-rules.js";
export { applyFirewall, removeFirewall } from "./firewall.js";
export { LinuxDriver, linuxBinding, type LinuxDriverOptions, type MetadataHooks } from "./driver.js";
export { cloudNetIdentity, publicNamespace, type CloudNetIdentity } from "./identity.js";
export { ensureRouter, removeRouter, routerNs, type BridgeRef } from "./router.js";
export {
  ensurePublic,
  removePublic,
  publicExec,
  publicCommand,
  PUBLIC_NETNS,
  type PublicSpec,
} from "./public.js";
