// What the agent hands its driver, read from the database: a network's segment and MTU, a port's addresses and
// security settings, and the security groups a host enforces (rules and member addresses).
import type { NetworkCore } from "../core.js";
import type { NetworkSpec, PortSpec, SegmentSpec } from "../drivers/types.js";
import { normalizedCidr } from "../sg-rules.js";
import { getNetwork } from "../store/networks.js";
import type { Port } from "../store/ports.js";
import { rulesOf } from "../store/security-group-rules.js";
import { groupMembers, groupsByIds } from "../store/security-groups.js";
import { segmentsFor } from "../store/segments.js";

/** A network as a driver sees it, or null when it is gone. */
export async function networkSpec(core: NetworkCore, id: string): Promise<NetworkSpec | null> {
  const net = await getNetwork(core, id);
  if (!net) return null;
  const seg = (await segmentsFor(core, [id])).get(id);
  const segment: SegmentSpec = {
    networkType: (seg?.network_type ?? "local") as SegmentSpec["networkType"],
    physicalNetwork: seg?.physical_network ?? null,
    segmentationId: seg?.segmentation_id ?? null,
  };
  return { id, mtu: net.mtu, adminStateUp: net.admin_state_up, segment, external: net.router_external };
}

/** A port as a driver sees it. */
export function portSpec(p: Port): PortSpec {
  return {
    id: p.id,
    networkId: p.network_id,
    macAddress: p.mac_address,
    fixedIps: p.fixed_ips.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    adminStateUp: p.admin_state_up,
    portSecurityEnabled: p.port_security_enabled,
    allowedAddressPairs: p.allowed_address_pairs.map((a) => ({
      ipAddress: a.ip_address,
      macAddress: a.mac_address,
    })),
    securityGroupIds: p.security_groups,
    deviceOwner: p.device_owner,
    deviceId: p.device_id,
    extraDhcpOpts: p.extra_dhcp_opts.flatMap((o) =>
      o.opt_value === null || o.opt_value === undefined
        ? []
        : [
            {
              name: o.opt_name,
              value: o.opt_value,
              ipVersion: o.ip_version === 6 ? (6 as const) : (4 as const),
            },
          ],
    ),
  };
}

/** A security group rule as a driver sees it (protocol: a name, a number as text, or null for any). */
export interface SecurityGroupRuleSpec {
  id: string;
  direction: "ingress" | "egress";
  ethertype: "IPv4" | "IPv6";
  protocol: string | null;
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
}

/** A security group as a driver enforces it: its rules and the addresses of its member ports (for remote groups). */
export interface SecurityGroupSpec {
  id: string;
  stateful: boolean;
  rules: SecurityGroupRuleSpec[];
  /** Fixed IPs and allowed address pairs of every port in the group, on any host. */
  members: string[];
}

/** The effective rules of these groups and of the groups their rules name as remote groups, by id. */
export async function securityGroupSpecs(
  core: NetworkCore,
  ids: string[],
): Promise<Map<string, SecurityGroupSpec>> {
  const rules = await rulesOf(core, ids);
  const remote = [...rules.values()].flat().flatMap((r) => (r.remote_group_id ? [r.remote_group_id] : []));
  const all = [...new Set([...ids, ...remote])];
  const [groups, allRules, members] = await Promise.all([
    groupsByIds(core, all),
    rulesOf(core, all),
    groupMembers(core, all),
  ]);
  const out = new Map<string, SecurityGroupSpec>();
  for (const [id, g] of groups)
    out.set(id, {
      id,
      stateful: Number(g.stateful) === 1,
      rules: (allRules.get(id) ?? []).map((r) => ({
        id: r.id,
        direction: r.direction as "ingress" | "egress",
        ethertype: r.ethertype as "IPv4" | "IPv6",
        protocol: r.protocol,
        portRangeMin: r.port_range_min === null ? null : Number(r.port_range_min),
        portRangeMax: r.port_range_max === null ? null : Number(r.port_range_max),
        remoteIpPrefix: normalizedCidr(r.remote_ip_prefix),
        remoteGroupId: r.remote_group_id,
      })),
      members: members.get(id) ?? [],
    });
  return out;
}
