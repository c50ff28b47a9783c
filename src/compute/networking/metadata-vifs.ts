// The network info cache as the metadata documents take it (network_data.json, EC2 local/public IPv4): the VIFs
// the network service plugs (taps), with their MAC, MTU, subnets, routes and DNS. A VIF without a tap is left out:
// its guest NIC is QEMU's own user networking, which the port's addresses do not describe.
import type { VifInfo } from "../instances/store.js";
import type { NetworkVif } from "../metadata/types.js";
import { tapOf } from "./vifs.js";

/** The metadata's network info of a server's cache; undefined when no VIF is a tap (network_data.json is {}). */
export function metadataVifs(cache: VifInfo[] | null | undefined): NetworkVif[] | undefined {
  const out: NetworkVif[] = [];
  for (const v of cache ?? []) {
    const tap = tapOf(v);
    if (!tap) continue;
    out.push({
      id: v.portId,
      address: v.mac,
      type: v.vifType,
      devName: tap,
      network: {
        id: v.networkId,
        mtu: v.mtu,
        subnets: (v.subnets ?? []).map((s) => ({
          cidr: s.cidr,
          version: s.version,
          gateway: s.gateway,
          dns: s.dns,
          routes: s.routes,
          enableDhcp: s.enableDhcp,
          ...(s.ipv6AddressMode ? { ipv6AddressMode: s.ipv6AddressMode } : {}),
          ips: v.ips
            .filter((i) => i.subnetId === s.id)
            .map((i) => ({ address: i.address, type: "fixed" as const, floatingIps: i.floating ?? [] })),
        })),
      },
    });
  }
  return out.length ? out : undefined;
}
