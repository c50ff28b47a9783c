// A compute host's bridge of an external network, linked to the public namespace's bridge of that network by a
// veth pair (`pl<11 of the network id>` on both sides), so a VM port bound to the host on `public` reaches the
// public namespace (its gateway, its DHCP, `stratus public-exec`). The pair goes with either bridge's network.
import { ensureBridge, ensureVeth, getLink, setLink } from "./ip.js";
import { ensureNamespace, sysctl } from "./ip-netns.js";
import type { LinuxHost } from "./host.js";
import { bridgeName, safeId } from "./names.js";

/** The veth linking a host's bridge of an external network to the public namespace's (same name on both ends). */
export const publicLinkName = (networkId: string): string =>
  `pl${safeId(networkId, "network id").slice(0, 11)}`;

/**
 * Ensure the link between the host's bridge of external network `networkId` and the public namespace's bridge
 * (made, without addresses, if the network node has not made it yet).
 */
export async function ensurePublicLink(
  host: LinuxHost,
  publicNetns: string,
  networkId: string,
  mtu: number,
): Promise<void> {
  const br = bridgeName(networkId);
  const name = publicLinkName(networkId);
  await ensureNamespace(publicNetns);
  await ensureBridge(publicNetns, br, mtu);
  await ensureVeth(host.netns, { name, peerName: name, peerNetns: publicNetns, mtu, master: br });
  const far = await getLink(publicNetns, name);
  if (!far) throw new Error(`veth ${name} vanished in ${publicNetns}`);
  await setLink(publicNetns, far, { master: br });
  // The host keeps no address on its end (as on its bridges).
  await sysctl(host.netns, { [`net/ipv6/conf/${name}/disable_ipv6`]: "1" });
}
