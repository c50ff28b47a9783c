// Creating, changing and deleting ports: MAC chosen (or checked) unique on the network, addresses allocated
// through IPAM, port security with its security groups (the project's default group when none are named) and
// allowed address pairs, extra DHCP options, and the binding to a host. The caller has checked policy; every
// write runs in one transaction and the agents are told after it committed.
import { nowIso } from "../shared/db/index.js";
import { bindPort } from "./binding.js";
import { notifyNetworkChanged, notifyPortDeleted } from "./compute-notifier.js";
import { deleteBinding } from "./store/port-bindings.js";
import type { NetworkCore } from "./core.js";
import { mergeDhcpOpts, type parseDhcpOpt } from "./dhcp-opts.js";
import { conflict, nerr, notFound } from "./errors.js";
import { generateMac } from "./ipam/mac.js";
import {
  allocateAddresses,
  isRouterPort,
  planRequested,
  type IpRequest,
  type Planned,
} from "./port-addresses.js";
import { withQuota } from "./quotas.js";
import type { Network } from "./store/networks.js";
import {
  deletePortRows,
  getPort,
  macInUse,
  releaseAddresses,
  setPortGroups,
  tryInsertPort,
  updatePortRow,
  type AddressPair,
  type FixedIp,
  type Port,
} from "./store/ports.js";
import { ensureDefaultGroup, groupSharedWith, groupsByIds } from "./store/security-groups.js";
import { isAutoAddress, subnetsOfNetworks, type Subnet } from "./store/subnets.js";
import { removeTags } from "./store/tags.js";
import { floatingIpsOfPorts, releaseFloatingIps } from "./store/floatingips.js";

/** What a create or update gives (undefined: not given). */
export interface PortInput {
  name?: string;
  description?: string;
  admin_state_up?: boolean;
  mac_address?: string;
  fixed_ips?: IpRequest[];
  device_id?: string;
  device_owner?: string;
  security_groups?: string[];
  port_security_enabled?: boolean;
  allowed_address_pairs?: Array<{ ip_address: string; mac_address?: string }>;
  extra_dhcp_opts?: Array<ReturnType<typeof parseDhcpOpt>>;
  binding_host_id?: string;
  binding_profile?: Record<string, unknown>;
  binding_vnic_type?: string;
}

const MAC_TRIES = 16;

/** Owners whose ports cannot be deleted through the port API (routers and floating IPs own them). */
const SERVICE_OWNERS = new Set([
  "network:router_interface",
  "network:router_interface_distributed",
  "network:ha_router_replicated_interface",
  "network:router_gateway",
  "network:floatingip",
]);

/** Address pairs with their MACs filled in; 400 past the limit or for duplicates. */
function pairsOf(core: NetworkCore, mac: string, given: PortInput["allowed_address_pairs"]): AddressPair[] {
  const pairs = (given ?? []).map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? mac }));
  const max = core.cfg.network.maxAllowedAddressPairs;
  if (pairs.length > max)
    throw nerr(
      400,
      "AllowedAddressPairExhausted",
      `The number of allowed address pair exceeds the maximum ${max}.`,
    );
  const seen = new Set<string>();
  for (const p of pairs) {
    const k = `${p.mac_address}|${p.ip_address}`;
    if (seen.has(k))
      throw nerr(
        400,
        "DuplicateAddressPairInRequest",
        `Request contains duplicate address pair: mac_address ${p.mac_address} ip_address ${p.ip_address}.`,
      );
    seen.add(k);
  }
  return pairs;
}

/** 409 for the combinations port security forbids. */
function checkSecurity(secure: boolean, groups: string[], pairs: AddressPair[]): void {
  if (!secure && pairs.length)
    throw conflict(
      "AddressPairAndPortSecurityRequired",
      "Port Security must be enabled in order to have allowed address pairs on a port.",
    );
  if (!secure && groups.length)
    throw conflict(
      "PortSecurityAndIPRequiredForSecurityGroups",
      "Port security must be enabled and port must have an IP address in order to use security groups.",
    );
}

/** The port's groups: the named ones (each must be the port's project's), else its project's default group. */
async function groupsFor(
  c: NetworkCore,
  port: Pick<Port, "project_id" | "device_owner">,
  secure: boolean,
  named?: string[],
): Promise<string[]> {
  if (named !== undefined) {
    const found = await groupsByIds(c, named);
    for (const id of named) {
      const g = found.get(id);
      // The port's project's own groups, and those an RBAC entry shares with it.
      if (!g || (g.project_id !== port.project_id && !(await groupSharedWith(c, id, port.project_id))))
        throw notFound("security_group", id);
    }
    return [...new Set(named)];
  }
  // Ports of network devices (DHCP, routers) get no default group, as in Neutron.
  if (!secure || port.device_owner.startsWith("network:")) return [];
  return [await ensureDefaultGroup(c, port.project_id)];
}

/**
 * Create ports of one project (one request, or a bulk create's items) under its port quota, in one transaction:
 * every port or none. The agents are told once it committed.
 */
export async function createPorts(
  core: NetworkCore,
  project: string,
  items: Array<{ input: PortInput; net: Network }>,
): Promise<Port[]> {
  const created = await withQuota(core, project, "port", items.length, async (c) => {
    const out: Port[] = [];
    for (const { input, net } of items) out.push(await createPortIn(c, input, project, net));
    return out;
  });
  for (const p of created) core.notify.portUpdated(p.id);
  notifyMembers(
    core,
    created.flatMap((p) => p.security_groups),
  );
  return created;
}

/** Create one port inside the caller's (quota-checked) transaction (routers and floating IPs make theirs so). */
export async function createPortIn(
  c: NetworkCore,
  input: PortInput,
  project: string,
  net: Network,
): Promise<Port> {
  const secure = input.port_security_enabled ?? net.port_security_enabled;
  {
    const subnets = await subnetsOfNetworks(c, [net.id]);
    const owner = input.device_owner ?? "";
    const plan: Planned[] | undefined = input.fixed_ips
      ? planRequested(c, net.id, input.fixed_ips, subnets, owner)
      : undefined;
    const now = nowIso();
    const port: Port = {
      id: c.newId(),
      project_id: project,
      network_id: net.id,
      name: input.name ?? "",
      description: input.description ?? "",
      mac_address: input.mac_address ?? "",
      admin_state_up: input.admin_state_up ?? true,
      status: "DOWN",
      device_id: input.device_id ?? "",
      device_owner: owner,
      port_security_enabled: secure,
      binding_host_id: input.binding_host_id ?? "",
      binding_vnic_type: input.binding_vnic_type ?? "normal",
      binding_profile: input.binding_profile ?? {},
      binding_vif_type: "unbound",
      binding_vif_details: {},
      allowed_address_pairs: [],
      extra_dhcp_opts: mergeDhcpOpts([], input.extra_dhcp_opts ?? []),
      fixed_ips: [],
      security_groups: [],
      revision_number: 1,
      created_at: now,
      updated_at: now,
    };
    const binding = await bindPort(c, port);
    port.binding_vif_type = binding.vif_type;
    port.binding_vif_details = binding.vif_details;
    let inserted = false;
    for (let attempt = 0; attempt < MAC_TRIES && !inserted; attempt++) {
      if (!input.mac_address) port.mac_address = generateMac(c.cfg.network.baseMac, c.random);
      port.allowed_address_pairs = pairsOf(c, port.mac_address, input.allowed_address_pairs);
      inserted = await tryInsertPort(c, port);
      if (!inserted && input.mac_address) break;
    }
    if (!inserted)
      throw conflict(
        "MacAddressInUse",
        `Unable to complete operation for network ${net.id}. The mac address ${port.mac_address} is in use.`,
      );
    port.security_groups = await groupsFor(c, port, secure, input.security_groups);
    checkSecurity(secure, port.security_groups, port.allowed_address_pairs);
    await setPortGroups(c, port.id, port.security_groups);
    port.fixed_ips = await allocateAddresses(c, port, subnets, plan);
    return port;
  }
}

/**
 * A port's addresses after an update, as Neutron computes them: requested entries that name an address the port
 * has keep it; the others are allocated; SLAAC addresses stay (they follow the MAC when it changes); addresses
 * no longer asked for are released.
 */
async function readdress(
  c: NetworkCore,
  port: Port,
  next: Port,
  subnets: Subnet[],
  requested: IpRequest[] | undefined,
): Promise<FixedIp[]> {
  const bySubnet = new Map(subnets.map((s) => [s.id, s]));
  const isAuto = (f: FixedIp) => {
    const s = bySubnet.get(f.subnet_id);
    return s !== undefined && isAutoAddress(s);
  };
  const router = isRouterPort(next.device_owner);
  let kept: FixedIp[] = [...port.fixed_ips];
  let add: Planned[] = [];
  if (requested !== undefined) {
    const remaining = [...port.fixed_ips];
    const fresh: IpRequest[] = [];
    kept = [];
    for (const r of requested) {
      const i =
        r.ip_address === undefined
          ? -1
          : remaining.findIndex(
              (f) =>
                f.ip_address === r.ip_address && (r.subnet_id === undefined || r.subnet_id === f.subnet_id),
            );
      if (i >= 0) kept.push(...remaining.splice(i, 1));
      else fresh.push(r);
    }
    if (!router) kept.push(...remaining.filter(isAuto));
    add = planRequested(c, port.network_id, fresh, subnets, next.device_owner);
    if (kept.filter((f) => !isAuto(f)).length + add.length > c.cfg.network.maxFixedIpsPerPort)
      throw nerr(
        400,
        "InvalidInput",
        "Invalid input for operation: Exceeded maximum amount of fixed ips per port.",
      );
  }
  if (next.mac_address !== port.mac_address) {
    kept = kept.filter((f) => !isAuto(f));
    if (!router) add.push(...subnets.filter(isAutoAddress).map((subnet) => ({ subnet, ip: null })));
  }
  const released = port.fixed_ips.filter((f) => !kept.some((k) => k.ip_address === f.ip_address));
  await releaseAddresses(c, port.id, released);
  const added = await allocateAddresses(c, next, subnets, add, port.fixed_ips.length, false);
  return [...kept, ...added];
}

/** Change a port; returns it as stored. */
export async function updatePort(core: NetworkCore, port: Port, input: PortInput): Promise<Port> {
  await core.transaction(async (c) => {
    const next: Port = { ...port };
    const set = <K extends keyof PortInput & keyof Port>(k: K) => {
      if (input[k] !== undefined) (next as any)[k] = input[k];
    };
    for (const k of [
      "name",
      "description",
      "admin_state_up",
      "device_id",
      "device_owner",
      "port_security_enabled",
      "binding_host_id",
      "binding_profile",
      "binding_vnic_type",
    ] as const)
      set(k);
    if (input.mac_address !== undefined && input.mac_address !== port.mac_address) {
      if (port.binding_vif_type !== "unbound" && port.binding_vif_type !== "binding_failed")
        throw conflict(
          "PortBound",
          `Unable to complete operation on port ${port.id}, port is already bound, port type: ${port.binding_vif_type}, old_mac ${port.mac_address}, new_mac ${input.mac_address}.`,
        );
      if (await macInUse(c, port.network_id, input.mac_address, port.id))
        throw conflict(
          "MacAddressInUse",
          `Unable to complete operation for network ${port.network_id}. The mac address ${input.mac_address} is in use.`,
        );
      next.mac_address = input.mac_address;
    }
    if (input.allowed_address_pairs !== undefined)
      next.allowed_address_pairs = pairsOf(c, next.mac_address, input.allowed_address_pairs);
    if (input.extra_dhcp_opts !== undefined)
      next.extra_dhcp_opts = mergeDhcpOpts(port.extra_dhcp_opts, input.extra_dhcp_opts);
    if (input.security_groups !== undefined)
      next.security_groups = await groupsFor(c, next, next.port_security_enabled, input.security_groups);
    else if (
      input.port_security_enabled === true &&
      !port.port_security_enabled &&
      !next.security_groups.length
    )
      next.security_groups = await groupsFor(c, next, true);
    if (
      input.port_security_enabled === false &&
      next.security_groups.length &&
      input.security_groups === undefined
    )
      throw conflict(
        "PortSecurityPortHasSecurityGroup",
        "Port has security group associated. Cannot disable port security or ip address until security group is removed",
      );
    checkSecurity(next.port_security_enabled, next.security_groups, next.allowed_address_pairs);
    const subnets = await subnetsOfNetworks(c, [port.network_id]);
    if (input.fixed_ips !== undefined || next.mac_address !== port.mac_address)
      next.fixed_ips = await readdress(c, port, next, subnets, input.fixed_ips);
    if (input.binding_host_id !== undefined || input.port_security_enabled !== undefined) {
      const b = await bindPort(c, next);
      next.binding_vif_type = b.vif_type;
      next.binding_vif_details = b.vif_details;
      // A port leaving its host is DOWN until the new host's agent has plugged it (and compute hears it); an
      // inactive binding it had there is now its active one.
      if (next.binding_host_id !== port.binding_host_id) {
        next.status = "DOWN";
        if (next.binding_host_id) await deleteBinding(c, port.id, next.binding_host_id);
      }
    }
    await updatePortRow(c, next);
    if (input.security_groups !== undefined || next.security_groups !== port.security_groups)
      await setPortGroups(c, port.id, next.security_groups);
  });
  core.notify.portUpdated(port.id);
  const after = (await getPort(core, port.id)) as Port;
  if (JSON.stringify(after.fixed_ips) !== JSON.stringify(port.fixed_ips))
    await notifyNetworkChanged(core, [port.id]);
  // Remote-group rules of other groups follow a port's groups and addresses.
  if (
    JSON.stringify([after.security_groups, after.fixed_ips, after.allowed_address_pairs]) !==
    JSON.stringify([port.security_groups, port.fixed_ips, port.allowed_address_pairs])
  )
    notifyMembers(core, [...port.security_groups, ...after.security_groups]);
  return after;
}

/** Delete a port; 409 for ports routers or floating IPs own. */
export async function deletePort(core: NetworkCore, port: Port): Promise<void> {
  if (SERVICE_OWNERS.has(port.device_owner))
    throw conflict(
      "ServicePortInUse",
      `Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.device_owner}.`,
    );
  const routers = (await floatingIpsOfPorts(core, [port.id])).map((f) => f.router_id);
  await core.transaction(async (c) => {
    await releaseFloatingIps(c, port.id);
    await deletePortRows(c, port.id);
    await removeTags(c, "ports", port.id);
  });
  core.notify.portDeleted(port.id, port.network_id);
  core.notify.routerUpdated(...routers);
  notifyPortDeleted(core, port);
  notifyMembers(core, port.security_groups);
}

/** Tell the agents the members of these groups changed (rules naming them as remote groups follow). */
function notifyMembers(core: NetworkCore, groups: string[]): void {
  if (groups.length) core.notify.securityGroupsUpdated([...new Set(groups)]);
}
