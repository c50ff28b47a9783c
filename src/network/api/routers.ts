// /v2.0/routers: list, create, show, update (gateway, routes), delete, and add/remove_router_interface. Who may
// set what is the policy's: members manage their routers; the gateway's enable_snat and external_fixed_ips,
// distributed and ha are admins'.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { NetworkCore } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import {
  addInterfaceByPort,
  addInterfaceBySubnet,
  createRouter,
  deleteRouter,
  removeInterface,
  updateRouter,
  type GatewayInput,
  type RouterInput,
} from "../routers.js";
import { getNetwork, networkVisible } from "../store/networks.js";
import { getPort, type Port } from "../store/ports.js";
import { getRouter, listRouters, type Router, type RouterRoute } from "../store/routers.js";
import { tagsFor } from "../store/tags.js";
import {
  bodyItem,
  parseCreate,
  parseUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, isoTime, stripGuarded, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { agentZones } from "./network-view.js";
import { loadPort } from "./port-view.js";
import { loadSubnet } from "./subnets.js";
import { bool, cidr, ip, listOf, listOrNone, record, str, uuid, type Validator } from "./validators.js";
import { Type } from "@sinclair/typebox";
import { canonicalIp } from "../ipam/addr.js";

const gatewayInfo: Validator<GatewayInput | null> = (v, attr) => {
  // null or {} clears the gateway (Neutron's dict_or_nodata; the openstack CLI's router unset sends {}).
  if (v === null || (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)) return null;
  const r = record(v, attr, ["network_id", "enable_snat", "external_fixed_ips"], ["network_id"]);
  const out: GatewayInput = { network_id: uuid(r.get("network_id"), attr) };
  if (r.has("enable_snat")) out.enable_snat = bool(r.get("enable_snat"), attr);
  if (r.has("external_fixed_ips"))
    out.external_fixed_ips = listOf((x, a) => {
      const f = record(x, a, ["subnet_id", "ip_address"]);
      return {
        ...(f.has("subnet_id") ? { subnet_id: uuid(f.get("subnet_id"), a) } : {}),
        ...(f.has("ip_address") ? { ip_address: ip(f.get("ip_address"), a) } : {}),
      };
    })(r.get("external_fixed_ips"), attr);
  return out;
};
const routeItem: Validator<RouterRoute> = (v, attr) => {
  const r = record(v, attr, ["destination", "nexthop"], ["destination", "nexthop"]);
  return { destination: cidr(r.get("destination"), attr), nexthop: canonicalIp(ip(r.get("nexthop"), attr))! };
};
/** 400 for distributed or ha routers (neither is supported; both stay false). */
function onlyLegacy(p: Parsed): void {
  for (const a of ["distributed", "ha"])
    if (p.values.get(a) === true)
      throw badRequest(`Invalid input for operation: ${a} routers are not supported by this cloud.`);
}

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: true, put: true, parse: str(255) }],
  ["description", { post: true, put: true, parse: str(255) }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["admin_state_up", { post: true, put: true, parse: bool }],
  ["status", { post: false, put: false, parse: str(16) }],
  ["external_gateway_info", { post: true, put: true, parse: gatewayInfo }],
  ["routes", { post: false, put: true, parse: listOrNone(routeItem, { unique: true }) }],
  ["distributed", { post: true, put: true, parse: bool, def: false, policy: true }],
  ["ha", { post: true, put: true, parse: bool, def: false, policy: true }],
  ["availability_zone_hints", { post: true, put: false, parse: listOf(str(255), { unique: true }) }],
]);

const LIST: ListSpec = {
  collection: "routers",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["admin_state_up", "bool"],
    ["status", "string"],
    ["revision_number", "int"],
    ["distributed", "bool"],
    ["ha", "bool"],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "status",
    "admin_state_up",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
  ]),
  markerNotFound: (id) => notFound("router", id),
};

/** The policy target of a router. */
const routerTarget = (r: Pick<Router, "project_id">): Target => ({
  project_id: r.project_id,
  tenant_id: r.project_id,
});

/** The router body as Neutron shows it. */
async function routerViews(
  ctx: Ctx,
  core: NetworkCore,
  routers: Router[],
): Promise<Record<string, unknown>[]> {
  const tags = await tagsFor(
    core,
    "routers",
    routers.map((r) => r.id),
  );
  const out: Record<string, unknown>[] = [];
  for (const r of routers) {
    const gw: Port | null = r.gw_port_id ? await getPort(core, r.gw_port_id) : null;
    const view: Record<string, unknown> = {
      id: r.id,
      name: r.name,
      description: r.description,
      tenant_id: r.project_id,
      project_id: r.project_id,
      admin_state_up: r.admin_state_up,
      status: r.status,
      external_gateway_info: gw
        ? {
            network_id: gw.network_id,
            enable_snat: r.enable_snat,
            external_fixed_ips: gw.fixed_ips.map((f) => ({
              subnet_id: f.subnet_id,
              ip_address: f.ip_address,
            })),
          }
        : null,
      routes: r.routes,
      distributed: false,
      ha: false,
      availability_zone_hints: r.availability_zone_hints,
      availability_zones: [],
      flavor_id: null,
      tags: tags.get(r.id) ?? [],
      created_at: isoTime(r.created_at),
      updated_at: isoTime(r.updated_at),
      revision_number: r.revision_number,
    };
    out.push(stripGuarded(ctx, view, "get_router", ["distributed", "ha"], routerTarget(r)));
  }
  return out;
}

/** A router the caller may see (404 otherwise), with `rule` enforced on it. */
export async function loadRouter(ctx: Ctx, core: NetworkCore, id: string, rule = "get_router") {
  const router = await getRouter(core, id);
  if (!router) throw notFound("router", id);
  const target = routerTarget(router);
  enforceOn(ctx, rule, "get_router", target, notFound("router", id));
  return { router, target };
}

/** The gateway's attribute rules (`external_gateway_info`, and its network_id/enable_snat/external_fixed_ips). */
function gatewayRules(gw: GatewayInput | null | undefined): string[] {
  if (gw === undefined) return [];
  const out = ["external_gateway_info"];
  if (gw === null) return out;
  out.push("external_gateway_info:network_id");
  if (gw.enable_snat !== undefined) out.push("external_gateway_info:enable_snat");
  if (gw.external_fixed_ips !== undefined) out.push("external_gateway_info:external_fixed_ips");
  return out;
}

/** The gateway's external network, visible to the caller (404 otherwise). */
async function checkGatewayNet(
  ctx: Ctx,
  core: NetworkCore,
  gw: GatewayInput | null | undefined,
): Promise<void> {
  if (!gw) return;
  const net = await getNetwork(core, gw.network_id);
  if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", gw.network_id);
}

function inputOf(p: Parsed): RouterInput {
  const get = <T>(k: string) => (p.values.has(k) ? (p.values.get(k) as T) : undefined);
  return {
    name: get("name"),
    description: get("description"),
    admin_state_up: get("admin_state_up"),
    gateway: get("external_gateway_info"),
    routes: get("routes"),
    availability_zone_hints: get("availability_zone_hints"),
  };
}

const interfaceBody = Type.Object({}, { additionalProperties: true });

/** The subnet_id/port_id of an interface request (at least one; both only on removal). */
function interfaceRequest(body: unknown, removal: boolean): { subnet_id?: string; port_id?: string } {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw badRequest("Bad router request: Either subnet_id or port_id must be specified.");
  const r = record(body, "router_interface", ["subnet_id", "port_id"]);
  const out: { subnet_id?: string; port_id?: string } = {};
  if (r.has("subnet_id")) out.subnet_id = uuid(r.get("subnet_id"), "subnet_id");
  if (r.has("port_id")) out.port_id = uuid(r.get("port_id"), "port_id");
  if (out.subnet_id === undefined && out.port_id === undefined)
    throw badRequest("Bad router request: Either subnet_id or port_id must be specified.");
  if (!removal && out.subnet_id !== undefined && out.port_id !== undefined)
    throw badRequest("Bad router request: Cannot specify both subnet-id and port-id.");
  return out;
}

/** Routes of /v2.0/routers. */
export function routerRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/routers",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const routers = (await listRouters(core, callerOf(ctx))).filter((r) =>
          ctx.allowed("get_router", routerTarget(r)),
        );
        return listResponse(ctx, LIST, await routerViews(ctx, core, routers));
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/routers",
      policy: null,
      auth: "required",
      body: resourceBody("router"),
      handler: async (ctx) => {
        const p = parseCreate(bodyItem(ctx.body, "router"), ATTRS);
        const project = projectOf(p, callerOf(ctx).projectId);
        const gw = val<GatewayInput | null | undefined>(p, "external_gateway_info");
        const attrs = [...gatewayRules(gw)];
        for (const a of ["distributed", "ha"]) if (p.given.has(a)) attrs.push(a);
        enforceWrite(ctx, "create_router", attrs, routerTarget({ project_id: project }));
        onlyLegacy(p);
        await checkGatewayNet(ctx, core, gw);
        const hints = val<string[] | undefined>(p, "availability_zone_hints") ?? [];
        const zones = new Set(await agentZones(core));
        for (const h of hints) if (!zones.has(h)) throw notFound("availability_zone", h);
        const router = await createRouter(core, project, { ...inputOf(p), gateway: gw ?? undefined });
        const [view] = await routerViews(ctx, core, [router]);
        return reply(201, { router: view });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/routers/:router_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { router } = await loadRouter(ctx, core, ctx.params.router_id);
        const [view] = await routerViews(ctx, core, [router]);
        return { router: selectFields(view, fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/routers/:router_id",
      policy: null,
      auth: "required",
      body: resourceBody("router"),
      handler: async (ctx) => {
        const { router, target } = await loadRouter(ctx, core, ctx.params.router_id, "update_router");
        const p = parseUpdate(bodyItem(ctx.body, "router"), ATTRS);
        const gw = val<GatewayInput | null | undefined>(p, "external_gateway_info");
        const attrs = [...gatewayRules(gw)];
        for (const a of ["distributed", "ha"]) if (p.given.has(a)) attrs.push(a);
        enforceWrite(ctx, "update_router", attrs, target);
        onlyLegacy(p);
        await checkGatewayNet(ctx, core, gw);
        const updated = await updateRouter(core, router, inputOf(p));
        const [view] = await routerViews(ctx, core, [updated]);
        return { router: view };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/routers/:router_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { router } = await loadRouter(ctx, core, ctx.params.router_id, "delete_router");
        await deleteRouter(core, router);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/routers/:router_id/add_router_interface",
      policy: null,
      auth: "required",
      body: interfaceBody,
      handler: async (ctx) => {
        const { router } = await loadRouter(ctx, core, ctx.params.router_id, "add_router_interface");
        const by = interfaceRequest(ctx.body, false);
        if (by.port_id !== undefined) {
          const { port } = await loadPort(ctx, core, by.port_id, "update_port");
          return addInterfaceByPort(core, router, port);
        }
        const { subnet } = await loadSubnet(ctx, core, by.subnet_id as string);
        return addInterfaceBySubnet(core, router, subnet);
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/routers/:router_id/remove_router_interface",
      policy: null,
      auth: "required",
      body: interfaceBody,
      handler: async (ctx) => {
        const { router } = await loadRouter(ctx, core, ctx.params.router_id, "remove_router_interface");
        return removeInterface(core, router, interfaceRequest(ctx.body, true));
      },
    }),
  ];
}
