// A server's `addresses` (server show/list, /ips) from its network info cache, as Nova builds them.
import type { VifInfo } from "../instances/store.js";

/**
 * {"<network name>": [{addr, version, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}, ports in cache order; each fixed
 * IP is followed by its floating IPs (type "floating"), as Nova lists them.
 */
export function addressesOf(vifs: VifInfo[]): Record<string, Array<Record<string, unknown>>> {
  const out = new Map<string, Array<Record<string, unknown>>>();
  for (const v of vifs) {
    const list = out.get(v.networkName) ?? [];
    for (const ip of v.ips) {
      list.push({
        addr: ip.address,
        version: ip.version,
        "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": v.mac,
      });
      for (const f of ip.floating ?? [])
        list.push({ addr: f, version: 4, "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": v.mac });
    }
    out.set(v.networkName, list);
  }
  return Object.fromEntries(out);
}
