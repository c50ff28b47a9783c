// A router: a namespace `qrouter-<id>` with forwarding on, a `qr-<port>` veth into each tenant network's bridge
// carrying the subnet gateway address, a `qg-<port>` veth into the external network's bridge carrying the router's
// external address and its floating IPs, a default route via the external subnet's gateway, its static routes
// (marked `proto static`, so stale ones are found and removed), and NAT (router-nat.ts; UDP-Lite port forwardings
// in an nft table, router-udplite.ts). `ensureRouter` is the whole reconcile and changes only what differs;
// conntrack entries of floating IPs that went away or moved are deleted so their connections end. `removeRouter` deletes the namespace, which takes every veth with it.
import { spawn } from "node:child_process";
import { macText, parseCidr } from "./addr.js";
import { commandLine, findTool, run } from "./exec.js";
import { nsPrefix, type LinuxHost } from "./host.js";
import { deleteLink, ensureVeth, ipIn, listLinks } from "./ip.js";
import { deleteRoute, ensureAddresses, ensureRoute, listRoutes } from "./ip-addr.js";
import { deleteNamespace, ensureNamespace, sysctl } from "./ip-netns.js";
import { ensureJumpFirst, replaceChains } from "./iptables.js";
import type { RouterSpec } from "./model.js";
import {
  bridgeName,
  gatewayPortName,
  routerNamespace,
  routerPortName,
  safeIfName,
  tapName,
} from "./names.js";
import { disableIpv6 } from "./network.js";
import { currentFloatingMap, NAT_CHAINS, natRules } from "./router-nat.js";
import { udpliteTableText } from "./router-udplite.js";
import { KeyedLock } from "../../../shared/keyed-lock.js";

const locks = new KeyedLock();

/** Where a bridge lives: its name and namespace (undefined: the host's). */
export interface BridgeRef {
  bridge: string;
  netns?: string;
}

/** The namespace of a router on this host. */
export const routerNs = (host: LinuxHost, routerId: string): string =>
  routerNamespace(nsPrefix(host), routerId);

/**
 * Ensure a router matches `spec`. Tenant bridges are the host's `brq<network>`; the external bridge is `external`
 * (default: the host's bridge of the gateway's network; the public network lives in its own namespace, public.ts).
 */
export function ensureRouter(host: LinuxHost, spec: RouterSpec, external?: BridgeRef): Promise<void> {
  return locks.run(spec.id, () => ensureLocked(host, spec, external));
}

async function ensureLocked(host: LinuxHost, spec: RouterSpec, external?: BridgeRef): Promise<void> {
  const ns = routerNs(host, spec.id);
  const nat = natRules(spec); // validates before anything changes
  const udplite = udpliteTableText(spec);
  await ensureNamespace(ns);
  await sysctl(ns, { "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" });
  // NAT before the gateway's addresses (as Neutron's L3 agent): a floating IP added first would be answered by the
  // router itself (ping, TCP resets) until its DNAT rule exists.
  await applyNat(ns, spec, nat);
  await run(["nft", "-f", "-"], { netns: ns, input: udplite });
  // Conntrack's UDP-Lite checksum check rejects packets whose checksum is still partial (guests and namespaces on
  // veths send them so; their receiver verifies it), and an invalid packet is never NATed: the router does not check.
  await sysctl(ns, { "net.netfilter.nf_conntrack_checksum": "0" }).catch(() => undefined);

  const wanted = new Set<string>();
  for (const i of spec.interfaces) {
    const qr = routerPortName(i.portId);
    wanted.add(qr);
    const near = tapName(i.portId);
    await ensureVeth(host.netns, {
      name: near,
      peerName: qr,
      peerNetns: ns,
      mtu: i.mtu,
      master: bridgeName(i.networkId),
      peerMac: i.mac,
    });
    await disableIpv6(host, [near]);
    await ensureAddresses(ns, qr, i.addresses);
  }
  const gw = spec.gateway;
  if (gw) {
    const qg = gatewayPortName(gw.portId);
    wanted.add(qg);
    const ext = external ?? { bridge: bridgeName(gw.networkId), netns: host.netns };
    const near = tapName(gw.portId);
    await ensureVeth(ext.netns, {
      name: near,
      peerName: qg,
      peerNetns: ns,
      mtu: gw.mtu,
      master: ext.bridge,
      peerMac: gw.mac,
    });
    await sysctl(ext.netns, { [`net/ipv6/conf/${near}/disable_ipv6`]: "1" });
    const fips = [
      ...new Set([...spec.floatingIps, ...(spec.portForwardings ?? [])].map((f) => `${f.floatingIp}/32`)),
    ];
    const added = await ensureAddresses(ns, qg, [...gw.addresses, ...fips]);
    await refreshNeighbours(ext, gw.mac, added);
    announce(ns, qg, added);
  }
  for (const l of await listLinks(ns)) {
    if (/^q[rg]-/.test(l.ifname) && !wanted.has(l.ifname)) await deleteLink(ns, l.ifname);
  }
  await ensureRoutes(ns, spec);
}

/** Gratuitous ARP for addresses just added to the gateway port (as Neutron's L3 agent sends), so neighbours whose
 *  cache holds a failed or stale entry for a floating IP reach its new owner. Best effort and not waited for
 *  (iputils arping needs a second to finish); arping ends by itself, or with the namespace. */
function announce(ns: string, dev: string, cidrs: readonly string[]): void {
  if (!findTool("arping")) return;
  for (const c of cidrs.map((x) => parseCidr(x)).filter((x) => x.version === 4)) {
    const argv = commandLine(["arping", "-q", "-U", "-c", "2", "-w", "2", "-I", dev, c.address], ns);
    const child = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
    child.on("error", () => undefined);
    child.unref();
  }
}

/** When the external bridge is in a namespace of ours (the public network), point its neighbour entries for the
 *  new addresses at the gateway port at once (stale: verified on first use), without waiting for the ARP. */
async function refreshNeighbours(ext: BridgeRef, mac: string, cidrs: readonly string[]): Promise<void> {
  if (!ext.netns) return;
  for (const c of cidrs.map((x) => parseCidr(x)).filter((x) => x.version === 4)) {
    const args = [
      "neigh",
      "replace",
      c.address,
      "lladdr",
      macText(mac),
      "dev",
      safeIfName(ext.bridge),
      "nud",
      "stale",
    ];
    await run([...ipIn(ext.netns), ...args]);
  }
}

async function ensureRoutes(ns: string, spec: RouterSpec): Promise<void> {
  const gw = spec.gateway;
  for (const v of [4, 6] as const) {
    const gwIp = gw?.gatewayIp && parseCidr(gw.gatewayIp).version === v ? gw.gatewayIp : null;
    if (gw && gwIp)
      await ensureRoute(ns, {
        destination: v === 4 ? "0.0.0.0/0" : "::/0",
        via: gwIp,
        dev: gatewayPortName(gw.portId),
      });
    else for (const r of await listRoutes(ns, v)) if (r.dst === "default") await deleteRoute(ns, v, r);
    const want = spec.routes.filter((r) => parseCidr(r.destination).version === v);
    const have = await listRoutes(ns, v, "static");
    for (const r of want)
      await ensureRoute(ns, { destination: r.destination, via: r.nexthop, proto: "static" });
    const keep = new Set(want.map((r) => `${canonical(r.destination)} ${r.nexthop}`));
    for (const r of have) if (!keep.has(`${canonical(r.dst)} ${r.gateway}`)) await deleteRoute(ns, v, r);
  }
}

const canonical = (dst: string) => {
  if (dst === "default") return "default";
  const c = parseCidr(dst);
  return c.prefix === 0 ? "default" : `${c.address}/${c.prefix}`;
};

async function applyNat(
  ns: string,
  spec: RouterSpec,
  nat: { chains: string[]; rules: string[] },
): Promise<void> {
  const before = currentFloatingMap((await run(["iptables-save", "-t", "nat"], { netns: ns })).stdout);
  await replaceChains(ns, 4, "nat", nat);
  await ensureJumpFirst(ns, 4, "nat", "PREROUTING", NAT_CHAINS.prerouting);
  await ensureJumpFirst(ns, 4, "nat", "OUTPUT", NAT_CHAINS.output);
  await ensureJumpFirst(ns, 4, "nat", "POSTROUTING", NAT_CHAINS.postrouting);
  const now = new Map(spec.floatingIps.map((f) => [f.floatingIp, f.fixedIp]));
  for (const [fip, fixed] of before) {
    if (now.get(fip) === fixed) continue;
    // Connections through a floating IP that went away or moved must end (conntrack would keep them going).
    await run(["conntrack", "-D", "--orig-dst", fip], { netns: ns, okCodes: [0, 1] });
    await run(["conntrack", "-D", "--reply-dst", fip], { netns: ns, okCodes: [0, 1] });
  }
}

/** Remove a router: its namespace, and with it every veth, route, NAT rule and conntrack entry. */
export function removeRouter(host: LinuxHost, routerId: string): Promise<void> {
  return locks.run(routerId, async () => {
    // (deleteNamespace removes the veths first, so their bridge-side ends are gone when this returns.)
    await deleteNamespace(routerNs(host, routerId));
  });
}
