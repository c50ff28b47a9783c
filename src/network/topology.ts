// The devstack-like networks `stratus up` creates once per cloud: `public` (the admin project's flat external
// network on physical network "public", with a subnet without DHCP) and `private` (the demo project's network with
// its subnet). Claimed through network_meta, so several API processes starting together create them once, and
// an operator who deletes them does not see them come back. router1 joins them (its own claim, so clouds made
// before routers existed get it on their next start).
import { isUniqueViolation, nowIso } from "../shared/db/index.js";
import type { NetworkCore } from "./core.js";
import { cidrOf, formatCidr } from "./ipam/addr.js";
import { allocateSegment, maxMtu, type ProviderRequest } from "./provider.js";
import { insertRouterWithGateway, interfacePortIn } from "./routers.js";
import { getNetwork, insertNetwork, type Network } from "./store/networks.js";
import type { Router } from "./store/routers.js";
import { insertRbac } from "./store/rbac.js";
import { getSubnet, insertSubnet } from "./store/subnets.js";
import { inSavepoint, netDb } from "./store/tables.js";
import { checkGateway, defaultGateway, poolsFor } from "./subnet-rules.js";

/** The projects the topology belongs to. */
export interface TopologyProjects {
  admin: string;
  demo: string;
}

/** What was created (ids), or null when an earlier start did it. */
export interface Topology {
  publicNetwork: string;
  publicSubnet: string;
  privateNetwork: string;
  privateSubnet: string;
}

async function network(
  c: NetworkCore,
  project: string,
  name: string,
  external: boolean,
  provider: ProviderRequest,
): Promise<Network> {
  const now = nowIso();
  const net: Network = {
    id: c.newId(),
    project_id: project,
    name,
    description: "",
    admin_state_up: true,
    status: "ACTIVE",
    mtu: 0,
    port_security_enabled: true,
    router_external: external,
    availability_zone_hints: [],
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  const seg = await allocateSegment(c, net.id, provider);
  net.mtu = maxMtu(c, seg.network_type);
  await insertNetwork(c, net);
  if (external)
    await insertRbac(c, {
      id: c.newId(),
      project_id: project,
      object_type: "network",
      object_id: net.id,
      action: "access_as_external",
      target_project: "*",
    });
  return net;
}

async function subnet(
  c: NetworkCore,
  net: Network,
  name: string,
  cidrText: string,
  dhcp: boolean,
): Promise<string> {
  const cidr = cidrOf(cidrText);
  const gateway = defaultGateway(cidr);
  const now = nowIso();
  const id = c.newId();
  await insertSubnet(c, {
    id,
    project_id: net.project_id,
    network_id: net.id,
    name,
    description: "",
    ip_version: cidr.version,
    cidr: formatCidr(cidr),
    gateway_ip: gateway,
    enable_dhcp: dhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    allocation_pools: poolsFor(undefined, cidr, checkGateway(gateway, cidr)),
    dns_nameservers: [],
    host_routes: [],
    revision_number: 1,
    created_at: now,
    updated_at: now,
  });
  return id;
}

/** Create the topology unless it was created before (by this or another process); what was created. */
export async function createTopology(
  core: NetworkCore,
  projects: TopologyProjects,
): Promise<Topology | null> {
  const cfg = core.cfg.network.topology;
  if (!cfg.enabled) return null;
  try {
    const made = await core.transaction(async (c) => {
      await inSavepoint(c.db, () =>
        netDb(c).insertInto("network_meta").values({ name: "topology", value: null }).execute(),
      );
      const pub = await network(c, projects.admin, "public", true, {
        networkType: "flat",
        physicalNetwork: "public",
      });
      const publicSubnet = await subnet(c, pub, "public-subnet", cfg.publicCidr, false);
      const priv = await network(c, projects.demo, "private", false, {});
      const privateSubnet = await subnet(c, priv, "private-subnet", cfg.privateCidr, true);
      const topo: Topology = { publicNetwork: pub.id, publicSubnet, privateNetwork: priv.id, privateSubnet };
      await netDb(c)
        .updateTable("network_meta")
        .set({ value: JSON.stringify(topo) })
        .where("name", "=", "topology")
        .execute();
      return topo;
    });
    core.notify.networkUpdated(made.publicNetwork);
    core.notify.networkUpdated(made.privateNetwork);
    await createTopologyRouter(core, projects.demo);
    return made;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // A cloud whose topology predates routers gets its router1 now (claimed once too).
    await createTopologyRouter(core, projects.demo);
    return null;
  }
}

/**
 * router1 of the demo project: gateway on `public`, interface on `private-subnet`, as devstack makes it. Claimed
 * in network_meta ("topology_router"), so it is made once per cloud, and only while both networks still exist.
 */
export async function createTopologyRouter(core: NetworkCore, demo: string): Promise<string | null> {
  const row = await netDb(core)
    .selectFrom("network_meta")
    .select("value")
    .where("name", "=", "topology")
    .executeTakeFirst();
  if (!row?.value) return null;
  const topo = JSON.parse(row.value) as Topology;
  try {
    const made = await core.transaction(async (c) => {
      await inSavepoint(c.db, () =>
        netDb(c).insertInto("network_meta").values({ name: "topology_router", value: null }).execute(),
      );
      const subnet = await getSubnet(c, topo.privateSubnet);
      if (!(await getNetwork(c, topo.publicNetwork)) || !subnet) return null;
      const now = nowIso();
      const router: Router = {
        id: c.newId(),
        project_id: demo,
        name: "router1",
        description: "",
        admin_state_up: true,
        status: "ACTIVE",
        gw_port_id: null,
        enable_snat: true,
        routes: [],
        availability_zone_hints: [],
        revision_number: 1,
        created_at: now,
        updated_at: now,
      };
      const ports = await insertRouterWithGateway(c, router, { network_id: topo.publicNetwork });
      ports.push((await interfacePortIn(c, router, subnet)).id);
      await netDb(c)
        .updateTable("network_meta")
        .set({ value: router.id })
        .where("name", "=", "topology_router")
        .execute();
      return { id: router.id, ports };
    });
    for (const p of made?.ports ?? []) core.notify.portUpdated(p);
    core.notify.routerUpdated(made?.id);
    return made?.id ?? null;
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
}
