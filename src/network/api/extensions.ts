// /v2.0/extensions: exactly the API extensions this service implements, under Neutron's aliases, so clients and
// Tempest that check for an extension before using it see the truth. A later stage adds its own lines.
import { route, type Route } from "../../shared/http/route.js";
import { notFound } from "../errors.js";

/** One extension: alias, name, what it adds. */
interface Extension {
  alias: string;
  name: string;
  description: string;
}

const ext = (alias: string, name: string, description: string): Extension => ({ alias, name, description });

/** The implemented extensions. */
export const EXTENSIONS: readonly Extension[] = [
  ext("agent", "agent", "Lists the network agents of each host, their liveness and state."),
  ext("allowed-address-pairs", "Allowed Address Pairs", "Extra addresses (and MACs) a port may send from."),
  ext("availability_zone", "Availability Zone", "Lists the availability zones of the network agents."),
  ext("binding", "Port Binding", "Binds a port to a host; exposes the VIF type and details."),
  ext(
    "binding-extended",
    "Port Bindings Extended",
    "Several bindings per port (one active, others inactive) and their activation, for live migration.",
  ),
  ext("default-subnetpools", "Default Subnetpools", "A default subnet pool per IP version, used on request."),
  ext("external-net", "Neutron external network", "Marks networks as external (router:external)."),
  ext(
    "extra_dhcp_opt",
    "Neutron Extra DHCP options",
    "Extra DHCP options per port, validated against injection.",
  ),
  ext("extraroute", "Neutron Extra Route", "Static routes on routers."),
  ext(
    "ext-gw-mode",
    "Neutron L3 Configurable external gateway mode",
    "SNAT on a router's gateway can be turned off.",
  ),
  ext("l3-ha", "HA Router extension", "The ha attribute of routers (always false here)."),
  ext(
    "floating-ip-port-forwarding",
    "Floating IP Port Forwarding",
    "Forwards ports of a floating IP to internal ports' addresses.",
  ),
  ext("filter-validation", "Filter parameters validation", "Unknown filter attributes are refused."),
  ext("ip-substring-filtering", "IP address substring filtering", "Filters ports by part of an address."),
  ext("l2_adjacency", "L2 Adjacency", "Tells whether a network's ports share one L2 segment."),
  ext("net-mtu", "Network MTU", "Shows each network's MTU."),
  ext("net-mtu-writable", "Network MTU (writable)", "Lets a network's MTU be chosen and changed."),
  ext(
    "network-ip-availability",
    "Network IP Availability",
    "Counts used and total addresses per network and subnet.",
  ),
  ext(
    "network_availability_zone",
    "Network Availability Zone",
    "Availability zone hints and zones of networks.",
  ),
  ext("pagination", "Pagination support", "limit, marker and page_reverse on every list."),
  ext(
    "port-security",
    "Port Security",
    "Turns a port's (or a network's default) anti-spoofing and filtering on or off.",
  ),
  ext("project-id", "project_id field enabled", "Resources show project_id beside tenant_id."),
  ext(
    "provider",
    "Provider Network",
    "Network type, physical network and segmentation id of networks (admins).",
  ),
  ext("quota_details", "Quota details management support", "Shows used, limit and reserved per resource."),
  ext("quotas", "Quota management support", "Shows and changes per-project quotas."),
  ext("rbac-policies", "RBAC Policies", "Shares networks with projects, as shared or external networks."),
  ext(
    "rbac-security-groups",
    "Add security_group type to network RBAC",
    "Shares security groups with projects (access_as_shared).",
  ),
  ext("router", "Neutron L3 Router", "Routers between networks, gateways and floating IPs."),
  ext("router_availability_zone", "Router Availability Zone", "Availability zone hints of routers."),
  ext(
    "security-group",
    "security-group",
    "Security groups and their rules, with a default group per project.",
  ),
  ext(
    "security-groups-normalized-cidr",
    "Security Group Rule normalized CIDR",
    "Shows a rule's remote prefix with its host bits cleared (normalized_cidr).",
  ),
  ext("sorting", "Sorting support", "sort_key and sort_dir on every list."),
  ext("standard-attr-description", "standard-attr-description", "A description on every resource."),
  ext("standard-attr-revisions", "Resource revision numbers", "A revision_number bumped by every change."),
  ext(
    "standard-attr-tag",
    "Tag support for resources with standard attribute",
    "Tags on networks, subnets, ports, subnet pools, security groups, routers and floating IPs.",
  ),
  ext("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at on every resource."),
  ext(
    "stateful-security-group",
    "Stateful security group",
    "Security groups may be stateless (stateful false).",
  ),
  ext("subnet_allocation", "Subnet Allocation", "Subnet pools that subnets take their prefixes from."),
  ext(
    "subnetpool-prefix-ops",
    "Subnet Pool Prefix Operations",
    "Adds and removes prefixes of a subnet pool.",
  ),
];

const UPDATED = "2026-01-01T00:00:00-00:00";
const body = (e: Extension) => ({ ...e, updated: UPDATED, links: [] });

/** GET /v2.0/extensions and /v2.0/extensions/{alias}. */
export function extensionRoutes(): Route[] {
  const byAlias = new Map(EXTENSIONS.map((e) => [e.alias, e]));
  return [
    route({
      method: "GET",
      path: "/v2.0/extensions",
      policy: "get_extension",
      handler: () => ({ extensions: EXTENSIONS.map(body) }),
    }),
    route({
      method: "GET",
      path: "/v2.0/extensions/:alias",
      policy: "get_extension",
      handler: (ctx) => {
        const e = byAlias.get(ctx.params.alias);
        if (!e) throw notFound("extension", ctx.params.alias);
        return { extension: body(e) };
      },
    }),
  ];
}
