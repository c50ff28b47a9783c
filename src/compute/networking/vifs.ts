// The network info cache as the virt drivers take it.
import type { Vif } from "../drivers/types.js";
import type { VifInfo } from "../instances/store.js";

/** A Linux interface name the network agent may have made (what QEMU's tap backend accepts). */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** The tap of a port the network agent plugs (a "tap" VIF whose details name it); undefined for any other. */
export function tapOf(v: Pick<VifInfo, "vifType" | "vifDetails">): string | undefined {
  const name = v.vifDetails?.tap_name;
  return v.vifType === "tap" && typeof name === "string" && IFNAME_RE.test(name) ? name : undefined;
}

/** The network info cache as the drivers take it (MAC, tap name and MTU for the data plane to plug). */
export function driverVifs(cache: VifInfo[] | null | undefined): Vif[] {
  return (cache ?? []).map((v) => {
    const tap = tapOf(v);
    return {
      id: v.portId,
      address: v.mac,
      networkId: v.networkId,
      fixedIps: v.ips.map((i) => i.address),
      mtu: v.mtu,
      devName: v.devname,
      ...(tap ? { tapName: tap } : {}),
    };
  });
}
