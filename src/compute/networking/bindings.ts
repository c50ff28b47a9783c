// Moving a server's ports with it (Nova's setup_networks_on_host and migrate_instance_finish): a move binds the
// ports to the destination before the destination starts the guest, so that the destination's network agent
// makes the taps QEMU opens there (and says so with network-vif-plugged); a server leaving every host (shelve
// offload) leaves its ports unbound. The network info cache is read again, as the binding may differ per host.
import type { ComputeCore } from "../core.js";
import { findInstance } from "../instances/store.js";
import { refreshNetworkInfo } from "./refresh.js";

/** Bind the ports of server `uuid` to `host` ("" for none) and refresh its network info cache. */
export async function bindPortsTo(core: ComputeCore, uuid: string, host: string): Promise<void> {
  const net = core.neutron;
  const inst = await findInstance(core.db, uuid);
  if (!net || !inst) return;
  const ports = await net.listPorts(`device_id=${encodeURIComponent(uuid)}`);
  for (const p of ports)
    if ((p["binding:host_id"] ?? "") !== host) await net.updatePort(p.id, { "binding:host_id": host });
  if (ports.length > 0) await refreshNetworkInfo(core, inst);
}
