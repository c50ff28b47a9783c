// Which instance is calling: the port holding the caller's fixed IP on the network the request came from (Neutron's
// metadata agent, by network and fixed IP; allowed address pairs do not count), when an instance owns it.
import type { NetworkCore } from "../core.js";
import { canonicalIp } from "../ipam/addr.js";
import { getPort, holderOf } from "../store/ports.js";

/** The instance behind a caller, as the metadata service is told. */
export interface MetadataCaller {
  /** The port's device_id. */
  instanceId: string;
  /** The port's project (X-Tenant-ID). */
  projectId: string;
}

/** Finds the instance calling from `address` on `networkId`; null when no instance's port holds it. */
export type CallerLookup = (networkId: string, address: string) => Promise<MetadataCaller | null>;

/** The lookup in the network database: only ports owned by compute (`compute:*`) with a device id. */
export function portCallerLookup(core: NetworkCore): CallerLookup {
  return async (networkId, address) => {
    const ip = canonicalIp(address);
    if (!ip) return null;
    const portId = await holderOf(core, networkId, ip);
    if (!portId) return null;
    const port = await getPort(core, portId);
    if (!port || port.network_id !== networkId) return null;
    if (!port.device_owner.startsWith("compute:") || !port.device_id) return null;
    return { instanceId: port.device_id, projectId: port.project_id };
  };
}
