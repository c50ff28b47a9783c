// /v2.0/network-ip-availabilities (network-ip-availability): per network and subnet, how many addresses the
// allocation pools hold and how many are allocated. Cloud readers only, as in Neutron.
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { notFound } from "../errors.js";
import { rangesOf, rangesSize } from "../ipam/pools.js";
import { getNetwork, listNetworks, type Network } from "../store/networks.js";
import { allocationCounts } from "../store/ports.js";
import { subnetsOfNetworks } from "../store/subnets.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";

const LIST: ListSpec = {
  collection: "network_ip_availabilities",
  filters: new Map<string, FilterKind>([
    ["network_id", "string"],
    ["network_name", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    [
      "ip_version",
      (v, vals) =>
        vals.some((x) =>
          (v.subnet_ip_availability as Array<{ ip_version: number }>).some((s) => String(s.ip_version) === x),
        ),
    ],
  ]),
  sortKeys: new Set(["network_id", "network_name", "project_id", "tenant_id", "total_ips", "used_ips"]),
  markerNotFound: (id) => notFound("network", id),
};

/** Availability views of networks. */
async function views(core: NetworkCore, nets: Network[]): Promise<Record<string, unknown>[]> {
  const subnets = await subnetsOfNetworks(
    core,
    nets.map((n) => n.id),
  );
  const used = await allocationCounts(
    core,
    subnets.map((s) => s.id),
  );
  return nets.map((n) => {
    const mine = subnets.filter((s) => s.network_id === n.id);
    const per = mine.map((s) => ({
      subnet_id: s.id,
      subnet_name: s.name,
      cidr: s.cidr,
      ip_version: s.ip_version,
      total_ips: Number(rangesSize(rangesOf(s.ip_version, s.allocation_pools))),
      used_ips: used.get(s.id) ?? 0,
    }));
    return {
      id: n.id,
      network_id: n.id,
      network_name: n.name,
      tenant_id: n.project_id,
      project_id: n.project_id,
      total_ips: per.reduce((a, s) => a + s.total_ips, 0),
      used_ips: per.reduce((a, s) => a + s.used_ips, 0),
      subnet_ip_availability: per,
    };
  });
}

const withoutId = ({ id: _id, ...rest }: Record<string, unknown>) => rest;

/** Routes of /v2.0/network-ip-availabilities. */
export function ipAvailabilityRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/network-ip-availabilities",
      policy: "get_network_ip_availability",
      handler: async (ctx) => {
        const nets = await listNetworks(core, { projectId: null, isAdmin: true, readsAll: true });
        const out = listResponse(ctx, LIST, await views(core, nets));
        out.network_ip_availabilities = (out.network_ip_availabilities as Record<string, unknown>[]).map(
          withoutId,
        );
        return out;
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/network-ip-availabilities/:network_id",
      policy: "get_network_ip_availability",
      handler: async (ctx) => {
        const net = await getNetwork(core, ctx.params.network_id);
        if (!net) throw notFound("network", ctx.params.network_id);
        const [v] = await views(core, [net]);
        return { network_ip_availability: selectFields(withoutId(v), fieldsOf(ctx)) };
      },
    }),
  ];
}
