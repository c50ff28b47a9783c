// The network service's RPC contract: the API tells every network agent (one per host) what changed, as
// Neutron's server notifies its L2 agents (network_update, network_delete, port_update, port_delete) and its L3
// agents (router_update, router_delete: 1.1; floating IP and port forwarding changes are router updates). Messages
// carry ids only: an agent reads the resource from the database and makes its data plane match, so a lost or
// repeated message does no harm (the agent's resync at start covers it).
import { call, cast, defineContract } from "../shared/bus/index.js";

/** The network agents of every host, told of changes by fanout (each agent acts on what concerns its host). */
export const networkAgentContract = defineContract("network_agent", "1.1", {
  /** A network was created or changed: hosts that carry it make their segment match. */
  network_update: cast<{ networkId: string }>(),
  /** A network was deleted: hosts remove its segment. */
  network_delete: cast<{ networkId: string }>(),
  /** A port was created or changed (binding, addresses, security): its host plugs or updates it; others unplug it. */
  port_update: cast<{ portId: string }>(),
  /** A port was deleted: whichever host had it unplugs it. */
  port_delete: cast<{ portId: string; networkId: string }>(),
  /** Rules or members of security groups changed: hosts refresh the firewall of their ports in those groups. */
  security_group_update: cast<{ securityGroupIds: string[] }>(),
  /** A router, its interfaces, gateway, routes, floating IPs or port forwardings changed: network nodes refresh it. */
  router_update: cast<{ routerId: string }>(),
  /** A router was deleted: network nodes remove it. */
  router_delete: cast<{ routerId: string }>(),
  /** Compare the host's data plane with the database and fix every difference (returns what was changed). */
  resync: call<{ host: string }, { plugged: number; unplugged: number }>(),
});
