// The agent's side of os-interface: hot-plug and hot-unplug a port's NIC through the virt driver (Nova's
// attach_interface / detach_interface in the compute manager; the port itself is made by the API).
import type { Handlers } from "../../shared/bus/index.js";
import { requireCapability } from "../drivers/errors.js";
import type { agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { whenVifsPlugged } from "./vif-events.js";

/** The handlers of interface attach and detach. */
export function interfaceHandlers(
  deps: AgentDeps,
): Pick<Handlers<typeof agentContract>, "attach_interface" | "detach_interface"> {
  return {
    attach_interface: ({ uuid, vif }) =>
      deps.lock(uuid, () =>
        whenVifsPlugged(deps, uuid, [vif], () =>
          requireCapability(deps.driver, "attachInterface").attachInterface(uuid, vif),
        ),
      ),
    detach_interface: ({ uuid, portId }) =>
      deps.lock(uuid, () => requireCapability(deps.driver, "detachInterface").detachInterface(uuid, portId)),
  };
}
