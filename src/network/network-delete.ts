// Deleting a network as Neutron does: refused (409 NetworkInUse) while ports other than its DHCP ports and the
// ports of its unassociated floating IPs use it; otherwise those ports (and floating IPs), subnets, segment, RBAC
// entries and tags go with it, in one transaction, and the agents are told.
import type { NetworkCore } from "./core.js";
import { conflict } from "./errors.js";
import { FLOATINGIP_OWNER } from "./floating.js";
import type { Network } from "./store/networks.js";
import { deleteNetworkRow } from "./store/networks.js";
import { deleteFloatingIpRows, floatingIpsOfFloatingPorts, forwardingsOf } from "./store/floatingips.js";
import { deletePortRows, portsOfNetwork } from "./store/ports.js";
import { deleteRbacOf } from "./store/rbac.js";
import { deleteSegments } from "./store/segments.js";
import { deleteSubnetRow, subnetsOfNetworks } from "./store/subnets.js";
import { removeTags } from "./store/tags.js";

/** Device owners of ports the service itself made for a network, deleted with it. */
const AUTO_DELETED = new Set(["network:dhcp"]);

/** Delete a network and what belongs to it; 409 while other ports use it. */
export async function deleteNetworkCascade(core: NetworkCore, net: Network): Promise<void> {
  const removed = await core.transaction(async (c) => {
    const ports = await portsOfNetwork(c, net.id);
    // An external network's floating IPs that nothing uses (no fixed port, no port forwarding) go with it.
    const fips = await floatingIpsOfFloatingPorts(
      c,
      ports.filter((p) => p.device_owner === FLOATINGIP_OWNER).map((p) => p.id),
    );
    const idle = new Set<string>();
    for (const f of fips)
      if (!f.fixed_port_id && !(await forwardingsOf(c, f.id)).length) idle.add(f.floating_port_id);
    if (ports.some((p) => !AUTO_DELETED.has(p.device_owner) && !idle.has(p.id)))
      throw conflict(
        "NetworkInUse",
        `Unable to complete operation on network ${net.id}. There are one or more ports still in use on the network.`,
      );
    for (const f of fips) {
      await deleteFloatingIpRows(c, f.id);
      await removeTags(c, "floatingips", f.id);
    }
    for (const p of ports) {
      await deletePortRows(c, p.id);
      await removeTags(c, "ports", p.id);
    }
    for (const s of await subnetsOfNetworks(c, [net.id])) {
      await deleteSubnetRow(c, s.id);
      await removeTags(c, "subnets", s.id);
    }
    await deleteSegments(c, net.id);
    await deleteRbacOf(c, "network", net.id);
    await removeTags(c, "networks", net.id);
    await deleteNetworkRow(c, net.id);
    return ports;
  });
  for (const p of removed) core.notify.portDeleted(p.id, net.id);
  core.notify.networkDeleted(net.id);
}
