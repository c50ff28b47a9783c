// /v2.0/subnets: list, create (one or bulk; from a prefix or a subnet pool), show, update, delete. Only the
// network's owner (or an admin) manages its subnets. A new SLAAC subnet gives every port of the network its
// address; deleting a subnet is refused while ports hold addresses of it (SLAAC ones are simply removed).
import { nowIso } from "../../shared/db/index.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { conflict, invalidInput, nerr, notFound } from "../errors.js";
import { cidrOf, formatCidr, type Cidr } from "../ipam/addr.js";
import type { PoolText } from "../ipam/pools.js";
import { allocateAddresses, isRouterPort } from "../port-addresses.js";
import { lockRow, withQuota } from "../quotas.js";
import {
  checkDnsAndRoutes,
  checkGateway,
  checkIpv6Modes,
  checkNoOverlap,
  checkVersion,
  defaultGateway,
  IPV6_MODES,
  poolsFor,
  prefixFromPool,
} from "../subnet-rules.js";
import { getNetwork, networksByIds, networkVisible, type Network } from "../store/networks.js";
import { holderOf, portsOfNetwork, releaseAddresses } from "../store/ports.js";
import { grants, rbacFor } from "../store/rbac.js";
import { defaultPool, getSubnetPool, poolVisible } from "../store/subnetpools.js";
import {
  deleteSubnetRow,
  getSubnet,
  insertSubnet,
  isAutoAddress,
  listSubnets,
  updateSubnet,
  type HostRoute,
  type Subnet,
} from "../store/subnets.js";
import { removeTags, tagsFor } from "../store/tags.js";
import {
  bodyItem,
  bodyItems,
  parseCreate,
  parseUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, isoTime, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import {
  bool,
  cidr,
  int,
  ip,
  ipOrNull,
  listOf,
  oneOfOrNull,
  record,
  str,
  uuid,
  type Validator,
} from "./validators.js";

const pool: Validator<PoolText> = (v, attr) => {
  const r = record(v, attr, ["start", "end"], ["start", "end"]);
  return { start: ip(r.get("start"), attr), end: ip(r.get("end"), attr) };
};
const hostRoute: Validator<HostRoute> = (v, attr) => {
  const r = record(v, attr, ["destination", "nexthop"], ["destination", "nexthop"]);
  return { destination: cidr(r.get("destination"), attr), nexthop: ip(r.get("nexthop"), attr) };
};
const gateway: Validator<string | null> = ipOrNull;
const poolId: Validator<string | null> = (v, attr) => (v === null ? null : uuid(v, attr));

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: true, put: true, parse: str(255), def: "" }],
  ["description", { post: true, put: true, parse: str(255), def: "" }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["network_id", { post: "required", put: false, parse: uuid }],
  ["ip_version", { post: "required", put: false, parse: (v, a) => int(4, 6)(v, a) }],
  ["cidr", { post: true, put: false, parse: cidr }],
  ["prefixlen", { post: true, put: false, parse: int(0, 128) }],
  ["subnetpool_id", { post: true, put: false, parse: poolId }],
  ["use_default_subnetpool", { post: true, put: false, parse: bool, def: false }],
  ["gateway_ip", { post: true, put: true, parse: gateway }],
  ["allocation_pools", { post: true, put: true, parse: listOf(pool) }],
  ["dns_nameservers", { post: true, put: true, parse: listOf(ip, { unique: true }), def: () => [] }],
  ["host_routes", { post: true, put: true, parse: listOf(hostRoute, { unique: true }), def: () => [] }],
  ["enable_dhcp", { post: true, put: true, parse: bool, def: true }],
  ["ipv6_ra_mode", { post: true, put: false, parse: oneOfOrNull(IPV6_MODES), def: null }],
  ["ipv6_address_mode", { post: true, put: false, parse: oneOfOrNull(IPV6_MODES), def: null }],
  ["revision_number", { post: false, put: false, parse: str() }],
]);

const LIST: ListSpec = {
  collection: "subnets",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["network_id", "string"],
    ["ip_version", "int"],
    ["cidr", "string"],
    ["gateway_ip", "string"],
    ["enable_dhcp", "bool"],
    ["ipv6_ra_mode", "string"],
    ["ipv6_address_mode", "string"],
    ["subnetpool_id", "string"],
    ["revision_number", "int"],
    ["shared", "bool"],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "enable_dhcp",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => notFound("subnet", id),
};

/** The subnet body as Neutron shows it. */
function subnetView(s: Subnet, tags: string[]): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    project_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: s.subnetpool_id,
    enable_dhcp: s.enable_dhcp,
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: s.allocation_pools,
    host_routes: s.host_routes,
    dns_nameservers: s.dns_nameservers,
    description: s.description,
    tags,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    revision_number: s.revision_number,
  };
}

/** Targets of subnets: their own attributes with their network's owner and sharing (as the caller sees it). */
async function subnetTargets(
  core: NetworkCore,
  caller: Caller,
  subnets: Subnet[],
): Promise<Map<string, Target>> {
  const netIds = [...new Set(subnets.map((s) => s.network_id))];
  const [nets, rbac] = await Promise.all([networksByIds(core, netIds), rbacFor(core, "network", netIds)]);
  return new Map(
    subnets.map((s) => [
      s.id,
      {
        project_id: s.project_id,
        tenant_id: s.project_id,
        network_id: s.network_id,
        "network:project_id": nets.get(s.network_id)?.project_id ?? "",
        "network:tenant_id": nets.get(s.network_id)?.project_id ?? "",
        shared: grants(rbac.get(s.network_id) ?? [], "access_as_shared", caller.projectId),
      },
    ]),
  );
}

/** A subnet the caller may see and read, with its target; 404 SubnetNotFound otherwise. */
export async function loadSubnet(ctx: Ctx, core: NetworkCore, id: string, rule = "get_subnet") {
  const caller = callerOf(ctx);
  const subnet = await getSubnet(core, id);
  if (!subnet) throw notFound("subnet", id);
  const target = (await subnetTargets(core, caller, [subnet])).get(id) as Target;
  if (!caller.readsAll && !ctx.allowed("get_subnet", target)) throw notFound("subnet", id);
  enforceOn(ctx, rule, "get_subnet", target, notFound("subnet", id));
  return { subnet, target };
}

async function viewOf(core: NetworkCore, s: Subnet): Promise<Record<string, unknown>> {
  return subnetView(s, (await tagsFor(core, "subnets", [s.id])).get(s.id) ?? []);
}

/** The network a subnet is created on: visible to the caller, else 404 NetworkNotFound. */
async function networkFor(ctx: Ctx, core: NetworkCore, id: string): Promise<Network> {
  const net = await getNetwork(core, id);
  if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", id);
  return net;
}

/** Build and insert one subnet inside the create transaction. */
async function createOne(
  c: NetworkCore,
  ctx: Ctx,
  p: Parsed,
  project: string,
  net: Network,
): Promise<Subnet> {
  const version = val<number>(p, "ip_version");
  if (version !== 4 && version !== 6) throw invalidInput(`'${version}' is not a valid IP version`);
  let poolIdValue = val<string | null | undefined>(p, "subnetpool_id") ?? null;
  if (poolIdValue === null && val<boolean>(p, "use_default_subnetpool")) {
    const def = await defaultPool(c, version);
    if (!def)
      throw nerr(400, "BadRequest", `Bad subnets request: No default subnetpool found for IPv${version}.`);
    poolIdValue = def.id;
  }
  const cidrText = val<string | undefined>(p, "cidr");
  let prefix: Cidr | null = cidrText ? cidrOf(cidrText) : null;
  if (prefix) checkVersion("cidr", cidrText as string, version);
  if (poolIdValue !== null) {
    const pool = await getSubnetPool(c, poolIdValue);
    if (!pool || !poolVisible(pool, callerOf(ctx))) throw notFound("subnetpool", poolIdValue);
    if (pool.ip_version !== version)
      throw invalidInput(`Cannot allocate IPv${version} subnet from IPv${pool.ip_version} subnet pool`);
    await lockRow(c, "subnetpool", pool.id);
    prefix = await prefixFromPool(c, pool, prefix, val(p, "prefixlen"));
  } else if (!prefix)
    throw nerr(
      400,
      "BadRequest",
      "Bad subnets request: A cidr must be specified in the absence of a subnet pool.",
    );
  if (prefix.prefix === 0)
    throw invalidInput(`${cidrText ?? "0/0"} is not a valid subnet: a prefix length of 0 is not allowed`);
  const enableDhcp = val<boolean>(p, "enable_dhcp");
  const ra = val<string | null>(p, "ipv6_ra_mode");
  const addrMode = val<string | null>(p, "ipv6_address_mode");
  checkIpv6Modes(version, ra, addrMode, enableDhcp, prefix);
  const gatewayText = p.values.has("gateway_ip")
    ? val<string | null>(p, "gateway_ip")
    : defaultGateway(prefix);
  const gw = checkGateway(gatewayText, prefix);
  const id = c.newId();
  const pools = poolsFor(val(p, "allocation_pools"), prefix, gw);
  const dns = val<string[]>(p, "dns_nameservers");
  const routes = val<HostRoute[]>(p, "host_routes");
  checkDnsAndRoutes(c, id, version, dns, routes);
  await checkNoOverlap(c, net.id, prefix);
  const now = nowIso();
  const subnet: Subnet = {
    id,
    project_id: project,
    network_id: net.id,
    name: val(p, "name"),
    description: val(p, "description"),
    ip_version: version,
    cidr: formatCidr(prefix),
    gateway_ip: gatewayText,
    enable_dhcp: enableDhcp,
    ipv6_ra_mode: ra,
    ipv6_address_mode: addrMode,
    subnetpool_id: poolIdValue,
    allocation_pools: pools,
    dns_nameservers: dns,
    host_routes: routes,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  await insertSubnet(c, subnet);
  // A SLAAC subnet gives the network's existing ports their address (not routers' ports, as Neutron).
  if (isAutoAddress(subnet))
    for (const port of await portsOfNetwork(c, net.id))
      if (!isRouterPort(port.device_owner))
        await allocateAddresses(c, port, [subnet], [{ subnet, ip: null }], port.fixed_ips.length);
  return subnet;
}

/** Check and apply an update; the changes written. */
async function applyUpdate(c: NetworkCore, s: Subnet, p: Parsed): Promise<void> {
  const prefix = cidrOf(s.cidr);
  const gatewayText = p.values.has("gateway_ip") ? val<string | null>(p, "gateway_ip") : s.gateway_ip;
  const gw = checkGateway(gatewayText, prefix);
  if (p.values.has("gateway_ip") && gatewayText !== null && gatewayText !== s.gateway_ip) {
    const holder = await holderOf(c, s.network_id, gatewayText);
    if (holder)
      throw conflict(
        "GatewayIpInUse",
        `Current gateway ip ${gatewayText} already in use by port ${holder}. Unable to update.`,
      );
  }
  const poolsGiven = val<PoolText[] | undefined>(p, "allocation_pools");
  const pools = poolsGiven
    ? poolsFor(poolsGiven, prefix, gw)
    : p.values.has("gateway_ip")
      ? poolsFor(s.allocation_pools, prefix, gw)
      : s.allocation_pools;
  const dns = val<string[] | undefined>(p, "dns_nameservers") ?? s.dns_nameservers;
  const routes = val<HostRoute[] | undefined>(p, "host_routes") ?? s.host_routes;
  checkDnsAndRoutes(c, s.id, s.ip_version, dns, routes);
  const enableDhcp = val<boolean | undefined>(p, "enable_dhcp") ?? s.enable_dhcp;
  checkIpv6Modes(s.ip_version, s.ipv6_ra_mode, s.ipv6_address_mode, enableDhcp, prefix);
  await updateSubnet(c, s.id, {
    name: val(p, "name"),
    description: val(p, "description"),
    gateway_ip: p.values.has("gateway_ip") ? gatewayText : undefined,
    enable_dhcp: val(p, "enable_dhcp"),
    allocation_pools: poolsGiven || p.values.has("gateway_ip") ? pools : undefined,
    dns_nameservers: val(p, "dns_nameservers"),
    host_routes: val(p, "host_routes"),
  });
}

/** Routes of /v2.0/subnets. */
export function subnetRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/subnets",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const subnets = await listSubnets(core, caller);
        const [targets, tags] = await Promise.all([
          subnetTargets(core, caller, subnets),
          tagsFor(
            core,
            "subnets",
            subnets.map((s) => s.id),
          ),
        ]);
        const views = subnets
          .filter((s) => ctx.allowed("get_subnet", targets.get(s.id) as Target))
          .map((s) => ({
            ...subnetView(s, tags.get(s.id) ?? []),
            shared: (targets.get(s.id) as Target).shared,
          }));
        const out = listResponse(ctx, LIST, views);
        // "shared" is a filter (subnets of shared networks), not an attribute of a subnet.
        for (const v of out.subnets as Record<string, unknown>[]) delete v.shared;
        return out;
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/subnets",
      policy: null,
      auth: "required",
      body: resourceBody("subnet", "subnets"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "subnets");
        const items = bodyItems(ctx.body, "subnet", "subnets").map((item) => parseCreate(item, ATTRS));
        const plans: Array<{ p: Parsed; project: string; net: Network }> = [];
        for (const p of items) {
          const project = projectOf(p, caller.projectId);
          const net = await networkFor(ctx, core, val(p, "network_id"));
          const shared = grants(
            (await rbacFor(core, "network", [net.id])).get(net.id) ?? [],
            "access_as_shared",
            caller.projectId,
          );
          enforceWrite(ctx, "create_subnet", [], {
            project_id: project,
            tenant_id: project,
            network_id: net.id,
            "network:project_id": net.project_id,
            "network:tenant_id": net.project_id,
            shared,
          });
          plans.push({ p, project, net });
        }
        const byProject = new Map<string, Array<{ p: Parsed; net: Network }>>();
        for (const { p, project, net } of plans)
          byProject.set(project, [...(byProject.get(project) ?? []), { p, net }]);
        const created: Subnet[] = [];
        // Every subnet of a project's bulk create, or none.
        for (const [project, items] of byProject)
          created.push(
            ...(await withQuota(core, project, "subnet", items.length, async (c) => {
              const out: Subnet[] = [];
              for (const { p, net } of items) out.push(await createOne(c, ctx, p, project, net));
              return out;
            })),
          );
        for (const s of created) core.notify.networkUpdated(s.network_id);
        const views = await Promise.all(created.map((s) => viewOf(core, s)));
        return reply(201, bulk ? { subnets: views } : { subnet: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/subnets/:subnet_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { subnet } = await loadSubnet(ctx, core, ctx.params.subnet_id);
        return { subnet: selectFields(await viewOf(core, subnet), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/subnets/:subnet_id",
      policy: null,
      auth: "required",
      body: resourceBody("subnet"),
      handler: async (ctx) => {
        const { subnet } = await loadSubnet(ctx, core, ctx.params.subnet_id, "update_subnet");
        const p = parseUpdate(bodyItem(ctx.body, "subnet"), ATTRS);
        await core.transaction((c) => applyUpdate(c, subnet, p));
        core.notify.networkUpdated(subnet.network_id);
        return { subnet: await viewOf(core, (await getSubnet(core, subnet.id)) as Subnet) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/subnets/:subnet_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { subnet } = await loadSubnet(ctx, core, ctx.params.subnet_id, "delete_subnet");
        const touched = await core.transaction(async (c) => {
          const ports = (await portsOfNetwork(c, subnet.network_id)).filter((port) =>
            port.fixed_ips.some((f) => f.subnet_id === subnet.id),
          );
          if (!isAutoAddress(subnet) && ports.some((port) => port.device_owner !== "network:dhcp"))
            throw conflict(
              "SubnetInUse",
              `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
            );
          for (const port of ports)
            await releaseAddresses(
              c,
              port.id,
              port.fixed_ips.filter((f) => f.subnet_id === subnet.id),
            );
          await deleteSubnetRow(c, subnet.id);
          await removeTags(c, "subnets", subnet.id);
          return ports;
        });
        for (const port of touched) core.notify.portUpdated(port.id);
        core.notify.networkUpdated(subnet.network_id);
        return noContent();
      },
    }),
  ];
}
