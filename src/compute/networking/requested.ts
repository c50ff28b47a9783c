// Server create's `networks`, validated as Nova's API validates them against Neutron (validate_networks), on the
// user's behalf: explicit networks, ports and fixed IPs must be visible to the caller; "auto" and the pre-2.37
// default take the project's only usable network (its own or a shared one), refuse several (NetworkAmbiguous).
import { isIP } from "node:net";
import type { ComputeCore } from "../core.js";
import { ApiError } from "../../shared/http/errors.js";
import { badRequest, conflict, forbidden } from "../errors.js";
import type { RequestedNic } from "../instances/store.js";
import { NetworkRefused, type NetNetwork, type NetworkClient } from "../network-client.js";

/** What the validation needs of the caller. */
export interface NicCaller {
  projectId: string;
  token?: string;
  admin: boolean;
}

/** Networks a project may boot on without naming one (Nova's _get_available_networks). */
export async function availableNetworks(net: NetworkClient, caller: NicCaller): Promise<NetNetwork[]> {
  const as = { token: caller.token };
  const own = await net.listNetworks(
    `project_id=${encodeURIComponent(caller.projectId)}&shared=false&admin_state_up=true`,
    as,
  );
  const shared = await net.listNetworks("shared=true&admin_state_up=true", as);
  const seen = new Set<string>();
  return [...own, ...shared].filter((n) => !seen.has(n.id) && seen.add(n.id));
}

async function visibleNetwork(net: NetworkClient, id: string, caller: NicCaller): Promise<NetNetwork> {
  try {
    return await net.showNetwork(id, { token: caller.token });
  } catch (e) {
    if (e instanceof NetworkRefused && e.status === 404)
      throw badRequest(`Network ${id} could not be found.`);
    throw e;
  }
}

function checkExternal(n: NetNetwork, caller: NicCaller): void {
  if (n["router:external"] && !n.shared && !caller.admin)
    throw forbidden(`It is not allowed to create an interface on external network ${n.id}`);
}

async function explicitNic(
  net: NetworkClient,
  req: Record<string, string>,
  caller: NicCaller,
  maxCount: number,
): Promise<RequestedNic> {
  const tag = req.tag;
  if (req.port !== undefined) {
    if (typeof req.port !== "string") throw badRequest("Invalid input for field/attribute port.");
    if (maxCount > 1)
      throw badRequest("Unable to launch multiple instances with a single configured port ID.");
    const port = await net.showPort(req.port, { token: caller.token }).catch((e: unknown) => {
      if (e instanceof NetworkRefused && e.status === 404)
        throw badRequest(`Port id ${req.port} could not be found.`);
      throw e;
    });
    if (port.device_id) throw conflict(`Port ${port.id} is still in use.`);
    return { networkId: port.network_id, portId: port.id, tag };
  }
  if (typeof req.uuid !== "string" || req.uuid === "")
    throw badRequest("Bad network format: network uuid is not in proper format ()");
  const n = await visibleNetwork(net, req.uuid, caller);
  checkExternal(n, caller);
  if (req.fixed_ip === undefined) return { networkId: n.id, tag };
  if (typeof req.fixed_ip !== "string" || !isIP(req.fixed_ip))
    throw badRequest(`Invalid fixed IP address (${String(req.fixed_ip)})`);
  if (maxCount > 1) throw badRequest("max_count cannot be greater than 1 if an fixed_ip is specified.");
  const taken = await net.listPorts(
    `network_id=${encodeURIComponent(n.id)}&fixed_ips=ip_address%3D${encodeURIComponent(req.fixed_ip)}`,
  );
  if (taken.length > 0) throw badRequest(`Fixed IP address ${req.fixed_ip} is already in use.`);
  return { networkId: n.id, fixedIp: req.fixed_ip, tag };
}

/**
 * Resolve a create request's `networks` to the NICs the conductor will make ports for. `implicit` is the pre-2.37
 * request that named no networks (any number of available networks but one is fine there only when it is zero).
 */
export async function resolveNics(
  core: ComputeCore,
  networks: "auto" | "none" | Array<Record<string, string>>,
  caller: NicCaller,
  opts: { implicit: boolean; maxCount: number },
): Promise<RequestedNic[]> {
  const net = core.neutron;
  if (networks === "none") return [];
  if (!net) {
    if (Array.isArray(networks) && networks.length > 0)
      throw badRequest(`Network ${networks[0].uuid ?? networks[0].port ?? ""} could not be found.`);
    return [];
  }
  try {
    if (Array.isArray(networks) && networks.length > 0) {
      const out: RequestedNic[] = [];
      for (const r of networks) out.push(await explicitNic(net, r, caller, opts.maxCount));
      const ports = out.filter((n) => n.portId).map((n) => n.portId);
      if (new Set(ports).size !== ports.length) throw badRequest("Port id is duplicated in the request.");
      return out;
    }
    const nets = (await availableNetworks(net, caller)).filter(
      (n) => caller.admin || !n["router:external"] || n.shared,
    );
    if (nets.length > 1)
      throw conflict("Multiple possible networks found, use a Network ID to be more specific.");
    if (nets.length === 1) return [{ networkId: nets[0].id }];
    if (!opts.implicit)
      throw badRequest(`Unable to automatically allocate a network for project ${caller.projectId}`);
    return [];
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e instanceof NetworkRefused) throw badRequest(e.message);
    throw e;
  }
}
