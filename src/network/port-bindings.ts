// Multiple bindings of a port (Neutron's binding-extended), as Nova's live migration uses them: an INACTIVE
// binding made for the destination host (whose agent then makes the port's tap there ahead of the move), activated
// once the guest runs there (the port's active binding moves to that host and the former one is kept INACTIVE, as
// Neutron does), and the source's deleted afterwards (its agent then removes the tap). The active binding is the
// port's own binding:host_id, profile, vnic and VIF attributes; only compute ports (device_owner compute:*) have
// this API. Errors are Neutron's: PortBindingNotFound, PortBindingAlreadyExists, PortBindingAlreadyActive.
import type { NetworkCore } from "./core.js";
import { bindPort } from "./binding.js";
import { conflict, nerr } from "./errors.js";
import { updatePort } from "./port-write.js";
import { deleteBinding, inactiveBindings, insertBinding, type PortBinding } from "./store/port-bindings.js";
import type { Port } from "./store/ports.js";

/** A binding as the API shows it. */
export interface BindingView {
  host: string;
  vif_type: string;
  vif_details: Record<string, unknown>;
  vnic_type: string;
  profile: Record<string, unknown>;
  status: "ACTIVE" | "INACTIVE";
}

/** 404 PortBindingNotFound. */
export const bindingNotFound = (portId: string, host: string) =>
  nerr(404, "PortBindingNotFound", `Binding for port ${portId} for host ${host} could not be found.`);

/** 400 unless the port is a compute port (Neutron's check before every binding operation). */
export function checkComputePort(port: Port): void {
  if (!port.device_owner.startsWith("compute:"))
    throw nerr(
      400,
      "BadRequest",
      `Bad port request: Invalid port ${port.id}. Operation only valid on compute ports.`,
    );
}

const inactiveView = (b: PortBinding): BindingView => ({
  host: b.host,
  vif_type: b.vif_type,
  vif_details: b.vif_details,
  vnic_type: b.vnic_type,
  profile: b.profile,
  status: "INACTIVE",
});

/** Every binding of a port: the active one (when it has a host), then the inactive ones. */
export async function portBindings(core: NetworkCore, port: Port): Promise<BindingView[]> {
  const active: BindingView[] = port.binding_host_id
    ? [
        {
          host: port.binding_host_id,
          vif_type: port.binding_vif_type,
          vif_details: port.binding_vif_details,
          vnic_type: port.binding_vnic_type,
          profile: port.binding_profile,
          status: "ACTIVE",
        },
      ]
    : [];
  return [...active, ...(await inactiveBindings(core, port.id)).map(inactiveView)];
}

/** What a new binding asks for. */
export interface BindingInput {
  host: string;
  vnic_type?: string;
  profile?: Record<string, unknown>;
}

/** Make an INACTIVE binding of the port on a host (409 when it has one there, active or not). */
export async function createBinding(
  core: NetworkCore,
  port: Port,
  input: BindingInput,
): Promise<BindingView> {
  const exists = conflict(
    "PortBindingAlreadyExists",
    `Binding for port ${port.id} on host ${input.host} already exists.`,
  );
  if (port.binding_host_id === input.host) throw exists;
  const vif = await bindPort(core, { ...port, binding_host_id: input.host });
  const b: PortBinding = {
    port_id: port.id,
    host: input.host,
    vnic_type: input.vnic_type ?? "normal",
    profile: input.profile ?? {},
    vif_type: vif.vif_type,
    vif_details: vif.vif_details,
  };
  if (!(await insertBinding(core, b))) throw exists;
  core.notify.portUpdated(port.id);
  return inactiveView(b);
}

/**
 * Activate the port's binding on a host: it becomes the port's binding (the host's agent plugs the port for good,
 * it is DOWN until then), and the former active binding is kept as an INACTIVE one (its agent keeps the tap until
 * it is deleted).
 */
export async function activateBinding(core: NetworkCore, port: Port, host: string): Promise<BindingView> {
  if (port.binding_host_id === host)
    throw conflict(
      "PortBindingAlreadyActive",
      `Binding for port ${port.id} on host ${host} is already active.`,
    );
  const target = (await inactiveBindings(core, port.id)).find((b) => b.host === host);
  if (!target) throw bindingNotFound(port.id, host);
  await core.transaction(async (c) => {
    if (!(await deleteBinding(c, port.id, host))) throw bindingNotFound(port.id, host);
    if (port.binding_host_id) {
      await deleteBinding(c, port.id, port.binding_host_id);
      await insertBinding(c, {
        port_id: port.id,
        host: port.binding_host_id,
        vnic_type: port.binding_vnic_type,
        profile: port.binding_profile,
        vif_type: port.binding_vif_type,
        vif_details: port.binding_vif_details,
      });
    }
  });
  const moved = await updatePort(core, port, {
    binding_host_id: host,
    binding_profile: target.profile,
    binding_vnic_type: target.vnic_type,
  });
  return (await portBindings(core, moved))[0];
}

/** Delete the port's binding on a host: an inactive one goes, the active one leaves the port unbound. */
export async function removeBinding(core: NetworkCore, port: Port, host: string): Promise<void> {
  if (port.binding_host_id === host) {
    await updatePort(core, port, { binding_host_id: "", binding_profile: {} });
    return;
  }
  if (!(await deleteBinding(core, port.id, host))) throw bindingNotFound(port.id, host);
  core.notify.portUpdated(port.id);
}
