// Refreshing a server's network info cache from the network service (Nova's _heal_instance_info_cache and its
// handling of network-changed / network-vif-deleted events): the ports naming the server as their device, in the
// cache's order, keeping what only compute knows (whether the port is the user's, its tag).
import type { ComputeCore } from "../core.js";
import type { Instance, VifInfo } from "../instances/store.js";
import { saveNetworkInfo, vifOf } from "./allocate.js";

/** Rebuild `inst`'s cache from its ports; a port compute did not know of is treated as the user's. */
export async function refreshNetworkInfo(core: ComputeCore, inst: Instance): Promise<VifInfo[]> {
  const net = core.neutron;
  if (!net) return inst.network_info ?? [];
  const old = new Map((inst.network_info ?? []).map((v, i) => [v.portId, { v, i }]));
  const ports = await net.listPorts(`device_id=${encodeURIComponent(inst.uuid)}`);
  const order = (id: string) => old.get(id)?.i ?? Number.MAX_SAFE_INTEGER;
  ports.sort((a, b) => order(a.id) - order(b.id));
  const vifs: VifInfo[] = [];
  for (const p of ports) {
    const known = old.get(p.id)?.v;
    vifs.push(await vifOf(net, p, known?.preserveOnDelete ?? true, known?.tag));
  }
  await saveNetworkInfo(core, inst.uuid, vifs);
  return vifs;
}
