// Port binding, as ML2 binds: a port whose binding:host_id names a host with a live network agent gets the VIF
// type that agent's driver reported (configurations.vif_type; the noop and linux drivers plug taps) and details
// saying whether it filters (a linux host's also name the port's tap `tap<11 chars of the port id>` and its network's
// bridge `brq<11 chars of the network id>`, which the QEMU driver opens by name); a host without one gets binding_failed; no host, unbound.
import type { NetworkCore } from "./core.js";
import { linuxBinding } from "./drivers/linux/driver.js";
import { agentAlive, agentsOnHost } from "./store/agents.js";
import type { Port } from "./store/ports.js";

/** The agent type every network agent of this service registers as. */
export const AGENT_TYPE = "Stratus network agent";

/** binding:vif_type and binding:vif_details for a port on its host. */
export async function bindPort(
  core: NetworkCore,
  port: Pick<Port, "id" | "network_id" | "binding_host_id" | "port_security_enabled">,
) {
  if (!port.binding_host_id) return { vif_type: "unbound", vif_details: {} };
  const agent = (await agentsOnHost(core, port.binding_host_id)).find(
    (a) => a.agent_type === AGENT_TYPE && a.admin_state_up === 1 && agentAlive(core, a),
  );
  if (!agent) return { vif_type: "binding_failed", vif_details: {} };
  const conf = JSON.parse(agent.configurations) as { vif_type?: string; tap_names?: boolean };
  // A linux host names the tap QEMU opens and the bridge it is in (the QEMU driver's contract).
  if (conf.tap_names) {
    const b = linuxBinding(port.id, port.network_id, port.port_security_enabled);
    return { vif_type: b.vifType, vif_details: b.vifDetails };
  }
  return {
    vif_type: conf.vif_type ?? "tap",
    vif_details: { port_filter: port.port_security_enabled, connectivity: "l2" },
  };
}
