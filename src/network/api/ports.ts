// /v2.0/ports: list (with Neutron's fixed_ips filters), create (one or bulk), show, update, delete. Who may set
// what is the policy's (MAC, addresses, port security and address pairs: the network's owner or an admin; binding
// host and profile: admins); IPAM, MACs, groups and binding are port-write.ts's.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { parseDhcpOpt } from "../dhcp-opts.js";
import { nerr, notFound } from "../errors.js";
import { createPorts, deletePort, updatePort, type PortInput } from "../port-write.js";
import type { IpRequest } from "../port-addresses.js";
import { getNetwork, networkVisible, type Network } from "../store/networks.js";
import { listPorts, type Port } from "../store/ports.js";
import { grants, rbacFor } from "../store/rbac.js";
import {
  bodyItem,
  bodyItems,
  parseCreate,
  parseUpdate,
  policyAttrsOnCreate,
  policyAttrsOnUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceWrite, isService, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { loadPort, portTarget, portViews } from "./port-view.js";
import {
  bool,
  dict,
  ip,
  ipOrCidr,
  listOf,
  mac,
  oneOf,
  record,
  str,
  uuid,
  type Validator,
} from "./validators.js";

/** VNIC types Neutron knows (ports and their bindings). */
export const VNIC_TYPES = [
  "normal",
  "direct",
  "macvtap",
  "baremetal",
  "direct-physical",
  "virtio-forwarder",
  "smart-nic",
  "vdpa",
  "accelerator-direct",
  "accelerator-direct-physical",
  "remote-managed",
] as const;

const fixedIp: Validator<IpRequest> = (v, attr) => {
  const r = record(v, attr, ["subnet_id", "ip_address"]);
  const out: IpRequest = {};
  if (r.has("subnet_id")) out.subnet_id = uuid(r.get("subnet_id"), attr);
  if (r.has("ip_address")) out.ip_address = ip(r.get("ip_address"), attr);
  return out;
};
const pair: Validator<{ ip_address: string; mac_address?: string }> = (v, attr) => {
  const r = record(v, attr, ["ip_address", "mac_address"], ["ip_address"]);
  const out: { ip_address: string; mac_address?: string } = {
    ip_address: ipOrCidr(r.get("ip_address"), attr),
  };
  if (r.has("mac_address") && r.get("mac_address") !== null)
    out.mac_address = mac(r.get("mac_address"), attr);
  return out;
};
const dhcpOpts: Validator<ReturnType<typeof parseDhcpOpt>[]> = (v, attr) => {
  if (v === null) return [];
  return listOf((x) => parseDhcpOpt(x))(v, attr);
};

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: true, put: true, parse: str(255) }],
  ["description", { post: true, put: true, parse: str(255) }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["network_id", { post: "required", put: false, parse: uuid }],
  ["admin_state_up", { post: true, put: true, parse: bool }],
  ["mac_address", { post: true, put: true, parse: mac, policy: true }],
  ["fixed_ips", { post: true, put: true, parse: listOf(fixedIp) }],
  ["device_id", { post: true, put: true, parse: str(255) }],
  ["device_owner", { post: true, put: true, parse: str(255), def: "", policy: true }],
  ["status", { post: false, put: false, parse: str(16) }],
  ["security_groups", { post: true, put: true, parse: listOf(uuid) }],
  ["port_security_enabled", { post: true, put: true, parse: bool, policy: true }],
  ["allowed_address_pairs", { post: true, put: true, parse: listOf(pair), policy: true }],
  ["extra_dhcp_opts", { post: true, put: true, parse: dhcpOpts }],
  ["binding:host_id", { post: true, put: true, parse: str(255), policy: true }],
  [
    "binding:profile",
    { post: true, put: true, parse: (v, a) => (v === null ? {} : dict(v, a)), policy: true },
  ],
  ["binding:vnic_type", { post: true, put: true, parse: oneOf(VNIC_TYPES), policy: true }],
  ["binding:vif_type", { post: false, put: false, parse: str() }],
  ["binding:vif_details", { post: false, put: false, parse: str() }],
]);

/** Neutron's fixed_ips filter: ip_address=, subnet_id= (and ip_address_substr=) entries, any of them matching. */
function fixedIpsFilter(view: Record<string, unknown>, values: string[]): boolean {
  const ips = view.fixed_ips as Array<{ subnet_id: string; ip_address: string }>;
  return values.some((v) => {
    const eq = v.indexOf("=");
    const key = v.slice(0, eq);
    const want = v.slice(eq + 1);
    if (key === "ip_address") return ips.some((f) => f.ip_address === want);
    if (key === "subnet_id") return ips.some((f) => f.subnet_id === want);
    if (key === "ip_address_substr") return ips.some((f) => f.ip_address.includes(want));
    return false;
  });
}

const LIST: ListSpec = {
  collection: "ports",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["network_id", "string"],
    ["mac_address", "string"],
    ["admin_state_up", "bool"],
    ["status", "string"],
    ["device_id", "string"],
    ["device_owner", "string"],
    ["port_security_enabled", "bool"],
    ["revision_number", "int"],
    ["binding:host_id", "string"],
    ["binding:vif_type", "string"],
    ["binding:vnic_type", "string"],
    ["fixed_ips", fixedIpsFilter],
    ["security_groups", (v, vals) => vals.some((x) => (v.security_groups as string[]).includes(x))],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "network_id",
    "mac_address",
    "status",
    "device_id",
    "device_owner",
    "admin_state_up",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => notFound("port", id),
};

/** The input of a create or update from a parsed body. */
function inputOf(p: Parsed): PortInput {
  const get = <T>(k: string) => (p.values.has(k) ? (p.values.get(k) as T) : undefined);
  const profile = get<Record<string, unknown>>("binding:profile");
  return {
    name: get("name"),
    description: get("description"),
    admin_state_up: get("admin_state_up"),
    mac_address: get("mac_address"),
    fixed_ips: get("fixed_ips"),
    device_id: get("device_id"),
    device_owner: get("device_owner"),
    security_groups: get("security_groups"),
    port_security_enabled: get("port_security_enabled"),
    allowed_address_pairs: get("allowed_address_pairs"),
    extra_dhcp_opts: get("extra_dhcp_opts"),
    binding_host_id: get("binding:host_id"),
    binding_profile: profile,
    binding_vnic_type: get("binding:vnic_type"),
  };
}

/** The fixed_ips sub-rules a request triggers (choosing an address, choosing a subnet). */
function fixedIpRules(p: Parsed): string[] {
  const ips = (p.values.get("fixed_ips") as IpRequest[] | undefined) ?? [];
  const out: string[] = [];
  if (ips.some((f) => f.ip_address !== undefined)) out.push("fixed_ips:ip_address");
  if (ips.some((f) => f.subnet_id !== undefined)) out.push("fixed_ips:subnet_id");
  return out;
}

/** The network of a new port: visible, and (for others than admins and service users) the port's project's own
 * or shared with it; else 404. */
async function networkForPort(
  ctx: Ctx,
  core: NetworkCore,
  id: string,
  project: string,
): Promise<{ net: Network; shared: boolean }> {
  const caller = callerOf(ctx);
  const net = await getNetwork(core, id);
  if (!net || !(await networkVisible(core, net, caller))) throw notFound("network", id);
  const shared = grants((await rbacFor(core, "network", [id])).get(id) ?? [], "access_as_shared", project);
  // Neutron hides a network a project may see (an external one) but not put ports on; compute's service user puts
  // a server's ports on any network its project may use (the API checked that on the user's behalf).
  if (!caller.isAdmin && !isService(ctx) && !shared && net.project_id !== project)
    throw nerr(404, "HTTPNotFound", "The resource could not be found.");
  return { net, shared };
}

/** Routes of /v2.0/ports. */
export function portRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/ports",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        // Service users (compute's) find any project's ports (by device_id); get_port lets them read each.
        const ports = await listPorts(core, callerOf(ctx));
        const views = (await portViews(ctx, core, ports))
          .filter(({ target }) => ctx.allowed("get_port", target))
          .map(({ view }) => view);
        return listResponse(ctx, LIST, views);
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/ports",
      policy: null,
      auth: "required",
      body: resourceBody("port", "ports"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "ports");
        const items = bodyItems(ctx.body, "port", "ports").map((item) => parseCreate(item, ATTRS));
        const plans: Array<{ p: Parsed; project: string; net: Network }> = [];
        for (const p of items) {
          const project = projectOf(p, caller.projectId);
          const { net, shared } = await networkForPort(ctx, core, val(p, "network_id"), project);
          const target = portTarget(
            { project_id: project, network_id: net.id, device_owner: val(p, "device_owner") },
            net.project_id,
            shared,
          );
          enforceWrite(ctx, "create_port", [...policyAttrsOnCreate(p, ATTRS), ...fixedIpRules(p)], target);
          plans.push({ p, project, net });
        }
        const byProject = new Map<string, Array<{ input: PortInput; net: Network }>>();
        for (const { p, project, net } of plans)
          byProject.set(project, [...(byProject.get(project) ?? []), { input: inputOf(p), net }]);
        const created: Port[] = [];
        // Every port of a project's bulk create, or none.
        for (const [project, items] of byProject) created.push(...(await createPorts(core, project, items)));
        const views = (await portViews(ctx, core, created)).map(({ view }) => view);
        return reply(201, bulk ? { ports: views } : { port: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/ports/:port_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { view } = await loadPort(ctx, core, ctx.params.port_id);
        return { port: selectFields(view, fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/ports/:port_id",
      policy: null,
      auth: "required",
      body: resourceBody("port"),
      handler: async (ctx) => {
        const { port, target } = await loadPort(ctx, core, ctx.params.port_id, "update_port");
        const p = parseUpdate(bodyItem(ctx.body, "port"), ATTRS);
        const owner = val<string | undefined>(p, "device_owner");
        const newTarget =
          owner === undefined
            ? target
            : { ...target, device_owner: owner, network_device: owner.startsWith("network:") };
        enforceWrite(ctx, "update_port", [...policyAttrsOnUpdate(p, ATTRS), ...fixedIpRules(p)], newTarget);
        const updated = await updatePort(core, port, inputOf(p));
        const [one] = await portViews(ctx, core, [updated]);
        return { port: one.view };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/ports/:port_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { port } = await loadPort(ctx, core, ctx.params.port_id, "delete_port");
        await deletePort(core, port);
        return noContent();
      },
    }),
  ];
}
