// A network's layer 2 on one host: its bridge `brq<id>`, the segment device that links it to other hosts
// (a VXLAN device, a VLAN sub-interface, or the physical interface itself for flat networks; none for local), and
// the taps QEMU opens for the network's ports. The host keeps no IP address on any of them (IPv6 off, so guests
// cannot reach the host through a link-local address).
import { InvalidSpec } from "./errors.js";
import { run } from "./exec.js";
import type { LinuxHost } from "./host.js";
import { deleteLink, ensureBridge, ensureTap, getLink, ipIn, setLink } from "./ip.js";
import { ensureFloodPeers, ensureVxlan } from "./ip-vxlan.js";
import { sysctl } from "./ip-netns.js";
import { bridgeName, safeIfName, tapName, vlanName, vxlanName } from "./names.js";
import type { NetworkSpec } from "./model.js";

/** Turn IPv6 off on host-side devices (bridges, taps, segment devices): the host must not be on tenant networks. */
export async function disableIpv6(host: LinuxHost, devs: readonly string[]): Promise<void> {
  const keys = Object.fromEntries(devs.map((d) => [`net/ipv6/conf/${safeIfName(d)}/disable_ipv6`, "1"]));
  await sysctl(host.netns, keys);
}

/** The segment device of a network on this host (null for local networks). */
export function segmentDevice(net: NetworkSpec): string | null {
  switch (net.segmentation) {
    case "local":
      return null;
    case "flat":
      if (!net.physicalInterface) throw new InvalidSpec(`flat network ${net.id} has no physical interface`);
      return safeIfName(net.physicalInterface);
    case "vlan":
      if (!net.physicalInterface) throw new InvalidSpec(`vlan network ${net.id} has no physical interface`);
      return vlanName(net.physicalInterface, net.segmentationId ?? 0);
    case "vxlan":
      return vxlanName(net.segmentationId ?? 0);
  }
}

/** Ensure a network's bridge and segment device on this host. Returns the bridge name. */
export async function ensureNetwork(host: LinuxHost, net: NetworkSpec): Promise<string> {
  const br = bridgeName(net.id);
  await ensureBridge(host.netns, br, net.mtu);
  const seg = segmentDevice(net);
  if (net.segmentation === "vxlan") {
    if (!net.vxlanLocal) throw new InvalidSpec(`vxlan network ${net.id} has no local tunnel address`);
    const spec = {
      vni: net.segmentationId ?? 0,
      local: net.vxlanLocal,
      device: net.vxlanDevice,
      mtu: net.mtu,
    };
    await ensureVxlan(host.netns, { ...spec, master: br });
    await ensureFloodPeers(host.netns, seg!, net.vxlanPeers ?? []);
  } else if (net.segmentation === "vlan") {
    await ensureVlan(host, net.physicalInterface!, net.segmentationId ?? 0, net.mtu, br);
  } else if (net.segmentation === "flat") {
    const phys = await getLink(host.netns, seg!);
    if (!phys) throw new InvalidSpec(`physical interface ${seg} of network ${net.id} does not exist`);
    await setLink(host.netns, phys, { master: br, up: true });
  }
  await disableIpv6(host, seg && net.segmentation !== "flat" ? [br, seg] : [br]);
  return br;
}

async function ensureVlan(
  host: LinuxHost,
  phys: string,
  vid: number,
  mtu: number,
  br: string,
): Promise<void> {
  const name = vlanName(phys, vid);
  let link = await getLink(host.netns, name);
  const d = link?.linkinfo?.info_data;
  if (link && (link.linkinfo?.info_kind !== "vlan" || d?.id !== vid)) {
    await deleteLink(host.netns, name);
    link = null;
  }
  if (!link) {
    await run([
      ...ipIn(host.netns),
      "link",
      "add",
      "link",
      safeIfName(phys),
      "name",
      name,
      "type",
      "vlan",
      "id",
      String(vid),
    ]);
    link = await getLink(host.netns, name);
    if (!link) throw new Error(`vlan ${name} vanished after creation`);
  }
  await setLink(host.netns, link, { mtu, master: br, up: true });
}

/** Remove a network from this host: its segment device (a flat network's interface is only unplugged) and bridge. */
export async function removeNetwork(host: LinuxHost, net: NetworkSpec): Promise<void> {
  const seg = segmentDevice(net);
  if (seg && net.segmentation === "flat") {
    const phys = await getLink(host.netns, seg);
    if (phys) await setLink(host.netns, phys, { master: null });
  } else if (seg) await deleteLink(host.netns, seg);
  await deleteLink(host.netns, bridgeName(net.id));
}

/**
 * Ensure a VM port's tap (for QEMU) in its network's bridge, with the network's MTU, up unless `up` is false
 * (administratively down). Returns the tap name.
 */
export async function plugTap(
  host: LinuxHost,
  net: NetworkSpec,
  portId: string,
  owner?: number,
  up = true,
): Promise<string> {
  const name = tapName(portId);
  await ensureTap(host.netns, { name, mtu: net.mtu, master: bridgeName(net.id), owner, up });
  await disableIpv6(host, [name]);
  return name;
}

/** Remove a VM port's tap. */
export async function unplugTap(host: LinuxHost, portId: string): Promise<void> {
  await deleteLink(host.netns, tapName(portId));
}
