// Nova's network proxy APIs (removed at 2.36) over the network service, as Nova answers with Neutron: os-networks
// and os-tenant-networks list and show the networks the caller sees (Nova fills only id and label), floating IPs
// and their pools come from floating-ips.ts, and the nova-network-only calls are 410 as in Nova since Ussuri.
// Without a network service the lists are empty and any one item is 404.
import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { notFound } from "../../errors.js";
import { isAdmin, type Ctx } from "../common.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { FIP, POOLS, floatingIpRoutes } from "./floating-ips.js";
import { goneRoute, proxyRoute } from "./proxy.js";
import { neutron } from "./security-groups-neutron.js";

type Json = Record<string, any>;

const NET = "os_compute_api:os-networks";
const TENANT = "os_compute_api:os-tenant-networks";

/** Policy defaults of the network proxies (Nova's Zed defaults, written out). */
export const networkProxyPolicies: RuleDefault[] = [
  policyRule(`${NET}:list`, ADMIN_OR_PROJECT, "List networks (proxy).", "GET", "/os-networks"),
  policyRule(`${NET}:view`, ADMIN_OR_PROJECT, "Show a network (proxy).", "GET", "/os-networks/{network_id}"),
  policyRule(`${TENANT}:list`, ADMIN_OR_PROJECT, "List project networks.", "GET", "/os-tenant-networks"),
  policyRule(
    `${TENANT}:show`,
    ADMIN_OR_PROJECT,
    "Show a project network.",
    "GET",
    "/os-tenant-networks/{id}",
  ),
  policyRule(POOLS, "", "List floating IP pools.", "GET", "/os-floating-ip-pools"),
  policyRule(`${FIP}:list`, ADMIN_OR_PROJECT, "List floating IPs.", "GET", "/os-floating-ips"),
  policyRule(`${FIP}:show`, ADMIN_OR_PROJECT, "Show a floating IP.", "GET", "/os-floating-ips/{id}"),
  policyRule(`${FIP}:create`, PROJECT_MEMBER, "Allocate a floating IP.", "POST", "/os-floating-ips"),
  policyRule(`${FIP}:delete`, PROJECT_MEMBER, "Release a floating IP.", "DELETE", "/os-floating-ips/{id}"),
  policyRule(
    `${FIP}:add`,
    PROJECT_MEMBER,
    "Associate a floating IP.",
    "POST",
    "/servers/{id}/action (addFloatingIp)",
  ),
  policyRule(
    `${FIP}:remove`,
    PROJECT_MEMBER,
    "Disassociate a floating IP.",
    "POST",
    "/servers/{id}/action (removeFloatingIp)",
  ),
];

/** os-networks' fields: Nova over Neutron fills only id and label (the name); the rest are null. */
const NETWORK_FIELDS = [
  "id",
  "cidr",
  "netmask",
  "gateway",
  "broadcast",
  "dns1",
  "dns2",
  "cidr_v6",
  "gateway_v6",
  "label",
  "netmask_v6",
];
/** The nova-network fields os-networks adds for an admin (all null over Neutron). */
const ADMIN_NETWORK_FIELDS = [
  "created_at",
  "updated_at",
  "deleted_at",
  "deleted",
  "injected",
  "bridge",
  "vlan",
  "vpn_public_address",
  "vpn_public_port",
  "vpn_private_address",
  "dhcp_start",
  "project_id",
  "host",
  "bridge_interface",
  "multi_host",
  "priority",
  "rxtx_base",
  "mtu",
  "dhcp_server",
  "enable_dhcp",
  "share_address",
];

/** A Neutron network as os-networks shows it. */
function novaNetwork(ctx: Ctx, n: Json): Json {
  const fields = isAdmin(ctx) ? [...NETWORK_FIELDS, ...ADMIN_NETWORK_FIELDS] : NETWORK_FIELDS;
  return Object.fromEntries(fields.map((f) => [f, f === "id" ? n.id : f === "label" ? n.name : null]));
}

/** A Neutron network as os-tenant-networks shows it (Nova says cidr "None" over Neutron). */
const tenantNetwork = (n: Json): Json => ({ id: n.id, cidr: "None", label: n.name });

/** The networks the caller sees, or none without a network service. */
async function visibleNetworks(core: ComputeCore, ctx: Ctx): Promise<Json[]> {
  const net = core.network;
  if (!net) return [];
  return (await neutron(net, ctx, "GET", "/networks", networkMissing)).networks as Json[];
}

/** One network the caller sees (404 "Network not found" otherwise). */
async function oneNetwork(core: ComputeCore, ctx: Ctx): Promise<Json> {
  const net = core.network;
  if (!net) throw networkMissing();
  const path = `/networks/${encodeURIComponent(ctx.params.id)}`;
  return (await neutron(net, ctx, "GET", path, networkMissing)).network as Json;
}

const networkMissing = () => notFound("Network not found");

/** The proxy routes: networks from the network service as the caller sees them, floating IPs over it. */
export function networkProxyRoutes(core: ComputeCore): Route[] {
  return [
    proxyRoute("GET", "/v2.1/os-networks", `${NET}:list`, async (ctx) => ({
      networks: (await visibleNetworks(core, ctx)).map((n) => novaNetwork(ctx, n)),
    })),
    proxyRoute("GET", "/v2.1/os-networks/:id", `${NET}:view`, async (ctx) => ({
      network: novaNetwork(ctx, await oneNetwork(core, ctx)),
    })),
    goneRoute("POST", "/v2.1/os-networks"),
    goneRoute("POST", "/v2.1/os-networks/add"),
    goneRoute("POST", "/v2.1/os-networks/:id/action"),
    goneRoute("DELETE", "/v2.1/os-networks/:id"),
    proxyRoute("GET", "/v2.1/os-tenant-networks", `${TENANT}:list`, async (ctx) => ({
      networks: (await visibleNetworks(core, ctx)).map(tenantNetwork),
    })),
    proxyRoute("GET", "/v2.1/os-tenant-networks/:id", `${TENANT}:show`, async (ctx) => ({
      network: tenantNetwork(await oneNetwork(core, ctx)),
    })),
    goneRoute("POST", "/v2.1/os-tenant-networks"),
    goneRoute("DELETE", "/v2.1/os-tenant-networks/:id"),
    ...floatingIpRoutes(core),
    ...["os-security-group-default-rules", "os-floating-ips-bulk", "os-fping"].flatMap((p) => [
      goneRoute("POST", `/v2.1/${p}`),
      goneRoute("DELETE", `/v2.1/${p}/:id`),
      goneRoute("GET", `/v2.1/${p}`),
      goneRoute("GET", `/v2.1/${p}/:id`),
    ]),
  ];
}
