// Nova's security group proxy over the network service (Nova's neutron security_group_api): groups and their
// ingress rules in Nova's format (from_port/to_port, ip_protocol, ip_range or group), writes turned into Neutron
// calls made with the caller's token (so the network service's own policy and project isolation apply), and
// Neutron's errors turned into Nova's (404 SecurityGroupNotFound, 400 for an invalid rule, a duplicate or a
// group in use, 403 over quota).
import type { ServiceClient } from "../../../shared/client/service-client.js";
import { ApiError } from "../../../shared/http/errors.js";
import { badRequest, forbidden, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";

type Json = Record<string, any>;

/** A Neutron call on the caller's behalf; Nova's error for a refusal (`missing`: the 404 to answer). */
export async function neutron(
  net: ServiceClient,
  ctx: Ctx,
  method: string,
  path: string,
  missing: () => ApiError,
  body?: unknown,
): Promise<Json> {
  const res = await net.request(method, `/v2.0${path}`, {
    token: ctx.auth?.token,
    ...(body === undefined ? {} : { body }),
  });
  if (res.status < 300) return (res.body ?? {}) as Json;
  const err = (res.body as Json | undefined)?.NeutronError as { type?: string; message?: string } | undefined;
  const msg = err?.message ?? `network service answered ${res.status}`;
  if (res.status === 404) throw missing();
  if (res.status === 409 && err?.type === "OverQuota")
    throw forbidden("Quota exceeded, too many security groups.");
  if (res.status === 409 && err?.type === "SecurityGroupRuleExists")
    throw badRequest(
      `This rule already exists in group ${String((body as Json)?.security_group_rule?.security_group_id ?? "")}`,
    );
  if (res.status === 403) throw forbidden(msg);
  if (res.status === 400 || res.status === 409) throw badRequest(msg);
  throw new ApiError(res.status >= 500 ? 502 : res.status, msg);
}

/** 404 as Nova's SecurityGroupNotFound. */
export const groupMissing = (id: string) => () => notFound(`Security group ${id} not found.`);

/** A Neutron rule in Nova's format (from_port/to_port -1 or the full range when Neutron has none). */
export function novaRule(r: Json, names: Map<string, Json>): Json {
  const proto = r.protocol as string | null;
  const wide = proto !== null && ["tcp", "udp"].includes(proto.toLowerCase());
  const from = r.port_range_min ?? (proto === null ? null : wide ? 1 : -1);
  const to = r.port_range_max ?? (proto === null ? null : wide ? 65535 : -1);
  const remote = r.remote_group_id ? names.get(r.remote_group_id) : undefined;
  return {
    id: r.id,
    parent_group_id: r.security_group_id,
    ip_protocol: proto,
    from_port: from,
    to_port: to,
    group: r.remote_group_id ? { name: remote?.name ?? null, tenant_id: remote?.tenant_id ?? null } : {},
    ip_range: r.remote_group_id
      ? {}
      : { cidr: r.remote_ip_prefix ?? (r.ethertype === "IPv6" ? "::/0" : "0.0.0.0/0") },
  };
}

/** A Neutron group in Nova's format: ingress rules only, as Nova shows them. */
export function novaGroup(g: Json, names: Map<string, Json>): Json {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.tenant_id ?? g.project_id,
    rules: (g.security_group_rules as Json[])
      .filter((r) => r.direction === "ingress")
      .map((r) => novaRule(r, names)),
  };
}

/** The groups the caller sees, by id (to name the remote groups of rules). */
export async function groupsById(net: ServiceClient, ctx: Ctx): Promise<Map<string, Json>> {
  const all = (await neutron(net, ctx, "GET", "/security-groups", groupMissing("")))
    .security_groups as Json[];
  return new Map(all.map((g) => [g.id as string, g]));
}

const int = (v: unknown, what: string): number | null => {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw badRequest(`Invalid port range ${String(v)}: ${what} must be an integer.`);
  return n;
};

/** Nova's rule arguments as a Neutron rule (ingress; 0.0.0.0/0 when neither a prefix nor a group is given). */
export function neutronRule(r: Json): Json {
  const proto =
    r.ip_protocol === undefined || r.ip_protocol === null ? null : String(r.ip_protocol).toLowerCase();
  let from = int(r.from_port, "from_port");
  let to = int(r.to_port, "to_port");
  if (proto === null && (from !== null || to !== null)) throw badRequest("Invalid IP protocol None.");
  if (proto === "tcp" || proto === "udp") {
    if (from === null || to === null || from < 1 || to > 65535 || from > to)
      throw badRequest(
        `Invalid port range ${String(from)}:${String(to)}. Valid TCP ports should be between 1-65535`,
      );
  } else if (proto === "icmp") {
    if (from === -1) from = null;
    if (to === -1) to = null;
  }
  const cidr = r.cidr === undefined || r.cidr === null || r.cidr === "" ? null : String(r.cidr);
  const group =
    r.group_id === undefined || r.group_id === null || r.group_id === "" ? null : String(r.group_id);
  if (cidr && group) throw badRequest("Not enough parameters: both cidr and group_id given.");
  const prefix = group ? null : (cidr ?? "0.0.0.0/0");
  return {
    security_group_id: String(r.parent_group_id),
    direction: "ingress",
    ethertype: prefix?.includes(":") ? "IPv6" : "IPv4",
    protocol: proto,
    port_range_min: from,
    port_range_max: to,
    remote_ip_prefix: prefix,
    remote_group_id: group,
  };
}

/**
 * Add a group (by name or id, among the caller's project's groups) to every port of a server, or remove it, as
 * Nova's add_to_instance/remove_from_instance do: 404 for an unknown group or a server without ports, 409 for an
 * ambiguous name, 400 when removing a group the server does not have.
 */
export async function changeServerGroups(
  net: ServiceClient,
  ctx: Ctx,
  serverId: string,
  name: string,
  add: boolean,
): Promise<{ id: string; name: string }> {
  const groups = [...(await groupsById(net, ctx)).values()].filter(
    (g) => (g.id === name || g.name === name) && g.tenant_id === ctx.auth?.projectId,
  );
  if (!groups.length)
    throw notFound(`Security group ${name} is not found for project ${ctx.auth?.projectId ?? ""}`);
  if (groups.length > 1)
    throw new ApiError(
      409,
      `Multiple security groups found matching '${name}'. Use an ID to be more specific.`,
    );
  const gid = groups[0].id as string;
  const ports = (
    await neutron(net, ctx, "GET", `/ports?device_id=${encodeURIComponent(serverId)}`, groupMissing(name))
  ).ports as Json[];
  if (!ports.length) throw notFound(`instance_id ${serverId} could not be found as device id on any ports`);
  if (!add && !ports.some((p) => (p.security_groups as string[]).includes(gid)))
    throw badRequest(`Security group ${name} not associated with the instance ${serverId}`);
  for (const p of ports) {
    const now = p.security_groups as string[];
    const next = add ? [...new Set([...now, gid])] : now.filter((g) => g !== gid);
    if (next.length === now.length && next.every((g, i) => g === now[i])) continue;
    await neutron(net, ctx, "PUT", `/ports/${encodeURIComponent(p.id as string)}`, groupMissing(name), {
      port: { security_groups: next },
    });
  }
  return { id: gid, name: groups[0].name as string };
}
