// Ports for a server (Nova's allocate_for_instance / deallocate_for_instance): the conductor makes or binds the
// ports once the server has a host, as the nova service user, and records them in the network info cache; a
// failure undoes what was done so far, newest first. Deallocation deletes the ports compute created and only
// unbinds the ones the user passed in.
import type { ComputeCore } from "../core.js";
import type { Instance, RequestedNic, VifInfo } from "../instances/store.js";
import { casUpdate } from "../instances/store.js";
import type { NetPort, NetworkClient } from "../network-client.js";
import { addressesOf } from "./addresses.js";
import { portSecurityGroups } from "./security-groups.js";

/** Neutron's host-side device name for a port: "tap" and the first 11 characters of its id. */
export const tapName = (portId: string): string => `tap${portId.slice(0, 11)}`;

/** The network info cache entry of a port: its network, binding, fixed IPs and the floating IPs on them. */
export async function vifOf(
  net: NetworkClient,
  port: NetPort,
  preserveOnDelete: boolean,
  tag?: string,
): Promise<VifInfo> {
  const n = await net.showNetwork(port.network_id);
  const floating = await net.listFloatingIps(`port_id=${encodeURIComponent(port.id)}`);
  const ids = [...new Set(port.fixed_ips.map((f) => f.subnet_id))];
  const subnets = ids.length
    ? await net.listSubnets(ids.map((i) => `id=${encodeURIComponent(i)}`).join("&"))
    : [];
  return {
    portId: port.id,
    networkId: port.network_id,
    networkName: n.name,
    mac: port.mac_address,
    mtu: n.mtu,
    devname: tapName(port.id),
    ips: port.fixed_ips.map((f) => {
      const fips = floating
        .filter((x) => x.fixed_ip_address === f.ip_address)
        .map((x) => x.floating_ip_address);
      return {
        address: f.ip_address,
        version: f.ip_address.includes(":") ? 6 : 4,
        subnetId: f.subnet_id,
        ...(fips.length ? { floating: fips } : {}),
      };
    }),
    subnets: subnets.map((s) => ({
      id: s.id,
      cidr: s.cidr,
      version: s.ip_version,
      gateway: s.gateway_ip,
      enableDhcp: s.enable_dhcp,
      dns: s.dns_nameservers ?? [],
      routes: (s.host_routes ?? []).map((r) => ({ cidr: r.destination, gateway: r.nexthop })),
      ...(s.ipv6_address_mode ? { ipv6AddressMode: s.ipv6_address_mode } : {}),
    })),
    vifType: port["binding:vif_type"] ?? "unbound",
    vifDetails: port["binding:vif_details"] ?? {},
    preserveOnDelete,
    ...(tag ? { tag } : {}),
  };
}

/** The binding attributes of a port serving `inst` on `host`. */
export function bindingFor(inst: Instance, host: string): Record<string, unknown> {
  return {
    device_id: inst.uuid,
    device_owner: `compute:${inst.availability_zone ?? "nova"}`,
    "binding:host_id": host,
  };
}

/** Attributes that release a user's port from a server. */
export const UNBOUND = { device_id: "", device_owner: "", "binding:host_id": "" };

/** Make or bind one NIC's port; returns its cache entry and how to undo it. */
export async function plugNic(
  net: NetworkClient,
  inst: Instance,
  host: string,
  nic: RequestedNic,
): Promise<{ vif: VifInfo; undo: () => Promise<void> }> {
  if (nic.portId) {
    const port = await net.updatePort(nic.portId, bindingFor(inst, host));
    return {
      vif: await vifOf(net, port, true, nic.tag),
      undo: async () => void (await net.updatePort(port.id, UNBOUND)),
    };
  }
  const body: Record<string, unknown> = {
    network_id: nic.networkId,
    project_id: inst.project_id,
    ...bindingFor(inst, host),
  };
  if (nic.fixedIp) body.fixed_ips = [{ ip_address: nic.fixedIp }];
  const groups = portSecurityGroups(inst.security_groups ?? []);
  if (groups) body.security_groups = groups;
  const port = await net.createPort(body);
  const undo = () => net.deletePort(port.id);
  try {
    return { vif: await vifOf(net, port, false, nic.tag), undo };
  } catch (e) {
    await undo();
    throw e;
  }
}

/** Save a server's network info cache and the `addresses` shown from it. */
export async function saveNetworkInfo(core: ComputeCore, uuid: string, vifs: VifInfo[]): Promise<void> {
  await casUpdate(core.db, uuid, { live: false }, { network_info: vifs, addresses: addressesOf(vifs) });
}

/** Create or bind the ports `inst` asked for on `host`; all or nothing. */
export async function allocateNetworks(core: ComputeCore, inst: Instance, host: string): Promise<VifInfo[]> {
  const net = core.neutron;
  const nics = inst.request_spec.nics ?? [];
  if (!net || nics.length === 0) return [];
  const undo: Array<() => Promise<void>> = [];
  const vifs: VifInfo[] = [];
  try {
    for (const nic of nics) {
      const done = await plugNic(net, inst, host, nic);
      undo.push(done.undo);
      vifs.push(done.vif);
    }
  } catch (e) {
    for (const u of undo.reverse())
      await u().catch((err: Error) =>
        core.log.warn({ uuid: inst.uuid, err: err.message }, "could not undo a port allocation"),
      );
    throw e;
  }
  await saveNetworkInfo(core, inst.uuid, vifs);
  return vifs;
}

/**
 * Free a server's ports: delete those compute created (the cache's, and any port still naming the server as a
 * compute device, e.g. one made before a crash), unbind the user's. The cache is emptied.
 */
export async function deallocateNetworks(core: ComputeCore, inst: Instance): Promise<void> {
  const net = core.neutron;
  if (!net) return;
  const cached = inst.network_info ?? [];
  const preserved = new Set(cached.filter((v) => v.preserveOnDelete).map((v) => v.portId));
  for (const n of inst.request_spec.nics ?? []) if (n.portId) preserved.add(n.portId);
  const owned = await net.listPorts(`device_id=${encodeURIComponent(inst.uuid)}`);
  const ids = new Set([...cached.map((v) => v.portId), ...owned.map((p) => p.id)]);
  for (const id of ids) {
    if (preserved.has(id)) await net.updatePort(id, UNBOUND).catch(() => undefined);
    else await net.deletePort(id);
  }
  if (cached.length > 0) await saveNetworkInfo(core, inst.uuid, []);
}
