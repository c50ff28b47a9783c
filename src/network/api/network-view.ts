// The network body as Neutron shows it (with the provider, external-net, availability zone, MTU, port security,
// tag, timestamp and revision extensions), and the policy target of a network.
import type { Target } from "../../shared/policy/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { listAgents } from "../store/agents.js";
import type { Network } from "../store/networks.js";
import { grants, rbacFor, type RbacEntry } from "../store/rbac.js";
import { segmentsFor, type Segment } from "../store/segments.js";
import { subnetsOfNetworks } from "../store/subnets.js";
import { tagsFor } from "../store/tags.js";
import { callerOf, isoTime, stripGuarded, type Ctx } from "./common.js";

/** Attributes only some callers may read (get_network:<attr>). */
export const NETWORK_GUARDED = [
  "provider:network_type",
  "provider:physical_network",
  "provider:segmentation_id",
];

/** What a network view is built from besides the row. */
interface Extras {
  segment: Segment | undefined;
  subnets: string[];
  rbac: RbacEntry[];
  tags: string[];
  zones: string[];
}

/** Whether the network is shared with the caller's project (directly or with everyone). */
export const sharedFor = (rbac: RbacEntry[], caller: Caller): boolean =>
  grants(rbac, "access_as_shared", caller.projectId);

/** The full view (before the caller's read rules remove guarded attributes). */
function fullView(n: Network, x: Extras, caller: Caller): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.project_id,
    project_id: n.project_id,
    admin_state_up: n.admin_state_up,
    mtu: n.mtu,
    status: n.status,
    subnets: x.subnets,
    shared: sharedFor(x.rbac, caller),
    availability_zone_hints: n.availability_zone_hints,
    availability_zones: n.availability_zone_hints.length ? n.availability_zone_hints : x.zones,
    "router:external": n.router_external,
    description: n.description,
    port_security_enabled: n.port_security_enabled,
    l2_adjacency: true,
    tags: x.tags,
    created_at: isoTime(n.created_at),
    updated_at: isoTime(n.updated_at),
    revision_number: n.revision_number,
    "provider:network_type": x.segment?.network_type ?? null,
    "provider:physical_network": x.segment?.physical_network ?? null,
    "provider:segmentation_id": x.segment?.segmentation_id ?? null,
  };
}

/** The policy target of a network view. */
export const networkTarget = (view: Record<string, unknown>): Target => ({
  ...view,
  "network:project_id": view.project_id,
});

/** Availability zones of the registered network agents. */
export async function agentZones(core: NetworkCore): Promise<string[]> {
  const zones = new Set<string>();
  for (const a of await listAgents(core)) if (a.availability_zone) zones.add(a.availability_zone);
  return [...zones].sort();
}

/** Views of networks for the caller, with the attributes it may not read removed; the targets alongside. */
export async function networkViews(
  ctx: Ctx,
  core: NetworkCore,
  nets: Network[],
): Promise<Array<{ view: Record<string, unknown>; target: Target }>> {
  const caller = callerOf(ctx);
  const ids = nets.map((n) => n.id);
  const [segments, subnets, rbac, tags, zones] = await Promise.all([
    segmentsFor(core, ids),
    subnetsOfNetworks(core, ids),
    rbacFor(core, "network", ids),
    tagsFor(core, "networks", ids),
    agentZones(core),
  ]);
  const subnetIds = new Map<string, string[]>();
  for (const s of subnets) subnetIds.set(s.network_id, [...(subnetIds.get(s.network_id) ?? []), s.id]);
  return nets.map((n) => {
    const view = fullView(
      n,
      {
        segment: segments.get(n.id),
        subnets: subnetIds.get(n.id) ?? [],
        rbac: rbac.get(n.id) ?? [],
        tags: tags.get(n.id) ?? [],
        zones,
      },
      caller,
    );
    const target = networkTarget(view);
    return { view: stripGuarded(ctx, view, "get_network", NETWORK_GUARDED, target), target };
  });
}

/** One network's view and target. */
export async function networkView(
  ctx: Ctx,
  core: NetworkCore,
  net: Network,
): Promise<{ view: Record<string, unknown>; target: Target }> {
  return (await networkViews(ctx, core, [net]))[0];
}
