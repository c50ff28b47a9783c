// The port body as Neutron shows it (with binding, port security, allowed address pairs, extra DHCP options,
// security groups, tags, timestamps and revision), its policy target, and reading one the caller may see.
import type { Target } from "../../shared/policy/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { notFound } from "../errors.js";
import { networksByIds } from "../store/networks.js";
import { getPort, type Port } from "../store/ports.js";
import { grants, rbacFor } from "../store/rbac.js";
import { tagsFor } from "../store/tags.js";
import { callerOf, enforceOn, isoTime, stripGuarded, type Ctx } from "./common.js";

/** Attributes only some callers may read (get_port:<attr>). */
export const PORT_GUARDED = ["binding:vif_type", "binding:vif_details", "binding:host_id", "binding:profile"];

/** The full port body. */
export function portBody(p: Port, tags: string[]): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    project_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: p.admin_state_up,
    status: p.status,
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: p.fixed_ips,
    allowed_address_pairs: p.allowed_address_pairs,
    extra_dhcp_opts: p.extra_dhcp_opts,
    security_groups: p.security_groups,
    port_security_enabled: p.port_security_enabled,
    "binding:host_id": p.binding_host_id,
    "binding:profile": p.binding_profile,
    "binding:vif_details": p.binding_vif_details,
    "binding:vif_type": p.binding_vif_type,
    "binding:vnic_type": p.binding_vnic_type,
    description: p.description,
    tags,
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at),
    revision_number: p.revision_number,
  };
}

/** The policy target of a port: its attributes, its network's owner and sharing, whether it is a network device. */
export function portTarget(
  p: Pick<Port, "project_id" | "network_id" | "device_owner">,
  netOwner: string,
  shared: boolean,
): Target {
  return {
    project_id: p.project_id,
    tenant_id: p.project_id,
    network_id: p.network_id,
    device_owner: p.device_owner,
    network_device: p.device_owner.startsWith("network:"),
    "network:project_id": netOwner,
    "network:tenant_id": netOwner,
    shared,
  };
}

/** Views and targets of ports for the caller (guarded attributes removed where it may not read them). */
export async function portViews(ctx: Ctx, core: NetworkCore, ports: Port[], caller: Caller = callerOf(ctx)) {
  const netIds = [...new Set(ports.map((p) => p.network_id))];
  const [nets, rbac, tags] = await Promise.all([
    networksByIds(core, netIds),
    rbacFor(core, "network", netIds),
    tagsFor(
      core,
      "ports",
      ports.map((p) => p.id),
    ),
  ]);
  return ports.map((p) => {
    const target = portTarget(
      p,
      nets.get(p.network_id)?.project_id ?? "",
      grants(rbac.get(p.network_id) ?? [], "access_as_shared", caller.projectId),
    );
    const view = stripGuarded(ctx, portBody(p, tags.get(p.id) ?? []), "get_port", PORT_GUARDED, target);
    return { port: p, view, target };
  });
}

/** A port the caller may read, with its view and target; 404 PortNotFound otherwise (or 403 for `rule`). */
export async function loadPort(ctx: Ctx, core: NetworkCore, id: string, rule = "get_port") {
  const port = await getPort(core, id);
  if (!port) throw notFound("port", id);
  const [one] = await portViews(ctx, core, [port]);
  enforceOn(ctx, rule, "get_port", one.target, notFound("port", id));
  return one;
}
