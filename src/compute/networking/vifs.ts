// The network info cache as the virt drivers take it.
import type { Vif } from "../drivers/types.js";
import type { VifInfo } from "../instances/store.js";

/** The network info cache as the drivers take it (MAC, tap name and MTU for the data plane to plug). */
export function driverVifs(cache: VifInfo[] | null | undefined): Vif[] {
  return (cache ?? []).map((v) => ({
    id: v.portId,
    address: v.mac,
    networkId: v.networkId,
    fixedIps: v.ips.map((i) => i.address),
    mtu: v.mtu,
    devName: v.devname,
  }));
}
