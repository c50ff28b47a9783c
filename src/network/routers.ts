// Routers as Neutron's L3 plugin keeps them: a gateway port (network:router_gateway) with an address on an
// external network, interfaces (network:router_interface ports, by subnet with its gateway address or by an
// existing port), static routes whose next hop is on a connected subnet, and the 409s that keep floating IPs and
// routes consistent. The caller has checked policy; every change runs in one transaction.
import { nowIso } from "../shared/db/index.js";
import type { NetworkCore } from "./core.js";
import { badRequest, conflict, nerr, notFound } from "./errors.js";
import { cidrContains, cidrOf, cidrsOverlap, parseIp } from "./ipam/addr.js";
import { createPortIn } from "./port-write.js";
import { withQuota } from "./quotas.js";
import { floatingIpsOfRouter, forwardingsToPorts } from "./store/floatingips.js";
import { getNetwork } from "./store/networks.js";
import { deletePortRows, getPort, portsOfNetwork, updatePortRow, type Port } from "./store/ports.js";
import {
  deleteRouterRow,
  insertRouter,
  ROUTER_GATEWAY,
  ROUTER_INTERFACE,
  saveRouter,
  type Router,
  type RouterRoute,
} from "./store/routers.js";
import { getSubnet, type Subnet } from "./store/subnets.js";
import { removeTags } from "./store/tags.js";
import { netDb } from "./store/tables.js";

/** external_gateway_info as a request gives it. */
export interface GatewayInput {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: Array<{ subnet_id?: string; ip_address?: string }>;
}

/** What a router create or update gives (undefined: not given; gateway null: remove it). */
export interface RouterInput {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  gateway?: GatewayInput | null;
  routes?: RouterRoute[];
  availability_zone_hints?: string[];
}

/** The ports a router owns (gateway and interfaces). */
export async function routerPorts(core: NetworkCore, routerId: string): Promise<Port[]> {
  const rows = await netDb(core)
    .selectFrom("network_port")
    .select("id")
    .where("device_id", "=", routerId)
    .where("device_owner", "in", [ROUTER_GATEWAY, ROUTER_INTERFACE])
    .execute();
  const out: Port[] = [];
  for (const r of rows) {
    const p = await getPort(core, r.id);
    if (p) out.push(p);
  }
  return out;
}

const interfacesOf = (ports: Port[]) => ports.filter((p) => p.device_owner === ROUTER_INTERFACE);

async function deleteServicePort(c: NetworkCore, portId: string): Promise<void> {
  await deletePortRows(c, portId);
  await removeTags(c, "ports", portId);
}

/** Replace (or remove) a router's gateway port inside a transaction. */
async function setGateway(c: NetworkCore, router: Router, gw: GatewayInput | null): Promise<string[]> {
  const touched: string[] = [];
  const old = router.gw_port_id ? await getPort(c, router.gw_port_id) : null;
  if (gw === null || (old && old.network_id !== gw.network_id)) {
    if ((await floatingIpsOfRouter(c, router.id)).length)
      throw conflict(
        "RouterExternalGatewayInUseByFloatingIp",
        `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${old?.network_id} is required by one or more floating IPs.`,
      );
  }
  if (gw === null) {
    if (old) await deleteServicePort(c, old.id);
    router.gw_port_id = null;
    router.enable_snat = true;
    return old ? [old.id] : [];
  }
  const net = await getNetwork(c, gw.network_id);
  if (!net) throw notFound("network", gw.network_id);
  if (!net.router_external)
    throw badRequest(`Bad router request: Network ${net.id} is not a valid external network.`);
  const sameNet = old && old.network_id === net.id;
  if (!sameNet || gw.external_fixed_ips !== undefined) {
    if (old) {
      await deleteServicePort(c, old.id);
      touched.push(old.id);
    }
    const port = await createPortIn(
      c,
      {
        device_owner: ROUTER_GATEWAY,
        device_id: router.id,
        fixed_ips: gw.external_fixed_ips,
        port_security_enabled: false,
        name: "",
      },
      "",
      net,
    );
    if (!port.fixed_ips.length)
      throw badRequest(`Bad router request: No IP addresses available on network ${net.id}.`);
    router.gw_port_id = port.id;
    touched.push(port.id);
  }
  if (gw.enable_snat !== undefined) router.enable_snat = gw.enable_snat;
  else if (!sameNet) router.enable_snat = true;
  return touched;
}

/** 400 unless every route's next hop lies in a subnet the router is connected to (and is not its own address). */
async function checkRoutes(c: NetworkCore, router: Router, routes: RouterRoute[]): Promise<void> {
  const max = 30;
  if (routes.length > max)
    throw badRequest(`Number of routes exceeds the maximum ${max} per router (extraroute: RoutesExhausted).`);
  const ports = await routerPorts(c, router.id);
  const subnets: Subnet[] = [];
  for (const p of ports)
    for (const f of p.fixed_ips) {
      const s = await getSubnet(c, f.subnet_id);
      if (s) subnets.push(s);
    }
  const own = new Set(ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address)));
  for (const r of routes) {
    const hop = parseIp(r.nexthop)!;
    if (own.has(r.nexthop) || !subnets.some((s) => cidrContains(cidrOf(s.cidr), hop)))
      throw nerr(
        400,
        "InvalidRoutes",
        `Invalid format for routes: ${JSON.stringify(r)}, the nexthop does not belong to router's subnets or is the router's own address.`,
      );
    if (cidrOf(r.destination).version !== hop.version)
      throw nerr(400, "InvalidRoutes", `Invalid format for routes: ${JSON.stringify(r)}, mixed IP versions.`);
  }
}

/** Insert a router and set its gateway inside the caller's transaction; the ports made are returned. */
export async function insertRouterWithGateway(
  c: NetworkCore,
  router: Router,
  gateway: GatewayInput | undefined,
): Promise<string[]> {
  await insertRouter(c, router);
  if (!gateway) return [];
  const t = await setGateway(c, router, gateway);
  await saveRouter(c, router);
  return t;
}

/** Create a router (with its gateway) under the router quota. */
export async function createRouter(core: NetworkCore, project: string, input: RouterInput): Promise<Router> {
  const now = nowIso();
  const router: Router = {
    id: core.newId(),
    project_id: project,
    name: input.name ?? "",
    description: input.description ?? "",
    admin_state_up: input.admin_state_up ?? true,
    status: "ACTIVE",
    gw_port_id: null,
    enable_snat: true,
    routes: [],
    availability_zone_hints: input.availability_zone_hints ?? [],
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  const touched = await withQuota(core, project, "router", 1, (c) =>
    insertRouterWithGateway(c, router, input.gateway ?? undefined),
  );
  for (const id of touched) core.notify.portUpdated(id);
  core.notify.routerUpdated(router.id);
  return router;
}

/** Apply an update to a router. */
export async function updateRouter(core: NetworkCore, router: Router, input: RouterInput): Promise<Router> {
  const next: Router = { ...router };
  const touched = await core.transaction(async (c) => {
    if (input.name !== undefined) next.name = input.name;
    if (input.description !== undefined) next.description = input.description;
    if (input.admin_state_up !== undefined) next.admin_state_up = input.admin_state_up;
    const t = input.gateway !== undefined ? await setGateway(c, next, input.gateway) : [];
    if (input.routes !== undefined) {
      await checkRoutes(c, next, input.routes);
      next.routes = input.routes;
    }
    next.revision_number = router.revision_number + 1;
    next.updated_at = nowIso();
    await saveRouter(c, next);
    return t;
  });
  for (const id of touched) core.notify.portUpdated(id);
  core.notify.routerUpdated(router.id);
  return next;
}

/** Delete a router: 409 RouterInUse while it has interfaces; its gateway port goes with it. */
export async function deleteRouter(core: NetworkCore, router: Router): Promise<void> {
  const gone = await core.transaction(async (c) => {
    const ports = await routerPorts(c, router.id);
    if (interfacesOf(ports).length)
      throw conflict(
        "RouterInUse",
        `Router ${router.id} still has ports: Router ${router.id} has ports still attached.`,
      );
    for (const p of ports) await deleteServicePort(c, p.id);
    await removeTags(c, "routers", router.id);
    await deleteRouterRow(c, router.id);
    return ports;
  });
  core.notify.routerDeleted(router.id);
  for (const p of gone) core.notify.portDeleted(p.id, p.network_id);
}

/** What add/remove_router_interface answers. */
export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

const infoOf = (router: Router, port: Port): InterfaceInfo => ({
  id: router.id,
  tenant_id: router.project_id,
  project_id: router.project_id,
  port_id: port.id,
  network_id: port.network_id,
  subnet_id: port.fixed_ips[0]?.subnet_id ?? "",
  subnet_ids: port.fixed_ips.map((f) => f.subnet_id),
});

/** 400 when the router already has an interface on one of these subnets. */
function checkNotConnected(router: Router, ifaces: Port[], subnetIds: string[]): void {
  for (const s of subnetIds)
    if (ifaces.some((p) => p.fixed_ips.some((f) => f.subnet_id === s)))
      throw badRequest(`Bad router request: Router already has a port on subnet ${s}.`);
}

/**
 * 400 when a subnet to attach overlaps a subnet the router already has a port on (Neutron's check: the router
 * could not tell the two apart).
 */
async function checkNoOverlap(c: NetworkCore, ports: Port[], adding: Subnet[]): Promise<void> {
  const ids = new Set(ports.flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)));
  for (const id of ids) {
    const have = await getSubnet(c, id);
    if (!have) continue;
    for (const s of adding)
      if (
        s.id !== have.id &&
        s.ip_version === have.ip_version &&
        cidrsOverlap(cidrOf(s.cidr), cidrOf(have.cidr))
      )
        throw badRequest(
          `Bad router request: Cidr ${s.cidr} of subnet ${s.id} overlaps with cidr ${have.cidr} of subnet ${have.id}.`,
        );
  }
}

/** Attach a subnet (a new port with the subnet's gateway address) to a router. */
export async function addInterfaceBySubnet(
  core: NetworkCore,
  router: Router,
  subnet: Subnet,
): Promise<InterfaceInfo> {
  const port = await core.transaction((c) => interfacePortIn(c, router, subnet));
  core.notify.portUpdated(port.id);
  core.notify.routerUpdated(router.id);
  return infoOf(router, port);
}

/** Make a router's interface port on a subnet inside the caller's transaction. */
export async function interfacePortIn(c: NetworkCore, router: Router, subnet: Subnet): Promise<Port> {
  if (!subnet.gateway_ip)
    throw badRequest(`Bad router request: Subnet ${subnet.id} does not have a gateway IP.`);
  {
    const ports = await routerPorts(c, router.id);
    checkNotConnected(router, interfacesOf(ports), [subnet.id]);
    await checkNoOverlap(c, ports, [subnet]);
    const net = await getNetwork(c, subnet.network_id);
    if (!net) throw notFound("network", subnet.network_id);
    if (net.router_external)
      throw badRequest(`Bad router request: Router interface cannot be on external network ${net.id}.`);
    return createPortIn(
      c,
      {
        device_owner: ROUTER_INTERFACE,
        device_id: router.id,
        fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip as string }],
        port_security_enabled: false,
        name: "",
      },
      router.project_id,
      net,
    );
  }
}

/** Attach an existing, unused port to a router. */
export async function addInterfaceByPort(
  core: NetworkCore,
  router: Router,
  port: Port,
): Promise<InterfaceInfo> {
  if (port.device_owner || port.device_id)
    throw conflict(
      "PortInUse",
      `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id || port.device_owner}.`,
    );
  if (!port.fixed_ips.length)
    throw badRequest(`Bad router request: Router port must have at least one fixed IP.`);
  const updated = await core.transaction(async (c) => {
    const net = await getNetwork(c, port.network_id);
    if (net?.router_external)
      throw badRequest(`Bad router request: Router interface cannot be on external network ${net.id}.`);
    const ports = await routerPorts(c, router.id);
    checkNotConnected(
      router,
      interfacesOf(ports),
      port.fixed_ips.map((f) => f.subnet_id),
    );
    const subnets = await Promise.all(port.fixed_ips.map((f) => getSubnet(c, f.subnet_id)));
    await checkNoOverlap(
      c,
      ports,
      subnets.filter((x) => x !== null),
    );
    const next: Port = {
      ...port,
      device_owner: ROUTER_INTERFACE,
      device_id: router.id,
      revision_number: port.revision_number + 1,
      updated_at: nowIso(),
    };
    await updatePortRow(c, next);
    return next;
  });
  core.notify.portUpdated(port.id);
  core.notify.routerUpdated(router.id);
  return infoOf(router, updated);
}

/** Detach an interface (by subnet, port, or both, which must agree); 409 while floating IPs or routes need it. */
export async function removeInterface(
  core: NetworkCore,
  router: Router,
  by: { subnet_id?: string; port_id?: string },
): Promise<InterfaceInfo> {
  const port = await core.transaction(async (c) => {
    const ifaces = interfacesOf(await routerPorts(c, router.id));
    let port: Port | undefined;
    if (by.port_id !== undefined) {
      port = ifaces.find((p) => p.id === by.port_id);
      if (!port)
        throw nerr(
          404,
          "RouterInterfaceNotFound",
          `Router ${router.id} does not have an interface with id ${by.port_id}`,
        );
      if (by.subnet_id !== undefined && !port.fixed_ips.some((f) => f.subnet_id === by.subnet_id))
        throw nerr(
          409,
          "SubnetMismatchForPort",
          `Subnet on port ${port.id} does not match the requested subnet ${by.subnet_id}.`,
        );
    } else {
      port = ifaces.find((p) => p.fixed_ips.some((f) => f.subnet_id === by.subnet_id));
      if (!port)
        throw nerr(
          404,
          "RouterInterfaceNotFoundForSubnet",
          `Router ${router.id} has no interface on subnet ${by.subnet_id}`,
        );
    }
    const iface = port;
    const subnets: Subnet[] = [];
    for (const f of iface.fixed_ips) {
      const s = await getSubnet(c, f.subnet_id);
      if (s) subnets.push(s);
    }
    const inSubnets = (ip: string) => subnets.some((s) => cidrContains(cidrOf(s.cidr), parseIp(ip)!));
    const viaRouter = await floatingIpsOfRouter(c, router.id);
    const forwarded = await forwardingsToPorts(
      c,
      (await portsOfNetwork(c, iface.network_id)).map((p) => p.id),
    );
    const fips = viaRouter.filter(
      (f) =>
        (f.fixed_ip_address !== null && inSubnets(f.fixed_ip_address)) ||
        forwarded.some((pf) => pf.floatingip_id === f.id && inSubnets(pf.internal_ip_address)),
    );
    if (fips.length)
      throw conflict(
        "RouterInterfaceInUseByFloatingIP",
        `Router interface for subnet ${subnets[0]?.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
      );
    const byRoute = router.routes.find((r) => inSubnets(r.nexthop));
    if (byRoute)
      throw conflict(
        "RouterInterfaceInUseByRoute",
        `Router interface for subnet ${subnets[0]?.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
      );
    await deleteServicePort(c, iface.id);
    return iface;
  });
  core.notify.portDeleted(port.id, port.network_id);
  core.notify.routerUpdated(router.id);
  return infoOf(router, port);
}

/**
 * The router that connects a port's subnet to an external network: one with its gateway on `externalNet` and an
 * interface on the subnet holding `fixedIp`; null when there is none.
 */
export async function routerBetween(
  core: NetworkCore,
  externalNet: string,
  port: Port,
  fixedIp: string,
): Promise<string | null> {
  const subnetId = port.fixed_ips.find((f) => f.ip_address === fixedIp)?.subnet_id;
  if (!subnetId) return null;
  const rows = await netDb(core)
    .selectFrom("network_port as i")
    .innerJoin("network_ip_allocation as a", "a.port_id", "i.id")
    .innerJoin("network_router as r", "r.id", "i.device_id")
    .innerJoin("network_port as g", "g.id", "r.gw_port_id")
    .select("r.id")
    .where("i.device_owner", "=", ROUTER_INTERFACE)
    .where("a.subnet_id", "=", subnetId)
    .where("g.network_id", "=", externalNet)
    .execute();
  return rows[0]?.id ?? null;
}
