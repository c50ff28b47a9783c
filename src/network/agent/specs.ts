// What the agent hands its driver, read from the database: a network's segment and MTU, a port's addresses and
// security settings.
import type { NetworkCore } from "../core.js";
import type { NetworkSpec, PortSpec, SegmentSpec } from "../drivers/types.js";
import { getNetwork } from "../store/networks.js";
import type { Port } from "../store/ports.js";
import { segmentsFor } from "../store/segments.js";

/** A network as a driver sees it, or null when it is gone. */
export async function networkSpec(core: NetworkCore, id: string): Promise<NetworkSpec | null> {
  const net = await getNetwork(core, id);
  if (!net) return null;
  const seg = (await segmentsFor(core, [id])).get(id);
  const segment: SegmentSpec = {
    networkType: (seg?.network_type ?? "local") as SegmentSpec["networkType"],
    physicalNetwork: seg?.physical_network ?? null,
    segmentationId: seg?.segmentation_id ?? null,
  };
  return { id, mtu: net.mtu, adminStateUp: net.admin_state_up, segment };
}

/** A port as a driver sees it. */
export function portSpec(p: Port): PortSpec {
  return {
    id: p.id,
    networkId: p.network_id,
    macAddress: p.mac_address,
    fixedIps: p.fixed_ips.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    adminStateUp: p.admin_state_up,
    portSecurityEnabled: p.port_security_enabled,
    allowedAddressPairs: p.allowed_address_pairs.map((a) => ({
      ipAddress: a.ip_address,
      macAddress: a.mac_address,
    })),
    securityGroupIds: p.security_groups,
    deviceOwner: p.device_owner,
    deviceId: p.device_id,
  };
}
